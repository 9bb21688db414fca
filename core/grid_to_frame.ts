// This module is browser compatible.
/**
 * Mapping points from the feature grid back to the model's input frame.
 *
 * @module
 */

import type { GridMapOptions } from "./frame_to_grid.ts";

/**
 * Maps points from feature-grid coordinates back to frame pixels, the
 * inverse of `frameToGrid`: `x = gx * (S - 1) / (w - 1)` and
 * `y = gy * (S - 1) / (h - 1)`. On a degenerate axis (`S = 1` or `w = 1`)
 * every point maps to the frame centre, `(S - 1) / 2`. Points are not
 * clamped.
 *
 * @param points Interleaved `gx, gy` pairs in grid coordinates (x = column, y = row).
 * @param options Frame side `size` and `grid` size.
 * @returns A new array of the same length with `x, y` pairs in frame pixels.
 * @throws {RangeError} If a size is not a positive integer or `points` has an odd length.
 *
 * @example Usage
 * ```ts
 * import { gridToFrame } from "./grid_to_frame.ts";
 * import assert from "node:assert/strict";
 *
 * // 224 frame, 16x16 grid: p = g * 223 / 15.
 * const p = gridToFrame(Float32Array.of(0, 15), { size: 224, grid: { width: 16, height: 16 } });
 * assert.deepEqual([...p], [0, 223]);
 * ```
 */
export function gridToFrame(points: Float32Array, options: GridMapOptions): Float32Array {
  const { size, grid } = options;
  const sizes = [["size", size], ["grid width", grid.width], ["grid height", grid.height]] as const;
  for (const [name, value] of sizes) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `Cannot map points to frame: ${name} must be a positive integer, got ${value}`,
      );
    }
  }
  if (points.length % 2 !== 0) {
    throw new RangeError(
      `Cannot map points to frame: expected x, y pairs, got ${points.length} values`,
    );
  }
  const degenerateX = size === 1 || grid.width === 1;
  const degenerateY = size === 1 || grid.height === 1;
  const out = new Float32Array(points.length);
  for (let i = 0; i < points.length; i += 2) {
    out[i] = degenerateX ? (size - 1) / 2 : points[i] * (size - 1) / (grid.width - 1);
    out[i + 1] = degenerateY ? (size - 1) / 2 : points[i + 1] * (size - 1) / (grid.height - 1);
  }
  return out;
}
