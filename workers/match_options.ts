/**
 * The options of a match as a client sends them, shared by every request
 * that matches (`/v1/match`, `/v1/evaluate`, the eval command): model,
 * input side, resize and resample modes and localizer with its parameters. Multipart
 * fields arrive as strings, so numbers are coerced.
 *
 * @example Usage
 * ```ts
 * import { MatchOptionsSchema, PointsSchema } from "./match_options.ts";
 * import assert from "node:assert/strict";
 *
 * const o = MatchOptionsSchema.parse({ localizer: "nn", temperature: "0.05" });
 * assert.equal(o.localizer, "nn");
 * assert.equal(o.temperature, 0.05);
 * assert.equal(o.resize, "stretch");
 * assert.equal(o.model, undefined);
 * assert.equal(o.resample, "torch");
 * assert.ok(!PointsSchema.safeParse([[1]]).success);
 * ```
 *
 * @module
 */

import { z } from "zod";
import {
  DEFAULT_LOCALIZER,
  LOCALIZER_NAMES,
  type LocalizerOptions,
} from "../core/localizer_options.ts";
import { RESIZE_MODES } from "../core/frame.ts";
import { DEFAULT_RESAMPLE, RESAMPLE_MODES } from "../core/model_input.ts";

const num = z.coerce.number().refine(Number.isFinite, "Expected a finite number");

/**
 * Options shared by every request that matches. `model` stays undefined when
 * the request names none: the service fills in its configured default.
 */
export const MatchOptionsSchema = z.object({
  model: z.string().min(1).optional(),
  resolution: z.coerce.number().int().positive().optional(),
  resize: z.enum(RESIZE_MODES).default("stretch"),
  resample: z.enum(RESAMPLE_MODES).default(DEFAULT_RESAMPLE),
  localizer: z.enum(LOCALIZER_NAMES).default(DEFAULT_LOCALIZER.method),
  temperature: num.pipe(z.number().positive()).default(DEFAULT_LOCALIZER.temperature),
  sigma: num.pipe(z.number().positive()).default(DEFAULT_LOCALIZER.sigma),
  window: z.coerce.number().int().min(0).default(DEFAULT_LOCALIZER.window),
});

/** Validated match options. */
export type MatchOptions = z.output<typeof MatchOptionsSchema>;

/** Query points: `[[x, y], ...]` in source-image pixels. */
export const PointsSchema = z.array(z.tuple([z.number().finite(), z.number().finite()])).min(1);

/**
 * A localizer with its parameters as answers echo it (`conventions.localizer`,
 * an evaluation's `localizer`): {@linkcode LocalizerOptions} as JSON.
 */
export const LocalizerSchema = z.object({
  method: z.enum(LOCALIZER_NAMES),
  temperature: z.number().describe("softmax temperature (beta of window-softargmax)"),
  sigma: z.number().describe("Gaussian sigma of kernel-softargmax, in grid cells"),
  window: z.int().describe("half-size of the window-softargmax window, in grid cells"),
}) satisfies z.ZodType<LocalizerOptions>;

/**
 * The localizer part of validated options, as the pipeline takes it.
 *
 * @param options Validated match options.
 * @returns The localizer with its parameters.
 */
export function localizerOf(options: MatchOptions): LocalizerOptions {
  return {
    method: options.localizer,
    temperature: options.temperature,
    sigma: options.sigma,
    window: options.window,
  };
}
