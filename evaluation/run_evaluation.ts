/**
 * From a validated evaluate request to its report: read and select the
 * pairs it scores, resolve the model, evaluate on the pool, build the
 * report. The HTTP route and the `deno task eval` command both call this,
 * so a number means the same thing whichever way it was produced.
 *
 * @example Usage
 * ```ts ignore
 * const report = await runEvaluation(request, { pool, registry, resolveModel, limits, roots: config.datasets });
 * ```
 *
 * @module
 */

import type { WorkerPool } from "../workers/pool.ts";
import type { ModelRef } from "../models/model_ref.ts";
import type { ImageLimits } from "../workers/decode_image.ts";
import type { ModelRegistry } from "../models/registry.ts";
import { localizerOf } from "../workers/match_options.ts";
import type { DatasetRoots } from "../datasets/roots.ts";
import { evaluatePairs, type EvaluationProgress } from "./evaluate_pairs.ts";
import { type EvaluationReport, evaluationReport } from "./report.ts";
import type { EvaluateRequest, ScoringFrame } from "./request.ts";
import { readScoredPairs } from "./scored_pairs.ts";

/** What an evaluation needs from the service. */
export interface EvaluationDeps {
  pool: WorkerPool;
  registry: ModelRegistry;
  resolveModel(id: string): Promise<ModelRef>;
  limits: ImageLimits;
  /** Where each dataset is read from (`DATA_ROOT`, `DATA_PFWILLOW`... as configured). */
  roots: DatasetRoots;
}

/**
 * Runs an evaluation.
 *
 * @param req The request.
 * @param deps Pool, models, limits and dataset roots.
 * @param onProgress Called after each pair.
 * @returns The report.
 * @throws {DatasetError} When the dataset cannot be read.
 * @throws {ModelNotFoundError} When the model is unknown.
 */
export async function runEvaluation(
  req: EvaluateRequest,
  deps: EvaluationDeps,
  onProgress?: (p: EvaluationProgress) => void,
): Promise<EvaluationReport> {
  const scored = await readScoredPairs(req, deps);
  const model = await deps.resolveModel(deps.registry.get(req.model).id);
  const frames: ScoringFrame[] = req.frame === "both" ? ["official", "original"] : [req.frame];
  const localizer = localizerOf(req);
  // The matcher is given the clamped queries; ground truth and thresholds stay the dataset's.
  const matched = scored.pairs.map((p, i) => ({ ...p, source_kps: scored.queries[i] }));
  const outcome = await evaluatePairs({ ...scored.slice, pairs: matched }, deps.pool, {
    model,
    resolution: scored.resolution,
    resize: req.resize,
    resample: req.resample,
    localizer,
    alphas: req.alphas,
    frames,
    comparison: req.comparison,
    returnPredictions: req.return_predictions,
    limits: deps.limits,
  }, onProgress);
  return evaluationReport(outcome, {
    slice: scored.slice,
    request: req,
    model: model.descriptor.id,
    resolution: scored.resolution,
    localizer,
    frames,
    protocol: scored.protocol,
  });
}
