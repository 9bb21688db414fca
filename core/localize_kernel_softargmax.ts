// This module is browser compatible.
/**
 * Kernel soft-argmax localization (the survey's official baseline).
 *
 * @module
 */

import type { GridSize } from "./frame_to_grid.ts";
import { type Localization, localizeNn } from "./localize_nn.ts";

/** Options of {@linkcode localizeKernelSoftargmax}. */
export interface KernelSoftargmaxOptions {
  /** Softmax temperature `T` (> 0), e.g. 0.03. */
  temperature: number;
  /** Standard deviation of the Gaussian kernel, in grid cells (> 0), e.g. 7. */
  sigma: number;
}

/**
 * Kernel soft-argmax of one query's score map, as the official survey code
 * defines it (Visual-AI/Semantic-Correspondence, `utils/matching.py`:
 * `kernel_softargmax_get_matches` and `apply_gaussian_kernel`):
 *
 * 1. `(ax, ay)` = the argmax cell of the raw scores (first on ties).
 * 2. The raw cosine scores (not probabilities) are multiplied by an
 *    unnormalized Gaussian of peak 1 centred there, in cell units:
 *    `s'(x, y) = s(x, y) * exp(-((x - ax)^2 + (y - ay)^2) / (2 * sigma^2))`.
 * 3. `p = softmax(s' / T)` over all cells (as `exp((s' - max s') / T)`).
 * 4. The result is the `p`-weighted mean of the cells' grid coordinates.
 *
 * Because the kernel scales raw scores, a far cell's score is pulled towards
 * 0: far positive peaks are suppressed, while far negative scores rise
 * towards 0 (harmless unless every score is negative). Sums run in float64.
 *
 * @param scores The score map, row-major `grid.height * grid.width` values.
 * @param grid Grid columns and rows.
 * @param options The softmax `temperature` and the kernel's `sigma`.
 * @returns The expected column `x` and row `y`, and the map's best raw `score`.
 * @throws {RangeError} If the sizes disagree, a score is not finite, or `temperature` or `sigma` is not a positive number.
 *
 * @example Usage
 * ```ts
 * import { localizeKernelSoftargmax } from "./localize_kernel_softargmax.ts";
 * import assert from "node:assert/strict";
 *
 * // Peaks 1 at column 0 and 0.99 at column 39 of a 40x1 grid: the kernel
 * // (sigma 7) scales the far peak by exp(-39^2 / 98) ~ 2e-7, so it drops out.
 * const scores = new Float32Array(40);
 * scores[0] = 1;
 * scores[39] = 0.99;
 * const m = localizeKernelSoftargmax(scores, { width: 40, height: 1 }, { temperature: 0.03, sigma: 7 });
 * assert.ok(Math.abs(m.x) < 1e-6);
 * ```
 */
export function localizeKernelSoftargmax(
  scores: Float32Array,
  grid: GridSize,
  options: KernelSoftargmaxOptions,
): Localization {
  const best = localizeNn(scores, grid);
  const { temperature, sigma } = options;
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new RangeError(
      `Cannot localize with kernel-softargmax: temperature must be a positive number, got ${temperature}`,
    );
  }
  if (!(sigma > 0) || !Number.isFinite(sigma)) {
    throw new RangeError(
      `Cannot localize with kernel-softargmax: sigma must be a positive number, got ${sigma}`,
    );
  }
  const { width } = grid;
  const twoSigma2 = 2 * sigma * sigma;
  const weighted = new Float64Array(scores.length);
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    const dx = (i % width) - best.x;
    const dy = Math.floor(i / width) - best.y;
    const d2 = dx * dx + dy * dy;
    // A sigma so small that 2 sigma^2 underflows to 0 must still keep the
    // peak itself (0 / 0 would make every coordinate NaN).
    const value = d2 === 0 ? scores[i] : scores[i] * Math.exp(-d2 / twoSigma2);
    weighted[i] = value;
    if (value > max) max = value;
  }
  let sum = 0;
  let sumX = 0;
  let sumY = 0;
  for (let i = 0; i < weighted.length; i++) {
    const p = Math.exp((weighted[i] - max) / temperature);
    sum += p;
    sumX += p * (i % width);
    sumY += p * Math.floor(i / width);
  }
  return { x: sumX / sum, y: sumY / sum, score: best.score };
}
