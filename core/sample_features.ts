// This module is browser compatible.
/**
 * Bilinear sampling of a feature map at query points.
 *
 * @module
 */

/** Layout of a channel-planar (CHW) feature map. */
export interface FeatureDims {
  /** Feature channels `C` (a positive integer). */
  channels: number;
  /** Grid rows `h` (a positive integer). */
  height: number;
  /** Grid columns `w` (a positive integer). */
  width: number;
}

/**
 * Samples a CHW feature map at points given in grid coordinates, with
 * bilinear weights and zero padding: the same as torch's
 * `grid_sample(features, normalized, mode="bilinear",
 * padding_mode="zeros", align_corners=True)` after normalizing
 * `n = g / (w - 1) * 2 - 1` (the official code's `extract_feature`).
 *
 * A point exactly on a cell returns that cell's feature. Neighbours that lie
 * outside the grid contribute zeros, so a point half a cell outside the
 * border gets half the border feature, and a point a full cell outside gets
 * zeros. A one-cell axis needs no normalization here (torch would divide by
 * zero): its only cell is at 0.
 *
 * @param features Feature map, CHW row-major: `channels * height * width` values.
 * @param dims Channels, height and width of `features`.
 * @param points Interleaved `x, y` pairs in grid coordinates (x = column, y = row).
 * @returns A new `[Q, C]` row-major array: the feature of each point.
 * @throws {RangeError} If a dimension is not a positive integer, `features` has the wrong length, `points` has an odd length, or a point is not finite.
 *
 * @example Usage
 * ```ts
 * import { sampleFeatures } from "./sample_features.ts";
 * import assert from "node:assert/strict";
 *
 * // One channel on a 2x1 grid: cells 10 and 20; the midpoint blends them.
 * const f = sampleFeatures(Float32Array.of(10, 20), { channels: 1, height: 1, width: 2 }, Float32Array.of(1, 0, 0.5, 0));
 * assert.deepEqual([...f], [20, 15]);
 * ```
 */
export function sampleFeatures(
  features: Float32Array,
  dims: FeatureDims,
  points: Float32Array,
): Float32Array {
  const { channels, height, width } = dims;
  for (const [name, value] of [["channels", channels], ["height", height], ["width", width]]) {
    if (!Number.isInteger(value) || (value as number) < 1) {
      throw new RangeError(
        `Cannot sample features: ${name} must be a positive integer, got ${value}`,
      );
    }
  }
  const cells = height * width;
  if (features.length !== channels * cells) {
    throw new RangeError(
      `Cannot sample features: expected ${
        channels * cells
      } values for ${channels}x${height}x${width}, got ${features.length}`,
    );
  }
  if (points.length % 2 !== 0) {
    throw new RangeError(
      `Cannot sample features: expected x, y pairs, got ${points.length} values`,
    );
  }
  const count = points.length / 2;
  const out = new Float32Array(count * channels);
  const index = [0, 0, 0, 0];
  const weight = [0, 0, 0, 0];
  for (let q = 0; q < count; q++) {
    const x = points[2 * q];
    const y = points[2 * q + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      throw new RangeError(`Cannot sample features: point ${q} is not finite (${x}, ${y})`);
    }
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    let taps = 0;
    for (let dy = 0; dy < 2; dy++) {
      const row = y0 + dy;
      const wy = dy === 0 ? 1 - fy : fy;
      if (row < 0 || row >= height || wy === 0) continue;
      for (let dx = 0; dx < 2; dx++) {
        const col = x0 + dx;
        const wx = dx === 0 ? 1 - fx : fx;
        if (col < 0 || col >= width || wx === 0) continue;
        index[taps] = row * width + col;
        weight[taps] = wx * wy;
        taps++;
      }
    }
    for (let c = 0; c < channels; c++) {
      const plane = c * cells;
      let sum = 0;
      for (let t = 0; t < taps; t++) sum += features[plane + index[t]] * weight[t];
      out[q * channels + c] = sum;
    }
  }
  return out;
}
