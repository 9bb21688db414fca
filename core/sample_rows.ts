// This module is browser compatible.
/**
 * Bilinear blending of the rows of a matrix whose rows are grid cells: the
 * query side of a dense cost volume.
 *
 * @module
 */

/** Layout of a `[height * width, columns]` matrix whose rows are grid cells. */
export interface RowGridDims {
  /** Grid rows `h` (a positive integer). */
  height: number;
  /** Grid columns `w` (a positive integer). */
  width: number;
  /** Values per row, e.g. target cells of a cost volume (a positive integer). */
  columns: number;
}

/**
 * Samples, at points in grid coordinates, a matrix whose row
 * `y * width + x` belongs to grid cell `(x, y)`: each point gets the blend of
 * the rows of its (up to) four surrounding cells with bilinear weights, and
 * rows outside the grid count as zeros.
 *
 * It is {@linkcode sampleFeatures} applied to the transposed matrix (a CHW
 * map with `columns` channels, sums in float64 as there), the same weights
 * and zero padding as torch's `grid_sample(..., align_corners=True)`,
 * without the transpose. A point on
 * a cell returns that cell's row exactly. On a dense cost volume
 * (source cells x target cells) it yields the score map of a query that
 * lies between source cells.
 *
 * @param matrix `[height * width, columns]` row-major.
 * @param dims Grid height and width of the rows, and the row length.
 * @param points Interleaved `x, y` pairs in grid coordinates (x = column, y = row).
 * @returns A new `[Q, columns]` row-major array.
 * @throws {RangeError} If a size is not a positive integer, `matrix` has the
 *   wrong length, `points` has an odd length, or a point is not finite.
 *
 * @example Usage
 * ```ts
 * import { sampleRows } from "./sample_rows.ts";
 * import assert from "node:assert/strict";
 *
 * // A 2x1 grid of rows [1, 0] and [0, 1]; the midpoint blends them.
 * const rows = sampleRows(Float32Array.of(1, 0, 0, 1), { height: 1, width: 2, columns: 2 }, Float32Array.of(0.5, 0, 1, 0));
 * assert.deepEqual([...rows], [0.5, 0.5, 0, 1]);
 * ```
 */
export function sampleRows(
  matrix: Float32Array,
  dims: RowGridDims,
  points: Float32Array,
): Float32Array {
  const { height, width, columns } = dims;
  for (const [name, value] of [["height", height], ["width", width], ["columns", columns]]) {
    if (!Number.isInteger(value) || (value as number) < 1) {
      throw new RangeError(`Cannot sample rows: ${name} must be a positive integer, got ${value}`);
    }
  }
  if (matrix.length !== height * width * columns) {
    throw new RangeError(
      `Cannot sample rows: expected ${
        height * width * columns
      } values for ${height}x${width} rows of ${columns}, got ${matrix.length}`,
    );
  }
  if (points.length % 2 !== 0) {
    throw new RangeError(`Cannot sample rows: expected x, y pairs, got ${points.length} values`);
  }
  const count = points.length / 2;
  const out = new Float32Array(count * columns);
  const row = new Float64Array(columns);
  for (let q = 0; q < count; q++) {
    const x = points[2 * q];
    const y = points[2 * q + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      throw new RangeError(`Cannot sample rows: point ${q} is not finite (${x}, ${y})`);
    }
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    row.fill(0);
    for (let dy = 0; dy < 2; dy++) {
      const gy = y0 + dy;
      const wy = dy === 0 ? 1 - fy : fy;
      if (gy < 0 || gy >= height || wy === 0) continue;
      for (let dx = 0; dx < 2; dx++) {
        const gx = x0 + dx;
        const wx = dx === 0 ? 1 - fx : fx;
        if (gx < 0 || gx >= width || wx === 0) continue;
        const w = wx * wy;
        const src = (gy * width + gx) * columns;
        for (let j = 0; j < columns; j++) row[j] += matrix[src + j] * w;
      }
    }
    out.set(row, q * columns);
  }
  return out;
}
