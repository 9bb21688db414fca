/**
 * `POST /v1/match`: two images and points on the first in, the corresponding
 * points on the second out. Two request forms carry the same options:
 * `multipart/form-data` (files `source`, `target`, a `points` field holding
 * JSON; what `curl -F` sends) and `application/json` (base64 images).
 *
 * @module
 */

import { Hono } from "hono";
import type { AppEnv } from "./app_env.ts";
import { TooManyPointsError } from "../errors/mod.ts";
import { imageBodyLimit } from "./middleware/image_body_limit.ts";
import { overloadGuard } from "./middleware/overload_guard.ts";
import { parseInput } from "./_validate.ts";
import { readMatchRequest } from "./_image_body.ts";
import { inputConventions } from "./_conventions.ts";
import { checkImage } from "../workers/image_limits.ts";
import { localizerOf, MatchOptionsSchema, PointsSchema } from "../workers/match_options.ts";

/**
 * Decimals of answered coordinates: a thousandth of a pixel is far below any
 * localizer's precision, and float32 noise (`143.7930145263672`) is not data.
 */
export const COORDINATE_DECIMALS = 3;

/** Decimals of answered scores (cosine similarities in [-1, 1]). */
export const SCORE_DECIMALS = 4;

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

const app = new Hono<AppEnv>();

app.post(
  "/",
  overloadGuard(),
  imageBodyLimit(2),
  async (c) => {
    const { pool, config, registry, resolveModel, defaultModel } = c.var.services;
    const body = await readMatchRequest(c.req.raw);
    if (Array.isArray(body.points) && body.points.length > config.limits.maxPoints) {
      throw new TooManyPointsError(
        `Cannot match ${body.points.length} points: the limit is ${config.limits.maxPoints}`,
        { details: { limit: config.limits.maxPoints, actual: body.points.length } },
      );
    }
    const points = parseInput(PointsSchema, body.points, { path: ["points"] });
    const options = parseInput(MatchOptionsSchema, body.options);
    const limits = { maxBytes: config.limits.maxBytes, maxPixels: config.limits.maxPixels };
    checkImage(body.source, limits);
    checkImage(body.target, limits);
    const descriptor = registry.get(options.model ?? defaultModel);
    const resolution = registry.resolution(descriptor, options.resolution);
    const model = await resolveModel(descriptor.id);
    c.set("model", descriptor.id);
    const localizer = localizerOf(options);
    const started = performance.now();
    const result = await pool.run("match", {
      source: body.source,
      target: body.target,
      points: Float32Array.from(points.flat()),
      model,
      resolution,
      resize: options.resize,
      resample: options.resample,
      localizer,
    }, { transfer: [body.source.buffer as ArrayBuffer, body.target.buffer as ArrayBuffer] });
    const total = performance.now() - started;
    const matches = [];
    for (let i = 0; i < points.length; i++) {
      matches.push({
        x: round(result.matches[3 * i], COORDINATE_DECIMALS),
        y: round(result.matches[3 * i + 1], COORDINATE_DECIMALS),
        score: round(result.matches[3 * i + 2], SCORE_DECIMALS),
      });
    }
    return c.json({
      model: descriptor.id,
      backend: result.backend,
      matches,
      source: result.source_size,
      target: result.target_size,
      grid: result.grid,
      conventions: {
        ...inputConventions({ resolution, resize: options.resize, resample: options.resample }),
        localizer,
      },
      timings_ms: { ...result.timings, total },
    });
  },
);

export default app;
