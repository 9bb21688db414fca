// This module is browser compatible.
/**
 * Mapping points from the model's input frame back to image pixels.
 *
 * @module
 */

import type { Frame } from "./frame.ts";

/**
 * Maps points from frame pixels back to original-image pixels, the inverse
 * of `imageToFrame`: `x = (x' - frame.offsetX) / frame.scaleX`, likewise
 * `y`. On a degenerate axis (`scaleX = 0`: a one-pixel image axis or a
 * one-pixel frame in stretch mode) every point maps to the image centre,
 * `(imageWidth - 1) / 2`. Points are not clamped: frame points in letterbox
 * padding map outside the image.
 *
 * @param frame The frame, from `makeFrame`.
 * @param points Interleaved `x', y'` pairs in frame pixels.
 * @returns A new array of the same length with `x, y` pairs in image pixels.
 * @throws {RangeError} If `points` has an odd length.
 *
 * @example Usage
 * ```ts
 * import { makeFrame } from "./frame.ts";
 * import { frameToImage } from "./frame_to_image.ts";
 * import assert from "node:assert/strict";
 *
 * // Letterbox 300x200 into 224: scale 224 / 300, 37 rows of padding on top.
 * const frame = makeFrame({ width: 300, height: 200 }, { size: 224, mode: "letterbox" });
 * const [x, y] = frameToImage(frame, Float32Array.of(112, 37));
 * assert.ok(Math.abs(x - 150) < 1e-4);
 * assert.ok(Math.abs(y - 0) < 1e-4);
 * ```
 */
export function frameToImage(frame: Frame, points: Float32Array): Float32Array {
  if (points.length % 2 !== 0) {
    throw new RangeError(
      `Cannot map points to image: expected x, y pairs, got ${points.length} values`,
    );
  }
  const centreX = (frame.imageWidth - 1) / 2;
  const centreY = (frame.imageHeight - 1) / 2;
  const out = new Float32Array(points.length);
  for (let i = 0; i < points.length; i += 2) {
    out[i] = frame.scaleX === 0 ? centreX : (points[i] - frame.offsetX) / frame.scaleX;
    out[i + 1] = frame.scaleY === 0 ? centreY : (points[i + 1] - frame.offsetY) / frame.scaleY;
  }
  return out;
}
