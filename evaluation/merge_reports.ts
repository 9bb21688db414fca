/**
 * Merges evaluation reports of disjoint slices (shards) of one protocol into
 * the report of their union. PCK is recomputed from the raw integer sums, so
 * the merge equals the unsharded evaluation exactly, in any order.
 *
 * @example Usage
 * ```ts ignore
 * const merged = mergeReports([shard0, shard1, shard2]);
 * merged.pck?.per_image.all["0.1"];
 * ```
 *
 * @module
 */

import { PckAccumulator } from "../core/pck.ts";
import type { ScoringFrame } from "./request.ts";
import type { DifficultyFlag } from "./evaluate_pairs.ts";
import { type EvaluationReport, frameReport } from "./report.ts";
import type { PckSums } from "../core/pck.ts";

/** Fields that must agree for reports to merge. */
const PROTOCOL_FIELDS = [
  "dataset",
  "split",
  "frame",
  "by",
  "thres_type",
  "comparison",
  "alphas",
  "resolution",
  "resize",
  "resample",
  "model",
  "localizer",
  "keypoints",
  "max_keypoints",
  "pair_source",
  "dataset_options",
] as const;

/**
 * Merges reports.
 *
 * @param reports Reports of disjoint slices of the same protocol.
 * @returns One report over all their pairs; `selection.merged_from` lists the parts.
 * @throws {RangeError} When there is no report, or their protocols differ.
 */
export function mergeReports(reports: readonly EvaluationReport[]): EvaluationReport {
  if (reports.length === 0) throw new RangeError("Cannot merge reports: none given");
  const [first] = reports;
  for (const [i, r] of reports.entries()) {
    for (const f of PROTOCOL_FIELDS) {
      if (JSON.stringify(r[f]) !== JSON.stringify(first[f])) {
        throw new RangeError(
          `Cannot merge reports: report ${i} has ${f} ${JSON.stringify(r[f])}, report 0 has ${
            JSON.stringify(first[f])
          }`,
        );
      }
    }
  }
  const frames: EvaluationReport["frames"] = {};
  const sums: EvaluationReport["sums"] = {};
  const withDifficulty = reports.some((r) => r.difficulty_sums);
  const difficultySums: NonNullable<EvaluationReport["difficulty_sums"]> = {};
  for (const frame of Object.keys(first.sums) as ScoringFrame[]) {
    const acc = PckAccumulator.fromJSON(first.sums[frame]!);
    for (const r of reports.slice(1)) acc.merge(r.sums[frame]!);
    sums[frame] = acc.toJSON();
    let difficulty: Partial<Record<DifficultyFlag, PckSums>> | undefined;
    if (withDifficulty) {
      difficulty = {};
      for (const r of reports) {
        for (const [flag, s] of Object.entries(r.difficulty_sums?.[frame] ?? {})) {
          const f = flag as DifficultyFlag;
          difficulty[f] = difficulty[f]
            ? PckAccumulator.fromJSON(difficulty[f]!).merge(s).toJSON()
            : s;
        }
      }
      difficultySums[frame] = difficulty;
    }
    frames[frame] = frameReport(acc.summary(), difficulty);
  }
  const frameNames = Object.keys(frames) as ScoringFrame[];
  const head = frames[frameNames[0]]!;
  const add = (f: (r: EvaluationReport) => number) => reports.reduce((s, r) => s + f(r), 0);
  const predictions = reports.every((r) => r.predictions)
    ? reports.flatMap((r) => r.predictions!)
    : undefined;
  const { pck: _pck, predictions: _p, difficulty_sums: _d, ...rest } = first;
  return {
    ...rest,
    selection: { merged_from: reports.map((r) => r.selection) },
    n_pairs: head.pairs,
    n_points: head.points,
    pck: frames.official ?? head,
    frames,
    sums,
    ...(withDifficulty ? { difficulty_sums: difficultySums } : {}),
    counters: {
      pairs: add((r) => r.counters.pairs),
      distinct_images: add((r) => r.counters.distinct_images),
      extractions: add((r) => r.counters.extractions),
      matches: add((r) => r.counters.matches),
    },
    timings_ms: {
      read: add((r) => r.timings_ms.read),
      extract: add((r) => r.timings_ms.extract),
      match: add((r) => r.timings_ms.match),
      total: add((r) => r.timings_ms.total),
    },
    ...(predictions ? { predictions } : {}),
  };
}
