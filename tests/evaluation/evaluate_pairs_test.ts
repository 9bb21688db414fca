import assert from "node:assert/strict";
import { WorkerPool } from "../../workers/pool.ts";
import { BUILTIN_MODELS } from "../../models/registry.ts";
import { DEFAULT_LOCALIZER } from "../../core/localizer_options.ts";
import { readPfWillow } from "../../datasets/pf_willow.ts";
import { evaluatePairs, type EvaluationOptions } from "../../evaluation/evaluate_pairs.ts";
import { evaluationReport } from "../../evaluation/report.ts";
import { mergeReports } from "../../evaluation/merge_reports.ts";
import type { DatasetSlice } from "../../datasets/types.ts";
import { CRASH_ONCE_FILE_ENV } from "../workers/fixtures/fault_triggers.ts";

const ROOT = new URL("../../../shared/data/pf-willow", import.meta.url).pathname;

Deno.test("evaluatePairs() scores SPair difficulty levels from the same per-pair results, and they merge exactly", async () => {
  const willow = await readPfWillow(ROOT);
  // PF-WILLOW pairs dressed with SPair-style flags: levels cycle so each has pairs.
  const pairs = willow.pairs.slice(0, 12).map((p, i) => ({
    ...p,
    difficulty: {
      viewpoint_variation: i % 3,
      scale_variation: i % 2,
      truncation: 0,
      occlusion: i % 4,
      mirror: 0,
    },
  }));
  const slice: DatasetSlice = { ...willow, pairs };
  const model = { descriptor: BUILTIN_MODELS.dsift };
  const pool = new WorkerPool({ size: 1 });
  await pool.start(model);
  const options: EvaluationOptions = {
    model,
    resolution: 256,
    resize: "stretch",
    resample: "torch",
    localizer: DEFAULT_LOCALIZER,
    alphas: [0.1],
    frames: ["original"],
    comparison: "<=",
    returnPredictions: true,
  };
  const context = (s: DatasetSlice) => ({
    slice: s,
    request: {
      by: "image" as const,
      alphas: [0.1],
      resize: "stretch" as const,
      resample: "torch" as const,
      comparison: "<=" as const,
    },
    model: "dsift",
    resolution: 256,
    localizer: DEFAULT_LOCALIZER,
    frames: ["original" as const],
    protocol: { dataset_options: { max_keypoints: 20 }, non_official: [] },
  });
  try {
    const whole = evaluationReport(await evaluatePairs(slice, pool, options), context(slice));
    const tables = whole.frames.original!.difficulty!;
    assert.deepEqual(Object.keys(tables).sort(), [
      "occlusion",
      "scale_variation",
      "truncation",
      "viewpoint_variation",
    ]);
    assert.deepEqual(Object.keys(tables.viewpoint_variation!).sort(), ["0", "1", "2"]);
    assert.equal(tables.truncation!["0"].pairs, 12);
    assert.equal(tables.truncation!["0"].per_image["0.1"], whole.pck!.per_image.all["0.1"]);
    // Level "1" of viewpoint: pairs 1, 4, 7, 10, re-scored from the predictions.
    let sum = 0;
    for (const i of [1, 4, 7, 10]) {
      const p = pairs[i];
      const pred = whole.predictions![i].pred;
      let c = 0;
      pred.forEach(([x, y], k) => {
        const d = Math.hypot(x - p.target_kps[2 * k], y - p.target_kps[2 * k + 1]);
        if (d <= 0.1 * p.threshold!) c++;
      });
      sum += c / pred.length;
    }
    assert.ok(Math.abs(tables.viewpoint_variation!["1"].per_image["0.1"]! - sum / 4) < 1e-12);

    const halves = [pairs.slice(0, 5), pairs.slice(5)].map((ps) => ({ ...slice, pairs: ps }));
    const parts = [];
    for (const h of halves) {
      parts.push(evaluationReport(await evaluatePairs(h, pool, options), context(h)));
    }
    const merged = mergeReports(parts);
    assert.deepEqual(merged.frames.original!.difficulty, tables);
    assert.deepEqual(merged.difficulty_sums, whole.difficulty_sums);
  } finally {
    await pool.dispose();
  }
});

const FAULTY = new URL("../workers/fixtures/faulty_worker.ts", import.meta.url);

/** Options of a quick dsift evaluation of PF-WILLOW pairs, predictions returned. */
function dsiftOptions(): EvaluationOptions {
  return {
    model: { descriptor: BUILTIN_MODELS.dsift },
    resolution: 256,
    resize: "stretch",
    resample: "torch",
    localizer: DEFAULT_LOCALIZER,
    alphas: [0.05, 0.1],
    frames: ["official", "original"],
    comparison: "<=",
    returnPredictions: true,
  };
}

async function willowSlice(count: number): Promise<DatasetSlice> {
  const willow = await readPfWillow(ROOT);
  return { ...willow, pairs: willow.pairs.slice(0, count) };
}

Deno.test("evaluatePairs() extracts each image once and predicts exactly what /v1/match's path does", async () => {
  const willow = await willowSlice(24);
  // Pairs of one point too: their single query row is scored alone, as /v1/match does.
  const slice = {
    ...willow,
    pairs: willow.pairs.map((p, i) =>
      i % 5
        ? p
        : { ...p, source_kps: p.source_kps.slice(0, 2), target_kps: p.target_kps.slice(0, 2) }
    ),
  };
  const options = dsiftOptions();
  const pool = new WorkerPool({ size: 2 });
  await pool.start(options.model);
  try {
    const out = await evaluatePairs(slice, pool, options);
    assert.equal(out.counters.extractions, out.counters.distinct_images);
    assert.equal(out.counters.matches, 24);
    // The one-shot path: both images decoded, extracted and matched in one job.
    for (const [i, pair] of slice.pairs.entries()) {
      const source = await Deno.readFile(`${ROOT}/${pair.source}`);
      const target = await Deno.readFile(`${ROOT}/${pair.target}`);
      const r = await pool.run("match", {
        source,
        target,
        points: pair.source_kps,
        model: options.model,
        resolution: options.resolution,
        resize: options.resize,
        resample: options.resample,
        localizer: options.localizer,
      });
      const expected = Array.from({ length: pair.source_kps.length / 2 }, (_, k) => [
        r.matches[3 * k],
        r.matches[3 * k + 1],
      ]);
      assert.deepEqual(out.predictions![i].pred, expected, pair.pair_id);
    }
  } finally {
    await pool.dispose();
  }
});

Deno.test("evaluatePairs() survives a worker that dies mid-evaluation: what it held is extracted again", async () => {
  const slice = await willowSlice(30);
  const options = dsiftOptions();
  const pool = new WorkerPool({ size: 2 });
  await pool.start(options.model);
  let clean;
  try {
    clean = await evaluatePairs(slice, pool, options);
  } finally {
    await pool.dispose();
  }
  const marker = await Deno.makeTempFile();
  Deno.env.set(CRASH_ONCE_FILE_ENV, marker);
  const faulty = new WorkerPool({ size: 2, workerUrl: FAULTY });
  try {
    await faulty.start(options.model);
    const out = await evaluatePairs(slice, faulty, options);
    assert.equal(faulty.stats().restarts, 1);
    assert.ok(
      out.counters.extractions > out.counters.distinct_images,
      `${out.counters.extractions} extractions of ${out.counters.distinct_images} images`,
    );
    assert.deepEqual(out.sums, clean.sums);
    assert.deepEqual(out.predictions, clean.predictions);
  } finally {
    Deno.env.delete(CRASH_ONCE_FILE_ENV);
    await Deno.remove(marker).catch(() => {});
    await faulty.dispose();
  }
});

Deno.test("evaluatePairs() extracts again what a small worker cache evicted, with the same result", async () => {
  const slice = await willowSlice(30);
  const options = dsiftOptions();
  const roomy = new WorkerPool({ size: 1 });
  const tight = new WorkerPool({ size: 1, featureCacheBytes: 3 * 2 ** 20 });
  try {
    await roomy.start(options.model);
    await tight.start(options.model);
    const expected = await evaluatePairs(slice, roomy, options);
    // A dsift grid at 256 is 512 KiB, twice that once normalized as a target: 3 MiB holds
    // one group of pairs (a target and its sources), not the 10 images of the slice.
    const out = await evaluatePairs(slice, tight, { ...options, concurrency: 1 });
    assert.ok(out.counters.extractions > out.counters.distinct_images);
    assert.deepEqual(out.sums, expected.sums);
    assert.deepEqual(out.predictions, expected.predictions);
  } finally {
    await roomy.dispose();
    await tight.dispose();
  }
});
