// This module is browser compatible.
/**
 * Mapping points from image pixels to the model's input frame.
 *
 * @module
 */

import type { Frame } from "./frame.ts";

/**
 * Maps points from original-image pixels to frame pixels:
 * `x' = x * frame.scaleX + frame.offsetX`, `y' = y * frame.scaleY +
 * frame.offsetY` (see `makeFrame` for both modes' conventions). Points are
 * not clamped.
 *
 * @param frame The frame, from `makeFrame`.
 * @param points Interleaved `x, y` pairs in image pixels.
 * @returns A new array of the same length with `x', y'` pairs in frame pixels.
 * @throws {RangeError} If `points` has an odd length.
 *
 * @example Usage
 * ```ts
 * import { makeFrame } from "./frame.ts";
 * import { imageToFrame } from "./image_to_frame.ts";
 * import assert from "node:assert/strict";
 *
 * // Stretch 300x200 to 224: x' = x * 223 / 299, y' = y * 223 / 199.
 * const frame = makeFrame({ width: 300, height: 200 }, { size: 224, mode: "stretch" });
 * assert.deepEqual([...imageToFrame(frame, Float32Array.of(299, 199))], [223, 223]);
 * ```
 */
export function imageToFrame(frame: Frame, points: Float32Array): Float32Array {
  if (points.length % 2 !== 0) {
    throw new RangeError(
      `Cannot map points to frame: expected x, y pairs, got ${points.length} values`,
    );
  }
  const out = new Float32Array(points.length);
  for (let i = 0; i < points.length; i += 2) {
    out[i] = points[i] * frame.scaleX + frame.offsetX;
    out[i + 1] = points[i + 1] * frame.scaleY + frame.offsetY;
  }
  return out;
}
