// This module is browser compatible.
/**
 * The localization methods and their parameters, declared once: the
 * dispatcher (`localize.ts`), the probes (`localizer_probes.ts`) and the
 * request schemas all read them from here.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_LOCALIZER, LOCALIZER_NAMES } from "./localizer_options.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(LOCALIZER_NAMES.includes(DEFAULT_LOCALIZER.method));
 * assert.equal(DEFAULT_LOCALIZER.temperature, 0.03);
 * ```
 *
 * @module
 */

/** A localization method (see FIELD.md section 1, step 4). */
export type LocalizerName = typeof LOCALIZER_NAMES[number];

/** The localization methods, in a stable order: the one declaration of {@linkcode LocalizerName}. */
export const LOCALIZER_NAMES = Object.freeze(
  ["nn", "bilinear", "softargmax", "kernel-softargmax", "window-softargmax"] as const,
);

/** Options of `localize()`; each method reads the fields it needs. */
export interface LocalizerOptions {
  /** The localization method. */
  method: LocalizerName;
  /**
   * Softmax temperature (> 0) of `softargmax`, `kernel-softargmax` and
   * `window-softargmax` (for the last it is GeoAware-SC's `beta`, which
   * GeoAware-SC sets to 0.02).
   */
  temperature: number;
  /** Gaussian sigma of `kernel-softargmax`, in grid cells (> 0). */
  sigma: number;
  /** Window half-size of `window-softargmax`, in grid cells (an integer >= 0). */
  window: number;
}

/**
 * The official survey baseline's localizer: kernel soft-argmax with
 * `T = 0.03` (its test script) and `sigma = 7` cells. `window` only applies
 * to `window-softargmax` (GeoAware-SC's supervised setting).
 */
export const DEFAULT_LOCALIZER: Readonly<LocalizerOptions> = Object.freeze({
  method: "kernel-softargmax",
  temperature: 0.03,
  sigma: 7,
  window: 7,
});
