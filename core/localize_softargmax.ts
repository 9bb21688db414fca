// This module is browser compatible.
/**
 * Soft-argmax localization on a score map.
 *
 * @module
 */

import type { GridSize } from "./frame_to_grid.ts";
import { type Localization, localizeNn } from "./localize_nn.ts";

/** Options of {@linkcode localizeSoftargmax}. */
export interface SoftargmaxOptions {
  /** Softmax temperature `T` (> 0): 0.04 is the survey evaluator's default, 0.03 its test script's. */
  temperature: number;
}

/**
 * Soft-argmax of one query's score map (the official
 * `softargmax_get_matches`): `p = softmax(s / T)` over all cells (computed as
 * `exp((s - max) / T)` for stability), then the `p`-weighted mean of the
 * cells' grid coordinates (cell `(i, j)` at `x = i`, `y = j`). Sums run in
 * float64.
 *
 * @param scores The score map, row-major `grid.height * grid.width` values.
 * @param grid Grid columns and rows.
 * @param options The softmax `temperature`.
 * @returns The expected column `x` and row `y`, and the map's best `score` (its argmax value).
 * @throws {RangeError} If the sizes disagree, a score is not finite, or `temperature` is not a positive number.
 *
 * @example Usage
 * ```ts
 * import { localizeSoftargmax } from "./localize_softargmax.ts";
 * import assert from "node:assert/strict";
 *
 * // Two equal peaks at columns 0 and 2 of a 3x1 grid; the middle cell is far below.
 * const m = localizeSoftargmax(Float32Array.of(1, -1, 1), { width: 3, height: 1 }, { temperature: 0.03 });
 * assert.ok(Math.abs(m.x - 1) < 1e-9);
 * assert.equal(m.score, 1);
 * ```
 */
export function localizeSoftargmax(
  scores: Float32Array,
  grid: GridSize,
  options: SoftargmaxOptions,
): Localization {
  const best = localizeNn(scores, grid);
  const { temperature } = options;
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new RangeError(
      `Cannot localize with softargmax: temperature must be a positive number, got ${temperature}`,
    );
  }
  const { width } = grid;
  let sum = 0;
  let sumX = 0;
  let sumY = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = Math.exp((scores[i] - best.score) / temperature);
    sum += p;
    sumX += p * (i % width);
    sumY += p * Math.floor(i / width);
  }
  return { x: sumX / sum, y: sumY / sum, score: best.score };
}
