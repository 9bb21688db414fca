// This module is browser compatible.
/**
 * Windowed soft-argmax localization (GeoAware-SC).
 *
 * @module
 */

import type { GridSize } from "./frame_to_grid.ts";
import { type Localization, localizeNn } from "./localize_nn.ts";

/** Options of {@linkcode localizeWindowSoftargmax}. */
export interface WindowSoftargmaxOptions {
  /** Half-size `w` of the window, in cells (an integer >= 0): GeoAware-SC uses 7 supervised, 5 zero-shot. */
  window: number;
  /** Softmax temperature `beta` (> 0); default 0.02, GeoAware-SC's value. */
  beta?: number;
}

/** GeoAware-SC's softmax temperature. */
const DEFAULT_BETA = 0.02;

/**
 * Windowed soft-argmax of one query's score map, as GeoAware-SC computes it
 * (Junyi42/GeoAware-SC, `utils/utils_correspondence.py`: `get_flow` with
 * `flow_window > 0`, then `soft_argmax` and
 * `unnormalise_and_convert_mapping_to_flow`):
 *
 * 1. `(ax, ay)` = the argmax cell (first on ties).
 * 2. The window is the cells with `|x - ax| <= w` and `|y - ay| <= w`,
 *    clipped at the grid border (GeoAware clamps the window indices, so no
 *    padding cells exist). Scores outside the window are set to 0, not
 *    removed: they still enter the softmax with `exp((0 - max) / beta)`,
 *    negligible when the peak is well above 0 but not when all scores are
 *    near or below 0.
 * 3. `p = softmax(masked / beta)` over the whole grid.
 * 4. The `p`-weighted mean is taken on the normalized grid
 *    `linspace(-1, 1, w)` (and likewise rows), then unnormalized with
 *    `(n + 1) * (w - 1) / 2` back to grid coordinates (a one-cell axis
 *    gives 0). This equals the weighted mean of the cell indices up to
 *    rounding.
 *
 * `window = 0` keeps the argmax cell alone. (GeoAware's
 * `SOFT_EVAL_WINDOW = 0` instead disables the window: that is the plain
 * `softargmax` localizer with `T = beta`.) Sums run in float64.
 *
 * @param scores The score map, row-major `grid.height * grid.width` values.
 * @param grid Grid columns and rows.
 * @param options Window half-size `window` and softmax temperature `beta` (default 0.02).
 * @returns The expected column `x` and row `y`, and the map's best raw `score`.
 * @throws {RangeError} If the sizes disagree, a score is not finite, `window` is not an integer >= 0, or `beta` is not a positive number.
 *
 * @example Usage
 * ```ts
 * import { localizeWindowSoftargmax } from "./localize_window_softargmax.ts";
 * import assert from "node:assert/strict";
 *
 * // Peaks 1 at column 0 and 1 at column 9 of a 10x1 grid; a window of 2
 * // around the first argmax (column 0) masks the second peak to 0.
 * const scores = new Float32Array(10);
 * scores[0] = 1;
 * scores[9] = 1;
 * const m = localizeWindowSoftargmax(scores, { width: 10, height: 1 }, { window: 2 });
 * assert.ok(Math.abs(m.x) < 1e-9);
 * assert.equal(m.score, 1);
 * ```
 */
export function localizeWindowSoftargmax(
  scores: Float32Array,
  grid: GridSize,
  options: WindowSoftargmaxOptions,
): Localization {
  const best = localizeNn(scores, grid);
  const { window, beta = DEFAULT_BETA } = options;
  if (!Number.isInteger(window) || window < 0) {
    throw new RangeError(
      `Cannot localize with window-softargmax: window must be an integer >= 0, got ${window}`,
    );
  }
  if (!(beta > 0) || !Number.isFinite(beta)) {
    throw new RangeError(
      `Cannot localize with window-softargmax: beta must be a positive number, got ${beta}`,
    );
  }
  const { width, height } = grid;
  const masked = new Float64Array(scores.length);
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    const inside = Math.abs((i % width) - best.x) <= window &&
      Math.abs(Math.floor(i / width) - best.y) <= window;
    const value = inside ? scores[i] : 0;
    masked[i] = value;
    if (value > max) max = value;
  }
  // np.linspace(-1, 1, n): -1 + i * 2 / (n - 1); a single sample is -1.
  const stepX = width > 1 ? 2 / (width - 1) : 0;
  const stepY = height > 1 ? 2 / (height - 1) : 0;
  let sum = 0;
  let sumX = 0;
  let sumY = 0;
  for (let i = 0; i < masked.length; i++) {
    const p = Math.exp((masked[i] - max) / beta);
    sum += p;
    sumX += p * (-1 + (i % width) * stepX);
    sumY += p * (-1 + Math.floor(i / width) * stepY);
  }
  return {
    x: (sumX / sum + 1) * (width - 1) / 2,
    y: (sumY / sum + 1) * (height - 1) / 2,
    score: best.score,
  };
}
