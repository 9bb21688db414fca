/**
 * How often two models pick the same nearest-neighbour match: the check that
 * a derived variant (int8, fp16) still answers like the model it stands in
 * for. Both models run the normal evaluation (`./run_evaluation.ts`) on the
 * same slice with the `nn` localizer and `return_predictions`; a point
 * agrees when both put its match on the same target point. With `nn` a
 * match is a grid cell's centre mapped back to target pixels, computed the
 * same way for both models, so "the same point" is exact equality: any
 * difference is a different cell, and its distance in target pixels says by
 * how much.
 *
 * PCK cannot show this: two models can score the same PCK with different
 * matches, and a near-tie between two cells flips with a tiny change of the
 * features. Agreement counts those flips.
 *
 * @example Usage
 * ```ts
 * import { comparePredictions } from "./agreement.ts";
 * import assert from "node:assert/strict";
 *
 * const pair = { pair_id: "p", category: "cat", source: "a.jpg", target: "b.jpg" };
 * const a = [{ ...pair, pred: [[1, 2], [3, 4], [5, 6]] as [number, number][] }];
 * const b = [{ ...pair, pred: [[1, 2], [3, 8], [5, 6]] as [number, number][] }];
 * const r = comparePredictions(a, b);
 * assert.deepEqual([r.points, r.identical, r.share], [3, 2, 2 / 3]);
 * assert.deepEqual(r.per_category.cat, { points: 3, identical: 2, share: 2 / 3 });
 * assert.deepEqual(r.disagreement_px, { max: 4, median: 4 });
 * assert.equal(comparePredictions(a, a).share, 1);
 * assert.throws(() => comparePredictions(a, []), RangeError);
 * ```
 *
 * @module
 */

import type { EvaluationProgress, PairPrediction } from "./evaluate_pairs.ts";
import type { EvaluateRequest } from "./request.ts";
import { evaluatePrepared, type EvaluationDeps, prepareEvaluation } from "./run_evaluation.ts";
import type { EvaluationReport } from "./report.ts";

/** Points and how many of them agree. */
export interface AgreementCount {
  points: number;
  identical: number;
  /** `identical / points`; null without points. */
  share: number | null;
}

/** What {@linkcode comparePredictions} finds. */
export interface PredictionAgreement extends AgreementCount {
  per_category: Record<string, AgreementCount>;
  /**
   * Distance in target pixels between the two matches of each point that
   * disagrees: the largest and the median; null when every point agrees.
   */
  disagreement_px: { max: number; median: number } | null;
}

/** One model's side of an agreement check. */
export interface AgreementSide {
  model: string;
  /** Per-image PCK of its matches (official frame), to see what the flips cost. */
  pck: Record<string, number | null>;
  /** Wall time of its evaluation, in ms (extraction dominates). */
  total_ms: number;
  /** Feature extraction summed over workers, in ms. */
  extract_ms: number;
}

/** What {@linkcode measureAgreement} answers. */
export interface AgreementReport extends PredictionAgreement {
  dataset: string;
  split: string;
  resolution: number;
  pairs: number;
  /** The model checked (`--model`). */
  model: AgreementSide;
  /** The model it is checked against (`--against`), usually the fp32 original. */
  against: AgreementSide;
}

function share(identical: number, points: number): number | null {
  return points === 0 ? null : identical / points;
}

/**
 * Compares two models' predictions on the same pairs, point by point.
 *
 * @param a Predictions of one model, as an evaluation returns them.
 * @param b Predictions of the other, for the same pairs.
 * @returns Counts overall and per category, and the distances of disagreements.
 * @throws {RangeError} When the two lists are not the same pairs with the same point counts.
 */
export function comparePredictions(
  a: readonly PairPrediction[],
  b: readonly PairPrediction[],
): PredictionAgreement {
  if (a.length !== b.length) {
    throw new RangeError(`Cannot compare predictions of ${a.length} and ${b.length} pairs`);
  }
  const perCategory: Record<string, AgreementCount> = {};
  const distances: number[] = [];
  let points = 0;
  let identical = 0;
  for (const [i, pa] of a.entries()) {
    const pb = b[i];
    if (pa.pair_id !== pb.pair_id || pa.pred.length !== pb.pred.length) {
      throw new RangeError(
        `Cannot compare predictions: pair ${i} is ${pa.pair_id} (${pa.pred.length} points) ` +
          `on one side and ${pb.pair_id} (${pb.pred.length} points) on the other`,
      );
    }
    const c = perCategory[pa.category] ??= { points: 0, identical: 0, share: null };
    for (const [k, [x, y]] of pa.pred.entries()) {
      const [u, v] = pb.pred[k];
      points++;
      c.points++;
      if (x === u && y === v) {
        identical++;
        c.identical++;
      } else distances.push(Math.hypot(x - u, y - v));
    }
  }
  for (const c of Object.values(perCategory)) c.share = share(c.identical, c.points);
  distances.sort((p, q) => p - q);
  const mid = distances.length >> 1;
  return {
    points,
    identical,
    share: share(identical, points),
    per_category: perCategory,
    disagreement_px: distances.length === 0 ? null : {
      max: distances[distances.length - 1],
      median: distances.length % 2 ? distances[mid] : (distances[mid - 1] + distances[mid]) / 2,
    },
  };
}

/**
 * Evaluates `req.model` and `against` on the request's slice with the `nn`
 * localizer, one after the other on the same pool, and compares their matches.
 *
 * @param req The evaluate request (dataset, slice, resolution...); its
 *   localizer and `return_predictions` are overridden, and `against` runs at
 *   the side `req.model` runs at.
 * @param against The model to compare with.
 * @param deps Pool, models and dataset roots.
 * @param options `progressFor(model)`, called as each evaluation starts, returns what is
 *   called after each of its pairs.
 * @returns The agreement, with each side's PCK and timings.
 * @throws {DatasetError} When the dataset cannot be read.
 * @throws {ModelNotFoundError} When either model is unknown.
 * @throws {ResolutionError} When a model does not take the resolution.
 */
export async function measureAgreement(
  req: EvaluateRequest,
  against: string,
  deps: EvaluationDeps,
  options: { progressFor?: (model: string) => (p: EvaluationProgress) => void } = {},
): Promise<AgreementReport> {
  const base = { ...req, localizer: "nn" as const, return_predictions: true };
  const first = await prepareEvaluation(base, deps);
  // The same pairs, read once, at the first model's side; the second model is
  // checked (it may not take that side) before anything runs.
  const second = await prepareEvaluation(
    { ...base, model: against, resolution: first.resolution },
    deps,
    { slice: first.slice },
  );
  const run = (prepared: typeof first) =>
    evaluatePrepared(prepared, deps, { onProgress: options.progressFor?.(prepared.modelId) });
  const a = await run(first);
  const b = await run(second);
  const side = (r: EvaluationReport): AgreementSide => ({
    model: r.model,
    pck: r.pck.per_image.all,
    total_ms: r.timings_ms.total,
    extract_ms: r.timings_ms.extract,
  });
  return {
    dataset: a.dataset,
    split: a.split,
    resolution: a.resolution,
    pairs: a.n_pairs,
    ...comparePredictions(a.predictions ?? [], b.predictions ?? []),
    model: side(a),
    against: side(b),
  };
}
