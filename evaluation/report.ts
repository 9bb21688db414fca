/**
 * The JSON an evaluation answers with: the protocol settings that produced
 * the numbers, PCK per frame, the raw sums that let separately evaluated
 * slices merge exactly, counters and timings. Field names are a contract read
 * by other tools (see README, "Evaluate").
 *
 * @example Usage
 * ```ts ignore
 * const report = evaluationReport(outcome, { slice, request, model: "dsift", resolution: 256, localizer, frames: ["official"], protocol });
 * report.pck.per_image.all["0.1"];
 * ```
 *
 * @module
 */

import type { DifficultyFlag, EvaluationOutcome } from "./evaluate_pairs.ts";
import type { Averaging, EvaluateRequest, ScoringFrame } from "./request.ts";
import { PckAccumulator } from "../core/pck.ts";
import type { DatasetSlice } from "../datasets/types.ts";
import type { LocalizerOptions } from "../core/localizer_options.ts";
import type { PckSummary, PckSums } from "../core/pck.ts";
import type { ProtocolEcho } from "./protocol_echo.ts";

/** What the report echoes besides the outcome. */
export interface ReportContext {
  slice: DatasetSlice;
  request: Pick<
    EvaluateRequest,
    | "by"
    | "alphas"
    | "resize"
    | "resample"
    | "comparison"
    | "categories"
    | "pair_ids"
    | "offset"
    | "limit"
    | "shards"
    | "shard"
  >;
  model: string;
  resolution: number;
  localizer: LocalizerOptions;
  frames: ScoringFrame[];
  /** The dataset options and the settings that differ from the official protocol. */
  protocol: ProtocolEcho;
}

/** PCK of one difficulty level: over all pairs of that level. */
export interface LevelReport {
  pairs: number;
  points: number;
  per_image: Record<string, number | null>;
  per_point: Record<string, number | null>;
}

/** PCK of one frame as reported. */
export interface FrameReport {
  /** SPair-71k only: per difficulty flag, per level (`"0"`, `"1"`...). */
  difficulty?: Partial<Record<DifficultyFlag, Record<string, LevelReport>>>;
  per_image: PckSummary["per_image"];
  per_point: PckSummary["per_point"];
  pairs: number;
  points: number;
  skipped_pairs: number;
  skipped: PckSummary["skipped"];
  category_counts: PckSummary["category_counts"];
}

/** The evaluation report. */
export interface EvaluationReport {
  dataset: string;
  split: string;
  frame: EvaluateRequest["frame"];
  by: Averaging;
  thres_type: string;
  comparison: string;
  alphas: string[];
  resolution: number;
  resize: string;
  resample: string;
  model: string;
  localizer: LocalizerOptions;
  keypoints: string;
  max_keypoints: number;
  pair_source: string;
  pair_file: string | null;
  /** Every dataset option that applies, with its value (see `datasets/dataset_options.ts`). */
  dataset_options: ProtocolEcho["dataset_options"];
  /** Each setting that differs from the official code's; empty for the official protocol. */
  non_official: ProtocolEcho["non_official"];
  selection: Record<string, unknown>;
  n_pairs: number;
  n_points: number;
  /** The official frame's block (the only frame's, when one was asked for). */
  pck: FrameReport;
  frames: Partial<Record<ScoringFrame, FrameReport>>;
  sums: Partial<Record<ScoringFrame, PckSums>>;
  /** Raw sums of the difficulty tables, for exact merging. */
  difficulty_sums?: EvaluationOutcome["difficulty"];
  counters: EvaluationOutcome["counters"];
  timings_ms: EvaluationOutcome["timings_ms"];
  predictions?: EvaluationOutcome["predictions"];
}

/**
 * Turns PCK sums into one frame's report block.
 *
 * @param s The frame's summary.
 * @param difficulty The frame's difficulty sums, if any.
 * @returns The block.
 */
export function frameReport(
  s: PckSummary,
  difficulty?: Partial<Record<DifficultyFlag, PckSums>>,
): FrameReport {
  return {
    ...(difficulty ? { difficulty: difficultyTables(difficulty) } : {}),
    per_image: s.per_image,
    per_point: s.per_point,
    pairs: s.pairs,
    points: s.points,
    skipped_pairs: s.skipped_pairs,
    skipped: s.skipped,
    category_counts: s.category_counts,
  };
}

/**
 * Builds the report.
 *
 * @param outcome What {@linkcode evaluatePairs} returned.
 * @param context The slice and protocol settings.
 * @returns The report.
 */
export function evaluationReport(
  outcome: EvaluationOutcome,
  context: ReportContext,
): EvaluationReport {
  const { slice, request } = context;
  const frames: EvaluationReport["frames"] = {};
  for (const f of context.frames) {
    frames[f] = frameReport(outcome.frames[f]!, outcome.difficulty?.[f]);
  }
  const first = outcome.frames[context.frames[0]]!;
  const selection: Record<string, unknown> = {};
  for (const k of ["categories", "pair_ids", "offset", "limit", "shards", "shard"] as const) {
    if (request[k] !== undefined) selection[k] = request[k];
  }
  return {
    dataset: slice.dataset,
    split: slice.split,
    frame: context.frames.length > 1 ? "both" : context.frames[0],
    by: request.by,
    thres_type: slice.threshold_base,
    comparison: request.comparison,
    alphas: first.alphas,
    resolution: context.resolution,
    resize: request.resize,
    resample: request.resample,
    model: context.model,
    localizer: context.localizer,
    keypoints: slice.keypoints,
    max_keypoints: slice.max_keypoints,
    pair_source: slice.pair_source,
    pair_file: slice.pair_file,
    dataset_options: context.protocol.dataset_options,
    non_official: context.protocol.non_official,
    selection,
    n_pairs: first.pairs,
    n_points: first.points,
    // With both frames, the top-level block is the official one (the survey's).
    pck: frames.official ?? frames[context.frames[0]]!,
    frames,
    sums: outcome.sums,
    ...(outcome.difficulty ? { difficulty_sums: outcome.difficulty } : {}),
    counters: outcome.counters,
    timings_ms: outcome.timings_ms,
    ...(outcome.predictions ? { predictions: outcome.predictions } : {}),
  };
}

function difficultyTables(
  sums: Partial<Record<DifficultyFlag, PckSums>>,
): Partial<Record<DifficultyFlag, Record<string, LevelReport>>> {
  const out: Partial<Record<DifficultyFlag, Record<string, LevelReport>>> = {};
  for (const [flag, s] of Object.entries(sums) as [DifficultyFlag, PckSums][]) {
    const summary = PckAccumulator.fromJSON(s).summary();
    const levels: Record<string, LevelReport> = {};
    for (const [level, counts] of Object.entries(summary.category_counts)) {
      levels[level] = {
        pairs: counts.pairs,
        points: counts.points,
        per_image: summary.per_image.categories[level],
        per_point: summary.per_point.categories[level],
      };
    }
    out[flag] = levels;
  }
  return out;
}
