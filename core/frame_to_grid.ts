// This module is browser compatible.
/**
 * Mapping points from the model's input frame to its feature grid.
 *
 * @module
 */

/** Size of a feature grid: `width` columns by `height` rows of cells. */
export interface GridSize {
  /** Number of columns `w` (a positive integer). */
  width: number;
  /** Number of rows `h` (a positive integer). */
  height: number;
}

/** Frame and grid sizes for {@linkcode frameToGrid} and `gridToFrame`. */
export interface GridMapOptions {
  /** Side `S` of the square frame, in pixels (a positive integer). */
  size: number;
  /** Size of the feature grid the frame produces. */
  grid: GridSize;
}

/**
 * Maps points from frame pixels to feature-grid coordinates with the
 * official align-corners formula, `gx = x * (w - 1) / (S - 1)` and
 * `gy = y * (h - 1) / (S - 1)`: frame pixel 0 maps to cell 0 and pixel
 * `S - 1` to cell `w - 1`. Cell `(i, j)` is at grid coordinates `(i, j)`
 * (x = column, y = row), which is what `sampleFeatures` expects. On a
 * degenerate axis (`S = 1` or `w = 1`) every point maps to the grid centre,
 * `(w - 1) / 2`. Points are not clamped.
 *
 * @param points Interleaved `x, y` pairs in frame pixels.
 * @param options Frame side `size` and `grid` size.
 * @returns A new array of the same length with `gx, gy` pairs.
 * @throws {RangeError} If a size is not a positive integer or `points` has an odd length.
 *
 * @example Usage
 * ```ts
 * import { frameToGrid } from "./frame_to_grid.ts";
 * import assert from "node:assert/strict";
 *
 * // 224 frame, 16x16 grid: g = p * 15 / 223.
 * const g = frameToGrid(Float32Array.of(0, 223), { size: 224, grid: { width: 16, height: 16 } });
 * assert.deepEqual([...g], [0, 15]);
 * ```
 */
export function frameToGrid(points: Float32Array, options: GridMapOptions): Float32Array {
  const { size, grid } = options;
  const sizes = [["size", size], ["grid width", grid.width], ["grid height", grid.height]] as const;
  for (const [name, value] of sizes) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `Cannot map points to grid: ${name} must be a positive integer, got ${value}`,
      );
    }
  }
  if (points.length % 2 !== 0) {
    throw new RangeError(
      `Cannot map points to grid: expected x, y pairs, got ${points.length} values`,
    );
  }
  const degenerateX = size === 1 || grid.width === 1;
  const degenerateY = size === 1 || grid.height === 1;
  const out = new Float32Array(points.length);
  for (let i = 0; i < points.length; i += 2) {
    out[i] = degenerateX ? (grid.width - 1) / 2 : points[i] * (grid.width - 1) / (size - 1);
    out[i + 1] = degenerateY
      ? (grid.height - 1) / 2
      : points[i + 1] * (grid.height - 1) / (size - 1);
  }
  return out;
}
