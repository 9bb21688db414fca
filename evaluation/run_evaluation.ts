/**
 * From a validated evaluate request to its report: read the split, select
 * the slice, resolve the model, evaluate on the pool, build the report. The
 * HTTP route and the `deno task eval` command both call this, so a number
 * means the same thing whichever way it was produced.
 *
 * @example Usage
 * ```ts ignore
 * const report = await runEvaluation(request, { pool, registry, resolveModel, defaultModel, roots: config.datasets });
 * ```
 *
 * @module
 */

import type { WorkerPool } from "../workers/pool.ts";
import type { ModelRef } from "../models/model_ref.ts";
import type { ModelRegistry } from "../models/registry.ts";
import { localizerOf } from "../workers/match_options.ts";
import type { DatasetRoots } from "../datasets/roots.ts";
import { evaluatePairs, type EvaluationProgress } from "./evaluate_pairs.ts";
import { type EvaluationReport, evaluationReport } from "./report.ts";
import type { DatasetSlice } from "../datasets/types.ts";
import type { EvaluateRequest, ScoringFrame } from "./request.ts";
import { readScoredPairs, type ScoredPairs } from "./scored_pairs.ts";

/** What an evaluation needs from the service. */
export interface EvaluationDeps {
  pool: WorkerPool;
  registry: ModelRegistry;
  resolveModel(id: string): Promise<ModelRef>;
  /** The model of a request that names none. */
  defaultModel: string;
  /** Where each dataset is read from (`DATA_ROOT`, `DATA_PFWILLOW`... as configured). */
  roots: DatasetRoots;
}

/**
 * An evaluation checked and ready to run: the model resolved, the split read
 * and the slice selected. Preparing first means every error that does not
 * depend on the pairs (unknown model or dataset, a bad resolution) is known
 * before a streamed answer begins, and a caller that runs many slices of
 * one split (job shards) reads the split once.
 */
export interface PreparedEvaluation extends ScoredPairs {
  /** The request, its model filled in (the default when it named none). */
  request: EvaluateRequest & { model: string };
  /** The model's id and its resolved files. */
  modelId: string;
  model: ModelRef;
  frames: ScoringFrame[];
}

/**
 * Checks an evaluate request against the service and reads its slice.
 *
 * @param req The request.
 * @param deps Pool, models and dataset roots.
 * @param options `slice`: the split already read for an identical request (skips the read).
 * @returns The prepared evaluation.
 * @throws {DatasetError} When the dataset cannot be read.
 * @throws {ModelNotFoundError} When the model is unknown.
 * @throws {ResolutionError} When the model does not take the resolution.
 */
export async function prepareEvaluation(
  req: EvaluateRequest,
  deps: EvaluationDeps,
  options: { slice?: DatasetSlice } = {},
): Promise<PreparedEvaluation> {
  const request = { ...req, model: req.model ?? deps.defaultModel };
  const scored = await readScoredPairs(request, deps, options);
  const model = await deps.resolveModel(deps.registry.get(request.model).id);
  return {
    ...scored,
    request,
    modelId: model.descriptor.id,
    model,
    frames: req.frame === "both" ? ["official", "original"] : [req.frame],
  };
}

/**
 * Runs a prepared evaluation.
 *
 * @param prepared What {@linkcode prepareEvaluation} returned.
 * @param deps Pool, models and dataset roots.
 * @param options `onProgress` after each pair; `signal` stops the evaluation (no pair is
 *   started after it aborts).
 * @returns The report.
 * @throws {DOMException} `AbortError` when the signal aborts first.
 */
export async function evaluatePrepared(
  prepared: PreparedEvaluation,
  deps: EvaluationDeps,
  options: { onProgress?: (p: EvaluationProgress) => void; signal?: AbortSignal } = {},
): Promise<EvaluationReport> {
  const { request: req, slice, frames } = prepared;
  const localizer = localizerOf(req);
  // The matcher is given the clamped queries; ground truth and thresholds stay the dataset's.
  const matched = prepared.pairs.map((p, i) => ({ ...p, source_kps: prepared.queries[i] }));
  const outcome = await evaluatePairs({ ...slice, pairs: matched }, deps.pool, {
    model: prepared.model,
    resolution: prepared.resolution,
    resize: req.resize,
    resample: req.resample,
    localizer,
    alphas: req.alphas,
    frames,
    comparison: req.comparison,
    returnPredictions: req.return_predictions,
    signal: options.signal,
    source: prepared.source,
  }, options.onProgress);
  return evaluationReport(outcome, {
    slice,
    request: req,
    model: prepared.modelId,
    resolution: prepared.resolution,
    localizer,
    frames,
    protocol: prepared.protocol,
  });
}

/**
 * Runs an evaluation: {@linkcode prepareEvaluation}, then
 * {@linkcode evaluatePrepared}.
 *
 * @param req The request.
 * @param deps Pool, models and dataset roots.
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
  return await evaluatePrepared(await prepareEvaluation(req, deps), deps, { onProgress });
}
