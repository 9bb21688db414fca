/**
 * `POST /v1/match`: two images and points on the first in, the corresponding
 * points on the second out. Two request forms carry the same options:
 * `multipart/form-data` (files `source`, `target`, a `points` field holding
 * JSON; what `curl -F` sends) and `application/json` (base64 images).
 *
 * @module
 */

import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "./app_env.ts";
import { imageBodyLimit } from "./middleware/image_body_limit.ts";
import { overloadGuard } from "./middleware/overload_guard.ts";
import { inputConventions, InputConventionsSchema } from "./_conventions.ts";
import { prepareMatch, runMatch } from "./_match_request.ts";
import { LocalizerSchema, MatchOptionsSchema } from "../workers/match_options.ts";

/**
 * Decimals of answered coordinates: a thousandth of a pixel is far below any
 * localizer's precision, and float32 noise (`143.7930145263672`) is not data.
 */
export const COORDINATE_DECIMALS = 3;

/** Decimals of answered scores (cosine similarities in [-1, 1]). */
export const SCORE_DECIMALS = 4;

/** An image's size in pixels. */
export const ImageSizeSchema = z.object({ width: z.int(), height: z.int() });

/** Milliseconds per stage, and the request's wall time in `total`. */
export const TimingsSchema = z.record(z.string(), z.number()).describe(
  "milliseconds per stage (decode, preprocess, extract, match) and in all (total)",
);

/** The answer of `POST /v1/match`. */
export const MatchResponseSchema = z.object({
  model: z.string(),
  backend: z.string().describe("the onnxruntime backend that ran it: native, wasm or webgpu"),
  matches: z.array(z.object({
    x: z.number().describe(`target pixels, ${COORDINATE_DECIMALS} decimals`),
    y: z.number(),
    score: z.number().describe(`cosine similarity at the match, ${SCORE_DECIMALS} decimals`),
  })).describe("one per query point, in order"),
  source: ImageSizeSchema,
  target: ImageSizeSchema,
  grid: z.object({ height: z.int(), width: z.int() }).describe("the target's feature grid"),
  conventions: InputConventionsSchema.extend({ localizer: LocalizerSchema }),
  timings_ms: TimingsSchema,
});

/** The answer of `POST /v1/match`. */
export type MatchResponse = z.output<typeof MatchResponseSchema>;

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
    const prepared = await prepareMatch(c, MatchOptionsSchema);
    const { options, resolution, localizer } = prepared;
    const { result, total } = await runMatch(c.var.services, prepared);
    const matches = [];
    for (let i = 0; i < prepared.points.length; i++) {
      matches.push({
        x: round(result.matches[3 * i], COORDINATE_DECIMALS),
        y: round(result.matches[3 * i + 1], COORDINATE_DECIMALS),
        score: round(result.matches[3 * i + 2], SCORE_DECIMALS),
      });
    }
    const answer: MatchResponse = {
      model: prepared.descriptor.id,
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
    };
    return c.json(answer);
  },
);

export default app;
