// This module is browser compatible.
/**
 * Four-corner bilinear localization (the survey's `bilinear`).
 *
 * @module
 */

import type { GridSize } from "./frame_to_grid.ts";
import { type Localization, localizeNn } from "./localize_nn.ts";

/**
 * Blends the nearest-neighbour matches of the four grid cells around a
 * query (the official `bilinear_get_matches`): each corner's score map is
 * reduced to its argmax cell (first on ties), and the result is the mean of
 * those four cells weighted by the query's bilinear weights, divided by the
 * weights' sum. The score is the same weighted mean of the four maps' best
 * scores. `localizerProbes` computes the corners and weights.
 *
 * @param cornerScores The four corners' score maps, `[4, grid.height * grid.width]` row-major.
 * @param grid Grid columns and rows.
 * @param weights The four corners' bilinear weights (>= 0, positive sum).
 * @returns The blended column `x`, row `y` and `score`.
 * @throws {RangeError} If the sizes disagree, a score is not finite, or the weights are not 4 values >= 0 with a positive sum.
 *
 * @example Usage
 * ```ts
 * import { localizeBilinear } from "./localize_bilinear.ts";
 * import assert from "node:assert/strict";
 *
 * // 2x1 grid; corners 0 and 2 match cell 0 (score 1), corners 1 and 3 match cell 1 (score 0.5).
 * const maps = Float32Array.of(1, 0, 0, 0.5, 1, 0, 0, 0.5);
 * const m = localizeBilinear(maps, { width: 2, height: 1 }, Float32Array.of(0.25, 0.25, 0.25, 0.25));
 * assert.deepEqual(m, { x: 0.5, y: 0, score: 0.75 });
 * ```
 */
export function localizeBilinear(
  cornerScores: Float32Array,
  grid: GridSize,
  weights: Float32Array,
): Localization {
  const cells = grid.width * grid.height;
  if (cornerScores.length !== 4 * cells) {
    throw new RangeError(
      `Cannot localize with bilinear: expected 4 maps of ${cells} scores, got ${cornerScores.length} values`,
    );
  }
  if (weights.length !== 4) {
    throw new RangeError(
      `Cannot localize with bilinear: expected 4 weights, got ${weights.length}`,
    );
  }
  let total = 0;
  for (const w of weights) {
    if (!(w >= 0) || !Number.isFinite(w)) {
      throw new RangeError(
        `Cannot localize with bilinear: weights must be finite and >= 0, got ${w}`,
      );
    }
    total += w;
  }
  if (!(total > 0)) {
    throw new RangeError("Cannot localize with bilinear: the weights sum to 0");
  }
  let x = 0;
  let y = 0;
  let score = 0;
  for (let k = 0; k < 4; k++) {
    const best = localizeNn(cornerScores.subarray(k * cells, (k + 1) * cells), grid);
    x += weights[k] * best.x;
    y += weights[k] * best.y;
    score += weights[k] * best.score;
  }
  return { x: x / total, y: y / total, score: score / total };
}
