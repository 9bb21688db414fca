// This module is browser compatible.
/**
 * Where a localizer needs query features: the probes of each query point.
 *
 * @module
 */

import type { GridSize } from "./frame_to_grid.ts";
import type { LocalizerName } from "./localizer_options.ts";

/** Probe points for a localizer, from {@linkcode localizerProbes}. */
export interface LocalizerProbes {
  /** Interleaved `x, y` grid coordinates to sample query features at, `perQuery` per query. */
  probes: Float32Array;
  /** One weight per probe (bilinear weights, or 1). */
  weights: Float32Array;
  /** Probes per query: 4 for `bilinear`, 1 otherwise. */
  perQuery: 1 | 4;
}

/** Inset of the official `regularise_coordinates(query, h, w, eps=1e-5)` before taking corners. */
const CORNER_EPSILON = 1e-5;

/** One axis of the four-corner split: lower cell, upper cell, fraction towards the upper one. */
function cornerAxis(value: number, length: number): [number, number, number] {
  if (length === 1) return [0, 0, 0];
  const clamped = Math.min(Math.max(value, CORNER_EPSILON), length - 1 - CORNER_EPSILON);
  const low = Math.floor(clamped);
  return [low, low + 1, clamped - low];
}

/**
 * Lists the grid points whose features a localizer needs for each query.
 *
 * For `bilinear` (the official `bilinear_get_matches`), each query is first
 * clamped into `[1e-5, w - 1 - 1e-5]` (likewise rows), then split into its
 * four surrounding cells in the order `(x0, y0)`, `(x1, y0)`, `(x0, y1)`,
 * `(x1, y1)` with `x0 = floor(x)`, `x1 = x0 + 1`, and weights
 * `(1 - fx)(1 - fy)`, `fx (1 - fy)`, `(1 - fx) fy`, `fx fy` where
 * `fx = x - x0`, `fy = y - y0` (they sum to 1). A one-cell axis uses cell 0
 * twice with fraction 0. Every other method samples the query point itself,
 * unclamped, with weight 1.
 *
 * @param points Interleaved query `x, y` pairs in grid coordinates.
 * @param grid Grid columns and rows of the source feature map.
 * @param method The localizer that will consume the scores.
 * @returns The probes, their weights and the probe count per query.
 * @throws {RangeError} If the grid size is not positive integers, `points` has an odd length, or a `bilinear` query is not finite.
 *
 * @example Usage
 * ```ts
 * import { localizerProbes } from "./localizer_probes.ts";
 * import assert from "node:assert/strict";
 *
 * const { probes, weights, perQuery } = localizerProbes(Float32Array.of(1.25, 0.5), { width: 4, height: 3 }, "bilinear");
 * assert.equal(perQuery, 4);
 * assert.deepEqual([...probes], [1, 0, 2, 0, 1, 1, 2, 1]);
 * assert.deepEqual([...weights], [0.375, 0.125, 0.375, 0.125]);
 * ```
 */
export function localizerProbes(
  points: Float32Array,
  grid: GridSize,
  method: LocalizerName,
): LocalizerProbes {
  const { width, height } = grid;
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new RangeError(
      `Cannot place probes: grid size must be positive integers, got ${width}x${height}`,
    );
  }
  if (points.length % 2 !== 0) {
    throw new RangeError(
      `Cannot place probes: expected x, y pairs, got ${points.length} values`,
    );
  }
  const count = points.length / 2;
  if (method !== "bilinear") {
    return { probes: points.slice(), weights: new Float32Array(count).fill(1), perQuery: 1 };
  }
  const probes = new Float32Array(count * 8);
  const weights = new Float32Array(count * 4);
  for (let q = 0; q < count; q++) {
    const x = points[2 * q];
    const y = points[2 * q + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      throw new RangeError(`Cannot place probes: point ${q} is not finite (${x}, ${y})`);
    }
    const [x0, x1, fx] = cornerAxis(x, width);
    const [y0, y1, fy] = cornerAxis(y, height);
    probes.set([x0, y0, x1, y0, x0, y1, x1, y1], q * 8);
    weights.set([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy], q * 4);
  }
  return { probes, weights, perQuery: 4 };
}
