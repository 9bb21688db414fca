/**
 * `POST /v1/match`: two images and points on the first in, the corresponding
 * points on the second out. Two request forms carry the same options:
 * `multipart/form-data` (files `source`, `target`, a `points` field holding
 * JSON; what `curl -F` sends) and `application/json` (base64 images).
 *
 * @module
 */

import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "./app_env.ts";
import { PayloadTooLargeError, TooManyPointsError } from "../errors/mod.ts";
import { parseInput } from "./_validate.ts";
import { readMatchRequest } from "./_match_body.ts";
import { checkImage } from "../workers/decode_image.ts";
import { localizerOf, MatchOptionsSchema, PointsSchema } from "../workers/match_options.ts";

const app = new Hono<AppEnv>();

app.post(
  "/",
  // Two images of at most maxBytes each, base64 in JSON (4/3), plus fields.
  async function matchBodyLimit(c, next) {
    const limit = Math.ceil(c.var.services.config.limits.maxBytes * 2 * 1.4) + 1_000_000;
    return await bodyLimit({
      maxSize: limit,
      onError: () => {
        throw new PayloadTooLargeError(`Request body exceeds ${limit} bytes`, {
          details: { limit },
        });
      },
    })(c, next);
  },
  async (c) => {
    const { pool, config, registry, resolveModel } = c.var.services;
    const body = await readMatchRequest(c.req.raw);
    if (Array.isArray(body.points) && body.points.length > config.limits.maxPoints) {
      throw new TooManyPointsError(
        `Cannot match ${body.points.length} points: the limit is ${config.limits.maxPoints}`,
        { details: { limit: config.limits.maxPoints, actual: body.points.length } },
      );
    }
    const points = parseInput(PointsSchema, body.points);
    const options = parseInput(MatchOptionsSchema, body.options);
    const limits = { maxBytes: config.limits.maxBytes, maxPixels: config.limits.maxPixels };
    checkImage(body.source, limits);
    checkImage(body.target, limits);
    const descriptor = registry.get(options.model);
    const resolution = registry.resolution(descriptor, options.resolution);
    const model = await resolveModel(descriptor.id);
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
      limits,
    }, { transfer: [body.source.buffer as ArrayBuffer, body.target.buffer as ArrayBuffer] });
    const total = performance.now() - started;
    const matches = [];
    for (let i = 0; i < points.length; i++) {
      matches.push({
        x: result.matches[3 * i],
        y: result.matches[3 * i + 1],
        score: result.matches[3 * i + 2],
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
        resolution,
        resize: options.resize,
        resample: options.resample,
        localizer,
        coordinates:
          "pixels; integer coordinates are pixel centres, (0, 0) is the centre of the top-left pixel, x right, y down",
        grid_mapping: options.resize === "stretch"
          ? "x' = x * (S - 1) / (W - 1) into the S x S input, then g = x' * (w - 1) / (S - 1) (align corners)"
          : "x' = x * S / max(W, H) + pad into the letterboxed S x S input, then g = x' * (w - 1) / (S - 1) (align corners)",
      },
      timings_ms: { ...result.timings, total },
    });
  },
);

export default app;
