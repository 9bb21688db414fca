/**
 * A `/v1/match` request from the wire to the pool, shared by the routes that
 * take it (`/v1/match`, `/v1/visualize`): read either form, bound the point
 * count, validate points and options, check both images' headers, resolve
 * the model, then run the worker's `match` (or `picture`) operation.
 *
 * @example Usage
 * ```ts ignore
 * const prepared = await prepareMatch(c, MatchOptionsSchema);
 * const { result, total } = await runMatch(c.var.services, prepared);
 * ```
 *
 * @module
 */

import type { Context } from "hono";
import type { z } from "zod";
import type { AppEnv, Services } from "./app_env.ts";
import { TooManyPointsError } from "../errors/mod.ts";
import { parseInput } from "./_validate.ts";
import { readMatchRequest } from "./_image_body.ts";
import { checkImage } from "../workers/image_limits.ts";
import {
  localizerOf,
  type MatchOptions,
  type MatchOptionsSchema,
  PointsSchema,
} from "../workers/match_options.ts";
import type { ModelRef } from "../models/model_ref.ts";
import type { ModelDescriptor } from "../models/descriptor.ts";
import type { LocalizerOptions } from "../core/localizer_options.ts";
import type { MatchJob, MatchResult, PictureResult } from "../workers/protocol.ts";

/** A validated match request, its model resolved. */
export interface PreparedMatch<O extends MatchOptions> {
  source: Uint8Array;
  target: Uint8Array;
  points: [number, number][];
  options: O;
  descriptor: ModelDescriptor;
  model: ModelRef;
  resolution: number;
  localizer: LocalizerOptions;
}

/**
 * Reads and checks a match request.
 *
 * @param c The request context (its model is set for the access log).
 * @param schema `MatchOptionsSchema` or an extension of it.
 * @returns The prepared request.
 * @throws {TooManyPointsError} Over `MAX_POINTS`.
 * @throws {InvalidRequestError} For invalid points or options.
 * @throws {ImageTooLargeError} For an image over the limits.
 * @throws {ModelNotFoundError} For an unknown model.
 */
export async function prepareMatch<S extends typeof MatchOptionsSchema>(
  c: Context<AppEnv>,
  schema: S,
): Promise<PreparedMatch<z.output<S>>> {
  const { config, registry, resolveModel, defaultModel } = c.var.services;
  const body = await readMatchRequest(c.req.raw);
  if (Array.isArray(body.points) && body.points.length > config.limits.maxPoints) {
    throw new TooManyPointsError(
      `Cannot match ${body.points.length} points: the limit is ${config.limits.maxPoints}`,
      { details: { limit: config.limits.maxPoints, actual: body.points.length } },
    );
  }
  const points = parseInput(PointsSchema, body.points, { path: ["points"] });
  const options = parseInput(schema, body.options);
  const limits = {
    maxBytes: config.limits.maxBytes,
    maxPixels: config.limits.maxPixels,
    maxDecodedBytes: config.limits.maxDecodedBytes,
  };
  checkImage(body.source, limits);
  checkImage(body.target, limits);
  const descriptor = registry.get(options.model ?? defaultModel);
  const resolution = registry.resolution(descriptor, options.resolution);
  const model = await resolveModel(descriptor.id);
  c.set("model", descriptor.id);
  return {
    source: body.source,
    target: body.target,
    points,
    options,
    descriptor,
    model,
    resolution,
    localizer: localizerOf(options),
  };
}

/**
 * Runs a prepared match on the pool. The images' buffers are moved to the
 * worker: copy them first to use them afterwards.
 *
 * @param services The pool.
 * @param prepared The request.
 * @param options `scoreMap`: also compute the first query's score map.
 * @returns The worker's result and the wall time in milliseconds.
 */
export async function runMatch(
  services: Services,
  prepared: PreparedMatch<MatchOptions>,
  options: { scoreMap?: boolean } = {},
): Promise<{ result: MatchResult; total: number }> {
  const started = performance.now();
  const job = { ...matchJob(prepared), ...(options.scoreMap ? { score_map: true } : {}) };
  const result = await services.pool.run("match", job, { transfer: transferOf(prepared) });
  return { result, total: performance.now() - started };
}

/**
 * Runs a prepared match on the pool and has the worker draw it as a PNG
 * (`/v1/visualize`). The images' buffers are moved to the worker.
 *
 * @param services The pool.
 * @param prepared The request.
 * @param options `heatmap`: overlay the target with the first query's score map.
 * @returns The PNG and where each image lies in it.
 */
export async function runPicture(
  services: Services,
  prepared: PreparedMatch<MatchOptions>,
  options: { heatmap: boolean },
): Promise<PictureResult> {
  const job = { ...matchJob(prepared), heatmap: options.heatmap };
  return await services.pool.run("picture", job, { transfer: transferOf(prepared) });
}

function matchJob(prepared: PreparedMatch<MatchOptions>): MatchJob {
  return {
    source: prepared.source,
    target: prepared.target,
    points: Float32Array.from(prepared.points.flat()),
    model: prepared.model,
    resolution: prepared.resolution,
    resize: prepared.options.resize,
    resample: prepared.options.resample,
    localizer: prepared.localizer,
  };
}

function transferOf(prepared: PreparedMatch<MatchOptions>): ArrayBuffer[] {
  return [prepared.source.buffer as ArrayBuffer, prepared.target.buffer as ArrayBuffer];
}
