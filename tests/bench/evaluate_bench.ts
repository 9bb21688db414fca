/**
 * The evaluate path's figures, for `deno task bench` (or alone: `deno run -A
 * tests/bench/evaluate_bench.ts`):
 *
 * 1. PNG decoding per image on the PF-WILLOW files;
 * 2. matching one pair of 60x60x768 grids (ViT-B/14 at 840) with 20 points,
 *    as the evaluation does it: both grids resident in the worker, one
 *    `match_resident` call per pair;
 * 3. the 90-pair one-class PF-WILLOW evaluation with a random-weight
 *    ViT-S/14 (12 blocks) at 448, for several `WORKERS` x `ORT_THREADS`
 *    layouts: wall time, pairs/s and the worker time split into extract,
 *    match and the rest.
 *
 * `BENCH_EVAL_LAYOUTS` (e.g. `1x2,2x1`), `BENCH_BACKEND` (`native`, `wasm`;
 * default native where it loads) and `BENCH_EVAL_ROUNDS` (default 1) choose
 * what step 3 runs. Prints figures; asserts nothing.
 *
 * @module
 */

import { WorkerPool } from "../../workers/pool.ts";
import type { BackendName } from "../../workers/session.ts";
import { readPfWillow } from "../../datasets/pf_willow.ts";
import { evaluatePairs } from "../../evaluation/evaluate_pairs.ts";
import { DEFAULT_LOCALIZER } from "../../core/localizer_options.ts";
import { makeFrame } from "../../core/frame.ts";
import { buildTinyVitGraph } from "../fixtures/tiny_vit_graph.ts";
import { tinyVitDescriptor } from "../fixtures/models.ts";
import type { ModelRef } from "../../models/model_ref.ts";
import { BUILTIN_MODELS } from "../../models/registry.ts";
import { decodeImage } from "../../workers/decode_image.ts";
import { decode as decodeWithFastPng } from "fast-png";
import { loadNativeRuntime } from "../../workers/ort_native.ts";

const WILLOW = new URL("../../../shared/data/pf-willow", import.meta.url).pathname;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Every PF-WILLOW PNG, decoded in this thread (after one warm-up pass). */
export async function benchDecode(runs = 5): Promise<void> {
  const files: Uint8Array[] = [];
  for await (const dir of Deno.readDir(`${WILLOW}/PF-dataset`)) {
    if (!dir.isDirectory) continue;
    for await (const f of Deno.readDir(`${WILLOW}/PF-dataset/${dir.name}`)) {
      if (f.name.endsWith(".png")) {
        files.push(await Deno.readFile(`${WILLOW}/PF-dataset/${dir.name}/${f.name}`));
      }
    }
  }
  const perImage = async (decode: (bytes: Uint8Array) => unknown) => {
    for (const f of files) await decode(f);
    const per: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      for (const f of files) await decode(f);
      per.push((performance.now() - t0) / files.length);
    }
    return median(per);
  };
  const ours = await perImage(decodeImage);
  // The start commit inflated with a capped DecompressionStream, then ran fast-png on top.
  const fastPng = await perImage(decodeWithFastPng);
  console.log(
    `\nPNG decode, ${files.length} PF-WILLOW images (300 px RGB), median of ${runs} (ms per image):` +
      `\n  decodeImage ${ours.toFixed(2)}; fast-png alone ${fastPng.toFixed(2)} (${
        (fastPng / ours).toFixed(2)
      }x); the start commit's path (capped inflate + fast-png) took 8.8-9.5 here`,
  );
}

/** One pair of resident 60x60x768 grids matched with 20 points, per backend. */
export async function benchMatchingCost(runs = 20): Promise<void> {
  const C = 768, side = 60, cells = side * side;
  const features = (seed: number) => ({
    grid: {
      data: new Float32Array(C * cells).map((_, i) => Math.sin(i * 0.37 + seed)),
      channels: C,
      height: side,
      width: side,
    },
    frame: makeFrame({ width: 300, height: 200 }, { size: 840, mode: "stretch" }),
    timings: { decode: 0, preprocess: 0, extract: 0 },
  });
  const points = new Float32Array(40).map((_, i) => (i % 2 ? 10 + 4.5 * i : 10 + 7 * i));
  console.log(
    `\nmatching one pair at 60x60x768 (ViT-B/14 @ 840), 20 points, kernel-softargmax, both grids resident (median of ${runs}):`,
  );
  for (const backend of ["wasm", "native"] as const) {
    const pool = new WorkerPool({ size: 1, backend });
    try {
      await pool.start({ descriptor: BUILTIN_MODELS.dsift });
      const [worker] = pool.readyWorkers();
      const keys = [..."abcdefghij"];
      for (const key of keys) {
        const f = features(key.charCodeAt(0));
        await pool.run("adopt_resident", { key, features: f }, {
          worker,
          transfer: [f.grid.data.buffer],
        });
      }
      const round: number[] = [];
      const inWorker: number[] = [];
      for (let i = 0; i < runs + 2; i++) {
        const t0 = performance.now();
        const r = await pool.run("match_resident", {
          target: "b",
          sources: [{ key: "a", points }],
          localizer: DEFAULT_LOCALIZER,
        }, { worker });
        // The first call normalizes the target once; it is not a per-pair cost.
        if (i < 2) continue;
        round.push(performance.now() - t0);
        inWorker.push(r.timings.match);
      }
      // A target's group as the evaluation sends it: 9 sources, one call.
      const group = {
        target: "j",
        sources: keys.slice(0, 9).map((key) => ({ key, points })),
        localizer: DEFAULT_LOCALIZER,
      };
      const grouped: number[] = [];
      for (let i = 0; i < Math.ceil(runs / 4); i++) {
        const t0 = performance.now();
        await pool.run("match_resident", group, { worker });
        grouped.push((performance.now() - t0) / 9);
      }
      console.log(
        `  ${backend.padEnd(6)} ${median(round).toFixed(2)} ms per pair round trip (${
          median(inWorker).toFixed(2)
        } in the worker); ${
          median(grouped).toFixed(2)
        } ms per pair in a group of 9 pairs sharing a target (one call)`,
      );
    } catch (e) {
      console.log(`  ${backend}: unavailable (${(e as Error).message})`);
    } finally {
      await pool.dispose();
    }
  }
  console.log(
    "  start commit, both grids cloned into the worker per pair: wasm 84.95 (31.36), native 65.65 (22.74)",
  );
}

/** Workers x onnxruntime threads. */
export interface Layout {
  workers: number;
  threads: number;
}

/** One evaluation's figures. */
interface EvaluationRun {
  wall: number;
  extract: number;
  match: number;
  extractions: number;
  images: number;
}

/**
 * The 90 pairs of PF-WILLOW car(G) (10 images) with a random-weight
 * ViT-S/14, 12 blocks, at 448, per layout; `rounds` passes over the layouts,
 * interleaved so that load from elsewhere spreads over all of them, and the
 * median wall time per layout.
 *
 * @param layouts Workers x threads to run.
 * @param options Backend and rounds.
 * @returns The layout with the shortest median wall time.
 */
export async function benchEvaluation(
  layouts: Layout[],
  options: { backend: BackendName; rounds?: number },
): Promise<{ layout: Layout; pairsPerSecond: number }> {
  const { backend } = options;
  const rounds = options.rounds ?? 1;
  const file = await Deno.makeTempFile({ suffix: ".onnx" });
  await Deno.writeFile(file, buildTinyVitGraph({ dim: 384, heads: 6, depth: 12, seed: 1 }));
  const model: ModelRef = {
    descriptor: tinyVitDescriptor("vit-s14-random", file, {
      feature_dim: 384,
      default_resolution: 448,
    }),
    file,
  };
  const willow = await readPfWillow(WILLOW);
  const pairs = willow.pairs.filter((p) => p.category === "car(G)");
  const runs = new Map<Layout, EvaluationRun[]>(layouts.map((l) => [l, []]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const layout of layouts) {
        const pool = new WorkerPool({ size: layout.workers, numThreads: layout.threads, backend });
        try {
          await pool.start(model);
          const out = await evaluatePairs({ ...willow, pairs }, pool, {
            model,
            resolution: 448,
            resize: "stretch",
            resample: "torch",
            localizer: DEFAULT_LOCALIZER,
            alphas: [0.05, 0.1, 0.15],
            frames: ["official", "original"],
            comparison: "<=",
            returnPredictions: true,
          });
          runs.get(layout)!.push({
            wall: out.timings_ms.total,
            extract: out.timings_ms.extract,
            match: out.timings_ms.match,
            extractions: out.counters.extractions,
            images: out.counters.distinct_images,
          });
          const dump = Deno.env.get("BENCH_EVAL_DUMP");
          if (dump) {
            await Deno.writeTextFile(
              `${dump}_${layout.workers}x${layout.threads}_${backend}.json`,
              JSON.stringify({ sums: out.sums, predictions: out.predictions }),
            );
          }
        } finally {
          await pool.dispose();
        }
      }
    }
  } finally {
    await Deno.remove(file);
  }
  console.log(
    `\nevaluation: PF-WILLOW car(G), ${pairs.length} pairs, random ViT-S/14 12 blocks @ 448, ${backend}, ` +
      `${navigator.hardwareConcurrency} cores, median of ${rounds} interleaved round(s)` +
      "\n  (extract, match: worker ms summed over workers; other = workers x wall - extract - match: idle, messages, copies)",
  );
  console.log(
    "  workers x threads | wall ms | pairs/s | vs 1 x 1 | extract ms | match ms | other ms | match/wall | match/(workers x wall)",
  );
  const at = (l: Layout) => {
    const r = [...runs.get(l)!].sort((a, b) => a.wall - b.wall);
    return r[Math.floor(r.length / 2)];
  };
  const reference = layouts.find((l) => l.workers === 1 && l.threads === 1) ?? layouts[0];
  for (const l of layouts) {
    const r = at(l);
    const other = l.workers * r.wall - r.extract - r.match;
    console.log(
      `  ${`${l.workers} x ${l.threads}`.padEnd(17)} | ${r.wall.toFixed(0).padStart(7)} | ${
        (pairs.length / r.wall * 1000).toFixed(2).padStart(7)
      } | ${(at(reference).wall / r.wall).toFixed(2).padStart(7)}x | ${
        r.extract.toFixed(0).padStart(10)
      } | ${r.match.toFixed(0).padStart(8)} | ${other.toFixed(0).padStart(8)} | ${
        (100 * r.match / r.wall).toFixed(2).padStart(9)
      }% | ${
        (100 * r.match / (l.workers * r.wall)).toFixed(2)
      }%  (extractions ${r.extractions} of ${r.images} images)`,
    );
  }
  const best = layouts.reduce((a, b) => at(b).wall < at(a).wall ? b : a);
  console.log(
    `  fastest here: ${best.workers} x ${best.threads}. Default: WORKERS = one per core, ORT_THREADS = 1` +
      " (README, How an evaluation runs: two threads per session lost in most runs on shared cores)",
  );
  return { layout: best, pairsPerSecond: pairs.length / at(best).wall * 1000 };
}

/** The official loop's figures, as `official_loop.py` prints them. */
interface OfficialLoop {
  pairs: number;
  pairs_per_s: number;
  forward_ms: number;
  match_ms: number;
  wall_ms: number;
  threads: number;
}

/**
 * The official per-pair loop in PyTorch (`official_loop.py`: 2 forwards and
 * nn matching per pair, ViT-S/14 of the same shape at 448) on
 * `BENCH_OFFICIAL_PAIRS` pairs (default 3) with 2 torch threads, or `null`
 * with a printed note when no python3 here imports torch.
 */
export async function benchOfficialLoop(): Promise<OfficialLoop | null> {
  const pairs = Deno.env.get("BENCH_OFFICIAL_PAIRS") ?? "3";
  const script = new URL("./official_loop.py", import.meta.url).pathname;
  // Debian's python3-torch lives in /usr/bin/python3's dist-packages, which a pyenv shim misses.
  for (const python of ["python3", "/usr/bin/python3"]) {
    const probe = await new Deno.Command(python, { args: ["-c", "import torch"], stderr: "null" })
      .output().catch(() => null);
    if (!probe?.success) continue;
    const out = await new Deno.Command(python, {
      args: [script, `${WILLOW}/PF-dataset/car(G)`, pairs, "2", "448"],
      stderr: "inherit",
    }).output();
    if (!out.success) break;
    const r = JSON.parse(new TextDecoder().decode(out.stdout)) as OfficialLoop;
    console.log(
      `\nofficial per-pair loop, PyTorch, ViT-S/14 12 blocks @ 448, ${r.threads} torch threads, ${r.pairs} pairs of car(G):` +
        `\n  ${r.pairs_per_s.toFixed(3)} pairs/s, ${r.forward_ms.toFixed(0)} ms per forward, ${
          r.match_ms.toFixed(2)
        } ms nn matching per pair`,
    );
    return r;
  }
  console.log(
    "\nofficial per-pair loop: skipped (no python3 here imports torch; apt install python3-torch)",
  );
  return null;
}

/**
 * Peak resident set of this process (VmHWM), in MiB, or null off Linux. Read
 * by `grep` (`--allow-run`): Deno grants reads under /proc only with all
 * permissions, which `deno task bench` does not take.
 */
export async function peakRssMiB(): Promise<number | null> {
  const out = await new Deno.Command("grep", {
    args: ["VmHWM", `/proc/${Deno.pid}/status`],
    stderr: "null",
  }).output().catch(() => null);
  const m = out?.success ? /VmHWM:\s+(\d+) kB/.exec(new TextDecoder().decode(out.stdout)) : null;
  return m ? Number(m[1]) / 1024 : null;
}

/** Parses `1x2,2x1` into layouts. */
export function parseLayouts(text: string): Layout[] {
  return text.split(",").map((l) => {
    const [workers, threads] = l.split("x").map(Number);
    return { workers, threads };
  });
}

/** Runs the three benches, step 3 as `BENCH_EVAL_LAYOUTS`, `BENCH_BACKEND` and `BENCH_EVAL_ROUNDS` say. */
export async function benchEvaluatePath(): Promise<void> {
  await benchDecode();
  await benchMatchingCost();
  let backend = Deno.env.get("BENCH_BACKEND") as BackendName | undefined;
  if (!backend) {
    backend = await loadNativeRuntime().then(() => "native" as const, () => "wasm" as const);
  }
  const service = await benchEvaluation(
    parseLayouts(Deno.env.get("BENCH_EVAL_LAYOUTS") ?? "1x1,1x2,2x1,2x2"),
    { backend, rounds: Number(Deno.env.get("BENCH_EVAL_ROUNDS") ?? 1) },
  );
  const rss = await peakRssMiB();
  console.log(
    `  peak RSS of this process so far (the pools run in it): ${rss?.toFixed(0) ?? "n/a"} MiB`,
  );
  const official = await benchOfficialLoop();
  if (official) {
    const ratio = service.pairsPerSecond / official.pairs_per_s;
    console.log(
      `  evaluation ${service.layout.workers} x ${service.layout.threads}: ${
        service.pairsPerSecond.toFixed(2)
      } pairs/s = ${ratio.toFixed(1)}x the official loop (target >= 40x), same run`,
    );
  }
}

if (import.meta.main) await benchEvaluatePath();
