// This module is browser compatible.
/**
 * Clamping of annotated points into an image, as the official survey code
 * does before it matches and scores them.
 *
 * @module
 */

import type { Frame } from "./frame.ts";

/** The margin the official code keeps from the frame's border (`regularize_coordinates`, eps). */
export const OFFICIAL_CLAMP_EPS = 1e-4;

/**
 * Clamps points given in image pixels so that they lie inside the image as
 * the frame sees it, in image pixels again.
 *
 * - `stretch`: the official code maps keypoints into the `S x S` square and
 *   clamps them to `[1e-4, S - 1 - 1e-4]` (`dataset/dataset.py`,
 *   `regularize_coordinates(..., eps=1e-4)`); here the same bounds are taken
 *   back to image pixels, so a point then mapped into the square lands where
 *   the official code puts it.
 * - `letterbox`: to the pixel centres of the image, `[0, W - 1]` x `[0, H - 1]`.
 *
 * An axis of one pixel (or a square of side 1) clamps to its centre.
 * Annotations on or past the border (SPair-71k's 1-based boxes, points on
 * the last pixel's outer edge) are thus matched, not refused.
 *
 * @param points x, y pairs in image pixels.
 * @param frame The image's frame (see `makeFrame`).
 * @returns New clamped points.
 *
 * @example Usage
 * ```ts
 * import { clampToFrame } from "./clamp_to_frame.ts";
 * import { makeFrame } from "./frame.ts";
 * import assert from "node:assert/strict";
 *
 * // A 301x201 image in a 101 x 101 square: 1e-4 of the square is 3e-4 px along x.
 * const frame = makeFrame({ width: 301, height: 201 }, { size: 101, mode: "stretch" });
 * const [x, y] = clampToFrame(new Float32Array([301, -5]), frame);
 * assert.ok(Math.abs(x - (300 - 3e-4)) < 1e-4 && Math.abs(y - 2e-4) < 1e-6);
 * ```
 */
export function clampToFrame(points: Float32Array, frame: Frame): Float32Array {
  const out = new Float32Array(points.length);
  const axis = (length: number, scale: number, offset: number) => {
    if (frame.mode === "stretch" && scale > 0) {
      const hi = frame.size - 1 - OFFICIAL_CLAMP_EPS;
      return [(OFFICIAL_CLAMP_EPS - offset) / scale, (hi - offset) / scale];
    }
    return length > 1 && scale > 0 ? [0, length - 1] : [(length - 1) / 2, (length - 1) / 2];
  };
  const [x0, x1] = axis(frame.imageWidth, frame.scaleX, frame.offsetX);
  const [y0, y1] = axis(frame.imageHeight, frame.scaleY, frame.offsetY);
  for (let i = 0; i < points.length; i += 2) {
    out[i] = Math.min(Math.max(points[i], x0), x1);
    out[i + 1] = Math.min(Math.max(points[i + 1], y0), y1);
  }
  return out;
}
