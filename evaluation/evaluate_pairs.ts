/**
 * Evaluates a model on a slice of a benchmark: each distinct image's features
 * are extracted once (whatever the number of pairs it appears in) and stay in
 * the worker that made them (`./resident_images.ts`), every pair is matched
 * there, and PCK is accumulated as exact raw sums in the frames asked for.
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
import type { ModelRef } from "../models/model_ref.ts";
import { FeaturesNotResidentError } from "../errors/mod.ts";
import type { LocalizerOptions } from "../core/localizer_options.ts";
import type { ResizeMode } from "../core/frame.ts";
import type { ResampleMode } from "../core/model_input.ts";
import { PckAccumulator, type PckComparison, type PckSummary } from "../core/pck.ts";
import type { PckSums } from "../core/pck.ts";
import { toOfficialFrame } from "../core/official_frame.ts";
import type { DatasetPair, DatasetSlice } from "../datasets/types.ts";
import type { ScoringFrame } from "./request.ts";
import { type DataSource, openDataSource } from "../datasets/data_source.ts";
import { ResidentImages } from "./resident_images.ts";

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
  /** Groups of pairs (one target each) matched at once (default: 4, or 2 per worker); extraction runs ahead. */
  concurrency?: number;
  /** Stops the evaluation: no pair starts after it aborts, and queued work leaves the pool. */
  signal?: AbortSignal;
  /**
   * Where the images are read: the dataset's root opened with its configured
   * limits (`DATA_TIMEOUT_MS`). Default: `slice.root` with the data source's defaults.
   */
  source?: DataSource;
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
    /** Feature extractions: `distinct_images`, plus any repeated after a worker was lost. */
    extractions: number;
    matches: number;
  };
  /**
   * `read`: reading image bytes (overlapped with extraction); `extract`:
   * decoding, preprocessing and the model, summed over workers; `match`:
   * cost volume and localization, summed over workers; `total`: wall time.
   */
  timings_ms: { read: number; extract: number; match: number; total: number };
}

/** Pairs matched in one worker call at most. */
const MAX_PAIRS_PER_CALL = 16;

/**
 * Indices of the pairs with keypoints, grouped by target in the order the
 * targets first appear, in groups of at most {@linkcode MAX_PAIRS_PER_CALL}.
 */
function targetGroups(pairs: readonly DatasetPair[]): number[][] {
  const byTarget = new Map<string, number[]>();
  for (const [i, p] of pairs.entries()) {
    if (p.source_kps.length === 0) continue;
    let group = byTarget.get(p.target);
    if (!group) byTarget.set(p.target, group = []);
    group.push(i);
  }
  const groups: number[][] = [];
  for (const group of byTarget.values()) {
    for (let i = 0; i < group.length; i += MAX_PAIRS_PER_CALL) {
      groups.push(group.slice(i, i + MAX_PAIRS_PER_CALL));
    }
  }
  return groups;
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
  // Pairs sharing a target are matched together (one cost-volume call);
  // pairs without keypoints are scored as they are, their images not extracted.
  const groups = targetGroups(pairs);
  const images = new ResidentImages(pool, openDataSource(options.source ?? slice.root), {
    pairs: groups.flat().map((i) => pairs[i]),
    model: options.model,
    resolution: options.resolution,
    resize: options.resize,
    resample: options.resample,
    signal: options.signal,
  });
  let done = 0;
  const predictions: PairPrediction[] = [];
  const predictionByIndex: (PairPrediction | undefined)[] = new Array(pairs.length);

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

  const finish = (index: number, pred: Float32Array) => {
    scorePair(index, pairs[index], pred);
    done++;
    if (onProgress) {
      const first = accumulators.get(options.frames[0])!;
      onProgress({
        done,
        total: pairs.length,
        extractions: images.stats.extractions,
        pck: first.summary().per_image.all,
      });
    }
  };
  const matchGroup = async (group: number[]): Promise<void> => {
    const target = pairs[group[0]].target;
    let matches: Float32Array[];
    try {
      matches = await images.match(
        target,
        group.map((i) => ({ image: pairs[i].source, points: pairs[i].source_kps })),
        options.localizer,
      );
    } catch (e) {
      // A worker cache too small for the whole group keeps evicting part of it: halve it.
      if (!(e instanceof FeaturesNotResidentError) || group.length === 1) throw e;
      const half = Math.ceil(group.length / 2);
      await matchGroup(group.slice(0, half));
      return await matchGroup(group.slice(half));
    }
    for (const [k, index] of group.entries()) {
      const pair = pairs[index];
      const n = pair.source_kps.length / 2;
      const pred = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) {
        pred[2 * i] = matches[k][3 * i];
        pred[2 * i + 1] = matches[k][3 * i + 1];
      }
      images.release(pair);
      finish(index, pred);
    }
  };

  for (const [index, pair] of pairs.entries()) {
    if (pair.source_kps.length === 0) finish(index, new Float32Array(0));
  }
  // A few runners take the groups in order, so the features alive at once
  // stay those of nearby pairs (readers sort pairs by category).
  const concurrency = options.concurrency ?? Math.max(4, 2 * pool.readyWorkers().length);
  let next = 0;
  const runners = Array.from({ length: Math.max(1, concurrency) }, async () => {
    while (next < groups.length) {
      options.signal?.throwIfAborted();
      await matchGroup(groups[next++]);
    }
  });
  try {
    await Promise.all(runners);
  } finally {
    await images.close();
  }
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
      distinct_images: new Set(pairs.flatMap((p) => [p.source, p.target])).size,
      extractions: images.stats.extractions,
      matches: images.stats.matches,
    },
    timings_ms: {
      read: images.stats.read,
      extract: images.stats.extract,
      match: images.stats.match,
      total: performance.now() - started,
    },
  };
}
