/**
 * The one colour map of the pictures: a score or a similarity in `[0, 1]`
 * to an RGB colour, dark blue (low) through cyan, green and yellow to dark
 * red (high), piecewise linear between stops chosen to stay distinct on
 * photographs and for most colour-vision deficiencies along its lightness.
 *
 * @example Usage
 * ```ts
 * import { colormap } from "./colormap.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(colormap(0), [48, 18, 59]);
 * assert.deepEqual(colormap(1), [170, 20, 10]);
 * assert.deepEqual(colormap(-3), colormap(0)); // clamped
 * assert.deepEqual(colormap(Number.NaN), colormap(0));
 * ```
 *
 * @module
 */

/** An RGB colour, each channel 0-255. */
export type Rgb = readonly [number, number, number];

/** Stops: position in [0, 1] and colour. */
const STOPS: readonly (readonly [number, Rgb])[] = [
  [0, [48, 18, 59]],
  [0.15, [65, 105, 225]],
  [0.35, [30, 200, 200]],
  [0.5, [100, 235, 100]],
  [0.65, [230, 220, 55]],
  [0.82, [245, 120, 30]],
  [1, [170, 20, 10]],
];

/**
 * The colour of a value.
 *
 * @param t The value; clamped to [0, 1] (NaN reads as 0).
 * @returns Its colour, integer channels.
 */
export function colormap(t: number): Rgb {
  const v = Number.isNaN(t) ? 0 : Math.min(Math.max(t, 0), 1);
  let i = 1;
  while (i < STOPS.length - 1 && STOPS[i][0] < v) i++;
  const [p0, c0] = STOPS[i - 1];
  const [p1, c1] = STOPS[i];
  const f = (v - p0) / (p1 - p0);
  return [
    Math.round(c0[0] + (c1[0] - c0[0]) * f),
    Math.round(c0[1] + (c1[1] - c0[1]) * f),
    Math.round(c0[2] + (c1[2] - c0[2]) * f),
  ];
}
