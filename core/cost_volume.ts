// This module is browser compatible.
/**
 * Cosine-similarity cost volume between query features and a feature map.
 *
 * @module
 */

/** Sizes of the inputs of {@linkcode costVolume}. */
export interface CostVolumeDims {
  /** Number of query features `Q` (an integer >= 0). */
  queries: number;
  /** Feature channels `C` (a positive integer). */
  channels: number;
  /** Target cells `h * w` (a positive integer). */
  cells: number;
}

/** Smallest norm a vector is divided by, as torch's `F.normalize` (`eps = 1e-12`). */
const NORM_EPSILON = 1e-12;

/**
 * Computes the cosine similarity of every query feature with every target
 * cell: each vector is divided by `max(||v||, 1e-12)` (torch's
 * `F.normalize`), then dotted. Sums run in float64; results are float32.
 *
 * This is the reference for the ONNX cost-volume graph. The official survey
 * code divides by `||v|| + 1e-6` instead: a relative difference of
 * `1e-6 / ||v||` per vector, negligible for backbone features. A zero
 * vector gets similarity 0 with everything.
 *
 * @param queries Query features, `[Q, C]` row-major.
 * @param target Target feature map, CHW, i.e. `[C, cells]` row-major.
 * @param dims Query count, channels and target cell count.
 * @returns A new `[Q, cells]` row-major array of cosine similarities in `[-1, 1]`.
 * @throws {RangeError} If a size is not a valid integer or an array has the wrong length.
 *
 * @example Usage
 * ```ts
 * import { costVolume } from "./cost_volume.ts";
 * import assert from "node:assert/strict";
 *
 * // One 2-channel query (1, 0) against cells (2, 0), (0, 3), (-1, 0): planes [2, 0, -1], [0, 3, 0].
 * const s = costVolume(Float32Array.of(1, 0), Float32Array.of(2, 0, -1, 0, 3, 0), {
 *   queries: 1,
 *   channels: 2,
 *   cells: 3,
 * });
 * assert.deepEqual([...s], [1, 0, -1]);
 * ```
 */
export function costVolume(
  queries: Float32Array,
  target: Float32Array,
  dims: CostVolumeDims,
): Float32Array {
  const { queries: count, channels, cells } = dims;
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(
      `Cannot compute cost volume: queries must be an integer >= 0, got ${count}`,
    );
  }
  for (const [name, value] of [["channels", channels], ["cells", cells]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `Cannot compute cost volume: ${name} must be a positive integer, got ${value}`,
      );
    }
  }
  if (queries.length !== count * channels) {
    throw new RangeError(
      `Cannot compute cost volume: expected ${
        count * channels
      } query values for ${count}x${channels}, got ${queries.length}`,
    );
  }
  if (target.length !== channels * cells) {
    throw new RangeError(
      `Cannot compute cost volume: expected ${
        channels * cells
      } target values for ${channels}x${cells}, got ${target.length}`,
    );
  }
  // Inverse norms of the target cells (strided over the channel planes).
  const cellScale = new Float64Array(cells);
  for (let c = 0; c < channels; c++) {
    const plane = c * cells;
    for (let j = 0; j < cells; j++) cellScale[j] += target[plane + j] * target[plane + j];
  }
  for (let j = 0; j < cells; j++) {
    cellScale[j] = 1 / Math.max(Math.sqrt(cellScale[j]), NORM_EPSILON);
  }

  const out = new Float32Array(count * cells);
  const row = new Float64Array(cells);
  for (let q = 0; q < count; q++) {
    const base = q * channels;
    let norm = 0;
    for (let c = 0; c < channels; c++) norm += queries[base + c] * queries[base + c];
    const queryScale = 1 / Math.max(Math.sqrt(norm), NORM_EPSILON);
    row.fill(0);
    for (let c = 0; c < channels; c++) {
      const v = queries[base + c] * queryScale;
      if (v === 0) continue;
      const plane = c * cells;
      for (let j = 0; j < cells; j++) row[j] += v * target[plane + j];
    }
    for (let j = 0; j < cells; j++) out[q * cells + j] = row[j] * cellScale[j];
  }
  return out;
}
