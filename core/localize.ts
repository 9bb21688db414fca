// This module is browser compatible.
/**
 * The localizer dispatcher used by the match pipeline.
 *
 * @module
 */

import type { GridSize } from "./frame_to_grid.ts";
import { localizeBilinear } from "./localize_bilinear.ts";
import { localizeKernelSoftargmax } from "./localize_kernel_softargmax.ts";
import { type Localization, localizeNn } from "./localize_nn.ts";
import { localizeSoftargmax } from "./localize_softargmax.ts";
import { localizeWindowSoftargmax } from "./localize_window_softargmax.ts";
import type { LocalizerProbes } from "./localizer_probes.ts";
import { LOCALIZER_NAMES, type LocalizerOptions } from "./localizer_options.ts";

function locate(
  scores: Float32Array,
  grid: GridSize,
  weights: Float32Array,
  options: LocalizerOptions,
): Localization {
  switch (options.method) {
    case "nn":
      return localizeNn(scores, grid);
    case "bilinear":
      return localizeBilinear(scores, grid, weights);
    case "softargmax":
      return localizeSoftargmax(scores, grid, { temperature: options.temperature });
    case "kernel-softargmax":
      return localizeKernelSoftargmax(scores, grid, {
        temperature: options.temperature,
        sigma: options.sigma,
      });
    case "window-softargmax":
      return localizeWindowSoftargmax(scores, grid, {
        window: options.window,
        beta: options.temperature,
      });
  }
}

/**
 * Localizes every query from its probes' score maps with the chosen method.
 *
 * `scores` holds one map per probe, in the order of `probes.probes` (from
 * `localizerProbes` with the same method): 4 consecutive maps per query for
 * `bilinear`, 1 otherwise. Results are in grid coordinates (x = column,
 * y = row); map them back with `gridToFrame` and `frameToImage`.
 *
 * @param scores Score maps, `[probes, grid.height * grid.width]` row-major.
 * @param grid Grid columns and rows of the target feature map.
 * @param probes The probes the score maps were computed for.
 * @param options Method and its parameters (see {@linkcode DEFAULT_LOCALIZER}).
 * @returns A new `[Q, 3]` row-major array: `x, y, score` per query.
 * @throws {TypeError} If `options.method` is not a {@linkcode LocalizerName}.
 * @throws {RangeError} If the sizes disagree, the probes do not suit the method, a score is not finite, or a parameter is out of range.
 *
 * @example Usage
 * ```ts
 * import { localize } from "./localize.ts";
 * import { DEFAULT_LOCALIZER } from "./localizer_options.ts";
 * import { localizerProbes } from "./localizer_probes.ts";
 * import assert from "node:assert/strict";
 *
 * // One query on a 3x1 grid whose map peaks at column 2.
 * const grid = { width: 3, height: 1 };
 * const probes = localizerProbes(Float32Array.of(0, 0), grid, "nn");
 * const out = localize(Float32Array.of(0.1, 0.2, 0.8), grid, probes, { ...DEFAULT_LOCALIZER, method: "nn" });
 * assert.deepEqual([...out], [2, 0, Math.fround(0.8)]);
 * ```
 */
export function localize(
  scores: Float32Array,
  grid: GridSize,
  probes: LocalizerProbes,
  options: LocalizerOptions,
): Float32Array {
  const { method } = options;
  if (!LOCALIZER_NAMES.includes(method)) {
    throw new TypeError(
      `Cannot localize: unknown method "${method}", expected one of ${LOCALIZER_NAMES.join(", ")}`,
    );
  }
  const expectedPerQuery = method === "bilinear" ? 4 : 1;
  if (probes.perQuery !== expectedPerQuery) {
    throw new RangeError(
      `Cannot localize: method ${method} needs ${expectedPerQuery} probes per query, got ${probes.perQuery}`,
    );
  }
  const probeCount = probes.probes.length / 2;
  if (!Number.isInteger(probeCount) || probes.weights.length !== probeCount) {
    throw new RangeError(
      `Cannot localize: expected one weight per probe, got ${probes.weights.length} weights for ${probes.probes.length} coordinates`,
    );
  }
  if (probeCount % expectedPerQuery !== 0) {
    throw new RangeError(
      `Cannot localize: ${probeCount} probes is not a multiple of ${expectedPerQuery}`,
    );
  }
  const cells = grid.width * grid.height;
  if (scores.length !== probeCount * cells) {
    throw new RangeError(
      `Cannot localize: expected ${probeCount} maps of ${cells} scores, got ${scores.length} values`,
    );
  }
  const queries = probeCount / expectedPerQuery;
  const span = expectedPerQuery * cells;
  const out = new Float32Array(queries * 3);
  for (let q = 0; q < queries; q++) {
    const m = locate(
      scores.subarray(q * span, (q + 1) * span),
      grid,
      probes.weights.subarray(q * expectedPerQuery, (q + 1) * expectedPerQuery),
      options,
    );
    out[3 * q] = m.x;
    out[3 * q + 1] = m.y;
    out[3 * q + 2] = m.score;
  }
  return out;
}
