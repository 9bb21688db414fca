/**
 * Evaluates a model on a slice of a benchmark: each distinct image's features
 * are extracted once (whatever the number of pairs it appears in), every pair
 * is matched on the worker pool, and PCK is accumulated as exact raw sums in
 * the frames asked for.
 *
 * @example Usage
 * ```ts ignore
 * const outcome = await evaluatePairs(slice, pool, options, (p) => console.log(p.done));
 * console.log(outcome.frames.original.per_image.all["0.1"]);
 * ```
 *
 * @module
 */

import type { WorkerPool } from "../workers/pool.ts";
import type { ImageFeatures } from "../workers/protocol.ts";
import type { ModelRef } from "../models/model_ref.ts";
import type { ImageLimits } from "../workers/decode_image.ts";
import { PoolSaturatedError } from "../errors/mod.ts";
import type { LocalizerOptions } from "../core/localizer_options.ts";
import type { ResizeMode } from "../core/frame.ts";
import type { ResampleMode } from "../core/model_input.ts";
import { PckAccumulator, type PckComparison, type PckSummary } from "../core/pck.ts";
import type { PckSums } from "../core/pck.ts";
import { toOfficialFrame } from "../core/official_frame.ts";
import type { DatasetPair, DatasetSlice } from "../datasets/types.ts";
import type { ScoringFrame } from "./request.ts";
import { openDataSource } from "../datasets/data_source.ts";

/** How to evaluate. */
export interface EvaluationOptions {
  model: ModelRef;
  resolution: number;
  resize: ResizeMode;
  resample: ResampleMode;
  localizer: LocalizerOptions;
  alphas: number[];
  frames: ScoringFrame[];
  comparison: PckComparison;
  returnPredictions: boolean;
  limits: ImageLimits;
  /** Pairs matched at once (default 4); extraction runs ahead of matching. */
  concurrency?: number;
}

/** Progress after each pair. */
export interface EvaluationProgress {
  done: number;
  total: number;
  extractions: number;
  /** Running per-image PCK over all pairs so far, in the first frame. */
  pck: Record<string, number | null>;
}

/** One pair's predicted points, for re-scoring elsewhere. */
export interface PairPrediction {
  pair_id: string;
  category: string;
  source: string;
  target: string;
  /** Predicted target points in original target pixels, in source keypoint order. */
  pred: [number, number][];
}

/** SPair-71k's difficulty flags, each scored per level. */
export const DIFFICULTY_FLAGS = [
  "viewpoint_variation",
  "scale_variation",
  "truncation",
  "occlusion",
] as const;

/** One of {@linkcode DIFFICULTY_FLAGS}. */
export type DifficultyFlag = typeof DIFFICULTY_FLAGS[number];

/** The result of {@linkcode evaluatePairs}. */
export interface EvaluationOutcome {
  frames: Partial<Record<ScoringFrame, PckSummary>>;
  sums: Partial<Record<ScoringFrame, PckSums>>;
  /**
   * Per SPair difficulty flag, the raw sums with the flag's level (`"0"`,
   * `"1"`...) in place of the category; absent when no pair has flags.
   */
  difficulty?: Partial<Record<ScoringFrame, Partial<Record<DifficultyFlag, PckSums>>>>;
  predictions?: PairPrediction[];
  counters: {
    pairs: number;
    distinct_images: number;
    extractions: number;
    matches: number;
  };
  timings_ms: { read: number; extract: number; match: number; total: number };
}

const MAX_SATURATED_RETRIES = 200;

async function runWithRetry<T>(f: () => Promise<T>): Promise<T> {
  // The evaluation shares the queue with /v1/match traffic: wait rather than fail.
  for (let attempt = 0;; attempt++) {
    try {
      return await f();
    } catch (e) {
      if (!(e instanceof PoolSaturatedError) || attempt >= MAX_SATURATED_RETRIES) throw e;
      await new Promise((r) => setTimeout(r, Math.min(50 * (attempt + 1), 1000)));
    }
  }
}

/**
 * Evaluates the pairs of a slice.
 *
 * @param slice The slice (its root locates the images).
 * @param pool The worker pool.
 * @param options Model, input, localizer and scoring options.
 * @param onProgress Called after each pair.
 * @returns PCK summaries and raw sums per frame, counters and timings.
 */
export async function evaluatePairs(
  slice: DatasetSlice,
  pool: WorkerPool,
  options: EvaluationOptions,
  onProgress?: (p: EvaluationProgress) => void,
): Promise<EvaluationOutcome> {
  const started = performance.now();
  const pairs = slice.pairs;
  const accumulators = new Map<ScoringFrame, PckAccumulator>();
  for (const f of options.frames) {
    accumulators.set(
      f,
      new PckAccumulator({ alphas: options.alphas, comparison: options.comparison }),
    );
  }
  const byDifficulty = new Map<ScoringFrame, Map<DifficultyFlag, PckAccumulator>>();
  const hasDifficulty = pairs.some((p) => p.difficulty);
  if (hasDifficulty) {
    for (const f of options.frames) {
      byDifficulty.set(
        f,
        new Map(DIFFICULTY_FLAGS.map((flag) => [
          flag,
          new PckAccumulator({ alphas: options.alphas, comparison: options.comparison }),
        ])),
      );
    }
  }
  const remaining = new Map<string, number>();
  for (const p of pairs) {
    remaining.set(p.source, (remaining.get(p.source) ?? 0) + 1);
    remaining.set(p.target, (remaining.get(p.target) ?? 0) + 1);
  }
  const features = new Map<string, Promise<ImageFeatures>>();
  const timings = { read: 0, extract: 0, match: 0 };
  let extractions = 0;
  let matches = 0;
  let done = 0;
  const predictions: PairPrediction[] = [];
  const predictionByIndex: (PairPrediction | undefined)[] = new Array(pairs.length);

  const featuresOf = (path: string): Promise<ImageFeatures> => {
    let p = features.get(path);
    if (!p) {
      p = (async () => {
        const t0 = performance.now();
        const bytes = await openDataSource(slice.root).readBytes(path, "image");
        timings.read += performance.now() - t0;
        const t1 = performance.now();
        const f = await runWithRetry(() =>
          pool.run("extract", {
            image: bytes,
            model: options.model,
            resolution: options.resolution,
            resize: options.resize,
            resample: options.resample,
            limits: options.limits,
          }, { transfer: [bytes.buffer as ArrayBuffer] })
        );
        timings.extract += performance.now() - t1;
        extractions++;
        return f;
      })();
      features.set(path, p);
    }
    return p;
  };
  const release = (path: string) => {
    const n = (remaining.get(path) ?? 1) - 1;
    remaining.set(path, n);
    if (n === 0) features.delete(path);
  };

  const scorePair = (index: number, pair: DatasetPair, pred: Float32Array) => {
    const n = pair.source_kps.length / 2;
    for (const [frame, acc] of accumulators) {
      let input;
      if (frame === "original") {
        input = { pred, truth: pair.target_kps, thresholdBase: pair.threshold };
      } else if (pair.target_size === null || n === 0) {
        input = { pred, truth: pair.target_kps, thresholdBase: null };
      } else {
        const o = toOfficialFrame({
          pred,
          truth: pair.target_kps,
          targetSize: pair.target_size,
          size: options.resolution,
          thresholdBase: pair.threshold_base,
          bbox: pair.target_bbox,
        });
        input = { pred: o.pred, truth: o.truth, thresholdBase: o.threshold };
      }
      acc.add(pair.category, input);
      if (pair.difficulty) {
        for (const [flag, flagAcc] of byDifficulty.get(frame)!) {
          flagAcc.add(String(pair.difficulty[flag]), input);
        }
      }
    }
    if (options.returnPredictions) {
      const xy: [number, number][] = [];
      for (let i = 0; i < n; i++) xy.push([pred[2 * i], pred[2 * i + 1]]);
      predictionByIndex[index] = {
        pair_id: pair.pair_id,
        category: pair.category,
        source: pair.source,
        target: pair.target,
        pred: xy,
      };
    }
  };

  const matchPair = async (index: number) => {
    const pair = pairs[index];
    const n = pair.source_kps.length / 2;
    let pred = new Float32Array(0);
    if (n > 0) {
      const [a, b] = await Promise.all([featuresOf(pair.source), featuresOf(pair.target)]);
      const t0 = performance.now();
      const result = await runWithRetry(() =>
        pool.run("match_features", {
          source: a,
          target: b,
          points: pair.source_kps,
          localizer: options.localizer,
        })
      );
      timings.match += performance.now() - t0;
      matches++;
      pred = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) {
        pred[2 * i] = result.matches[3 * i];
        pred[2 * i + 1] = result.matches[3 * i + 1];
      }
    }
    release(pair.source);
    release(pair.target);
    scorePair(index, pair, pred);
    done++;
    if (onProgress) {
      const first = accumulators.get(options.frames[0])!;
      onProgress({
        done,
        total: pairs.length,
        extractions,
        pck: first.summary().per_image.all,
      });
    }
  };

  // Pairs are taken in order by a few runners, so the features alive at once
  // stay those of nearby pairs (readers sort pairs by category).
  let next = 0;
  const runners = Array.from({ length: Math.max(1, options.concurrency ?? 4) }, async () => {
    while (next < pairs.length) await matchPair(next++);
  });
  await Promise.all(runners);
  for (const p of predictionByIndex) if (p) predictions.push(p);

  const frames: EvaluationOutcome["frames"] = {};
  const sums: EvaluationOutcome["sums"] = {};
  for (const [frame, acc] of accumulators) {
    frames[frame] = acc.summary();
    sums[frame] = acc.toJSON();
  }
  let difficulty: EvaluationOutcome["difficulty"];
  if (hasDifficulty) {
    difficulty = {};
    for (const [frame, flags] of byDifficulty) {
      difficulty[frame] = Object.fromEntries([...flags].map(([flag, acc]) => [flag, acc.toJSON()]));
    }
  }
  return {
    frames,
    sums,
    ...(difficulty ? { difficulty } : {}),
    predictions: options.returnPredictions ? predictions : undefined,
    counters: {
      pairs: pairs.length,
      distinct_images: remaining.size,
      extractions,
      matches,
    },
    timings_ms: { ...timings, total: performance.now() - started },
  };
}
