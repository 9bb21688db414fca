// This module is browser compatible.
/**
 * Nearest-neighbour (argmax) localization on a score map.
 *
 * @module
 */

import type { GridSize } from "./frame_to_grid.ts";

/** A localized match, in grid coordinates. */
export interface Localization {
  /** Column, in grid coordinates (may be fractional). */
  x: number;
  /** Row, in grid coordinates (may be fractional). */
  y: number;
  /** The map's best score: the cosine similarity at its argmax cell. */
  score: number;
}

/**
 * Finds the best cell of one query's score map (`nn`, the official
 * `select_top_feat_coord`): the argmax, taking the first cell in row-major
 * order on ties.
 *
 * @param scores The score map, row-major `grid.height * grid.width` values.
 * @param grid Grid columns and rows.
 * @returns The argmax cell's column `x`, row `y` and `score`.
 * @throws {RangeError} If the grid size is not positive integers, `scores` has the wrong length, or a score is not finite.
 *
 * @example Usage
 * ```ts
 * import { localizeNn } from "./localize_nn.ts";
 * import assert from "node:assert/strict";
 *
 * // 3x2 grid, best score 0.9 at column 1, row 1.
 * const best = localizeNn(Float32Array.of(0.1, 0.2, 0.3, 0.4, 0.9, 0.5), { width: 3, height: 2 });
 * assert.deepEqual(best, { x: 1, y: 1, score: Math.fround(0.9) });
 * ```
 */
export function localizeNn(scores: Float32Array, grid: GridSize): Localization {
  const { width, height } = grid;
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new RangeError(
      `Cannot localize: grid size must be positive integers, got ${width}x${height}`,
    );
  }
  if (scores.length !== width * height) {
    throw new RangeError(
      `Cannot localize: expected ${
        width * height
      } scores for a ${width}x${height} grid, got ${scores.length}`,
    );
  }
  let best = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) {
      throw new RangeError(`Cannot localize: score ${i} is not finite (${scores[i]})`);
    }
    if (scores[i] > scores[best]) best = i;
  }
  return { x: best % width, y: Math.floor(best / width), score: scores[best] };
}
