/**
 * The conventions a result's coordinates follow, stated in every answer
 * that maps between image pixels and the feature grid (`/v1/match`,
 * `/v1/features`), so a client can reproduce the mapping.
 *
 * @example Usage
 * ```ts
 * import { inputConventions } from "./_conventions.ts";
 * import assert from "node:assert/strict";
 *
 * const c = inputConventions({ resolution: 448, resize: "stretch", resample: "torch" });
 * assert.match(c.grid_mapping, /\(S - 1\) \/ \(W - 1\)/);
 * ```
 *
 * @module
 */

import { z } from "zod";
import { RESIZE_MODES, type ResizeMode } from "../core/frame.ts";
import { RESAMPLE_MODES, type ResampleMode } from "../core/model_input.ts";

/** How an image became the model's input, and how its pixels map to the grid. */
export const InputConventionsSchema = z.object({
  resolution: z.int().describe("side S of the square model input"),
  resize: z.enum(RESIZE_MODES),
  resample: z.enum(RESAMPLE_MODES),
  coordinates: z.string().describe("the pixel convention of every coordinate"),
  grid_mapping: z.string().describe("how image pixels map to the feature grid"),
});

/** The conventions of an answer. */
export type InputConventions = z.output<typeof InputConventionsSchema>;

/**
 * The conventions of one input setting.
 *
 * @param input Side, resize mode and resample mode.
 * @returns The conventions, with human-readable coordinate and mapping rules.
 */
export function inputConventions(
  input: { resolution: number; resize: ResizeMode; resample: ResampleMode },
): InputConventions {
  return {
    resolution: input.resolution,
    resize: input.resize,
    resample: input.resample,
    coordinates:
      "pixels; integer coordinates are pixel centres, (0, 0) is the centre of the top-left pixel, x right, y down",
    grid_mapping: input.resize === "stretch"
      ? "x' = x * (S - 1) / (W - 1) into the S x S input, then g = x' * (w - 1) / (S - 1) (align corners)"
      : "x' = x * S / max(W, H) + pad into the letterboxed S x S input, then g = x' * (w - 1) / (S - 1) (align corners)",
  };
}
