/**
 * From a validated evaluate request to its report: read the split, select
 * the slice, resolve the model, evaluate on the pool, build the report. The
 * HTTP route and the `deno task eval` command both call this, so a number
 * means the same thing whichever way it was produced.
 *
 * @example Usage
 * ```ts ignore
 * const report = await runEvaluation(request, { pool, registry, resolveModel, limits, env: Deno.env.toObject() });
 * ```
 *
 * @module
 */

import type { WorkerPool } from "../workers/pool.ts";
import type { ModelRef } from "../workers/protocol.ts";
import type { ImageLimits } from "../workers/decode_image.ts";
import type { ModelRegistry } from "../models/registry.ts";
import type { LocalizerName } from "../core/localize.ts";
import type { ResizeMode } from "../core/frame.ts";
import type { PckComparison } from "../core/pck.ts";
import type { DatasetId, KeypointConvention } from "./types.ts";
import { readDataset } from "./read_dataset.ts";
import { datasetRoot } from "./roots.ts";
import { selectPairs } from "./select_pairs.ts";
import { evaluatePairs, type EvaluationProgress, type ScoringFrame } from "./evaluation.ts";
import { type EvaluationReport, evaluationReport } from "./evaluation_report.ts";

/** A validated evaluate request (the body of `POST /v1/evaluate`). */
export interface EvaluateRequest {
  dataset: DatasetId;
  split: string;
  categories?: string[];
  pair_ids?: string[];
  offset?: number;
  limit?: number;
  shards?: number;
  shard?: number;
  model: string;
  resolution?: number;
  resize: ResizeMode;
  localizer: LocalizerName;
  temperature: number;
  sigma: number;
  window: number;
  alphas: number[];
  by: "image" | "point";
  frame: ScoringFrame | "both";
  comparison: PckComparison;
  keypoints?: KeypointConvention;
  return_predictions: boolean;
  /** Save the report in `RUNS_DIR` (the route and `deno task eval --save`). */
  save_run?: boolean;
}

/** What an evaluation needs from the service. */
export interface EvaluationDeps {
  pool: WorkerPool;
  registry: ModelRegistry;
  resolveModel(id: string): Promise<ModelRef>;
  limits: ImageLimits;
  /** Where dataset roots are read from (`DATA_ROOT`, `DATA_PFWILLOW`...). */
  env: Record<string, string | undefined>;
}

/**
 * Runs an evaluation.
 *
 * @param req The request.
 * @param deps Pool, models, limits and environment.
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
  const descriptor = deps.registry.get(req.model);
  const resolution = deps.registry.resolution(descriptor, req.resolution);
  const model = await deps.resolveModel(descriptor.id);
  const root = datasetRoot(req.dataset, deps.env);
  const slice = await readDataset(req.dataset, root, {
    split: req.split,
    keypoints: req.keypoints,
  });
  const pairs = selectPairs(slice.pairs, req);
  const frames: ScoringFrame[] = req.frame === "both" ? ["official", "original"] : [req.frame];
  const localizer = {
    method: req.localizer,
    temperature: req.temperature,
    sigma: req.sigma,
    window: req.window,
  };
  const outcome = await evaluatePairs({ ...slice, pairs }, deps.pool, {
    model,
    resolution,
    resize: req.resize,
    localizer,
    alphas: req.alphas,
    frames,
    comparison: req.comparison,
    returnPredictions: req.return_predictions,
    limits: deps.limits,
  }, onProgress);
  return evaluationReport(outcome, {
    slice,
    request: req,
    model: descriptor.id,
    resolution,
    localizer,
    frames,
  });
}
