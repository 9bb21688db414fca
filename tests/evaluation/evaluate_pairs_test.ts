import assert from "node:assert/strict";
import { WorkerPool } from "../../workers/pool.ts";
import { BUILTIN_MODELS } from "../../models/registry.ts";
import { DEFAULT_LOCALIZER } from "../../core/localizer_options.ts";
import { readPfWillow } from "../../datasets/pf_willow.ts";
import { evaluatePairs, type EvaluationOptions } from "../../evaluation/evaluate_pairs.ts";
import { evaluationReport } from "../../evaluation/report.ts";
import { mergeReports } from "../../evaluation/merge_reports.ts";
import type { DatasetSlice } from "../../datasets/types.ts";

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
    limits: { maxBytes: 2e7, maxPixels: 4e7 },
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
