// This module is browser compatible.
/**
 * Bilinear resizing of a channel-planar feature map.
 *
 * @module
 */

import type { FeatureDims } from "./sample_features.ts";

/** Output size of {@linkcode resizeFeatureMap}. */
export interface FeatureMapSize {
  /** Output rows (a positive integer). */
  height: number;
  /** Output columns (a positive integer). */
  width: number;
}

/** Options of {@linkcode resizeFeatureMap}. */
export interface ResizeFeatureMapOptions {
  /**
   * Corner convention, as torch's `align_corners` (default
   * {@linkcode DEFAULT_FEATURE_RESIZE}`.alignCorners`, false).
   */
  alignCorners?: boolean;
}

/**
 * The default resize convention: `align_corners=False`, what the SD + DINOv2
 * fusion code passes to `F.interpolate` (and torch's own default).
 */
export const DEFAULT_FEATURE_RESIZE: Readonly<Required<ResizeFeatureMapOptions>> = Object.freeze({
  alignCorners: false,
});

/** Per output index: lower and upper input index and the weight of the upper one. */
function axisTaps(inSize: number, outSize: number, alignCorners: boolean) {
  const low = new Int32Array(outSize);
  const high = new Int32Array(outSize);
  const frac = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let src: number;
    if (alignCorners) {
      src = outSize > 1 ? o * (inSize - 1) / (outSize - 1) : 0;
    } else {
      // torch's area_pixel_compute_source_index: half-pixel centres, negatives clamped to 0.
      src = Math.max((o + 0.5) * inSize / outSize - 0.5, 0);
    }
    const i0 = Math.min(Math.floor(src), inSize - 1);
    low[o] = i0;
    high[o] = Math.min(i0 + 1, inSize - 1);
    frac[o] = src - i0;
  }
  return { low, high, frac };
}

/**
 * Resizes a CHW feature map with bilinear interpolation, like torch's
 * `F.interpolate(x, size=(height, width), mode="bilinear", align_corners=...)`
 * (no antialiasing, so downsizing reads 2x2 taps like torch's default).
 *
 * - `alignCorners: false` (default): output cell `o` reads input coordinate
 *   `max((o + 0.5) * in / out - 0.5, 0)`: cell centres line up as areas, so
 *   each output cell describes the same part of the image as the input cells
 *   it reads.
 * - `alignCorners: true`: `o * (in - 1) / (out - 1)` (0 when `out` is 1):
 *   the first and last cells line up.
 *
 * The upper tap is clamped to the last cell, as torch does. A map resized
 * to its own size is returned unchanged (as a copy) under both conventions.
 *
 * @param data Feature map, CHW row-major: `channels * height * width` values.
 * @param dims Channels, height and width of `data`.
 * @param size Output rows and columns.
 * @param options `alignCorners` (see {@linkcode DEFAULT_FEATURE_RESIZE}).
 * @returns A new `channels * size.height * size.width` CHW array.
 * @throws {RangeError} If a size is not a positive integer or `data` has the wrong length.
 *
 * @example Usage
 * ```ts
 * import { resizeFeatureMap } from "./resize_feature_map.ts";
 * import assert from "node:assert/strict";
 *
 * // One row [0, 4] widened to 4 cells: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (upper tap clamped).
 * const out = resizeFeatureMap(Float32Array.of(0, 4), { channels: 1, height: 1, width: 2 }, { height: 1, width: 4 });
 * assert.deepEqual([...out], [0, 1, 3, 4]);
 * const corners = resizeFeatureMap(Float32Array.of(0, 3), { channels: 1, height: 1, width: 2 }, { height: 1, width: 4 }, { alignCorners: true });
 * assert.deepEqual([...corners], [0, 1, 2, 3]);
 * ```
 */
export function resizeFeatureMap(
  data: Float32Array,
  dims: FeatureDims,
  size: FeatureMapSize,
  options: ResizeFeatureMapOptions = {},
): Float32Array {
  const alignCorners = options.alignCorners ?? DEFAULT_FEATURE_RESIZE.alignCorners;
  const { channels, height, width } = dims;
  const sizes = [
    ["channels", channels],
    ["height", height],
    ["width", width],
    ["output height", size.height],
    ["output width", size.width],
  ] as const;
  for (const [name, value] of sizes) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `Cannot resize feature map: ${name} must be a positive integer, got ${value}`,
      );
    }
  }
  const cells = height * width;
  if (data.length !== channels * cells) {
    throw new RangeError(
      `Cannot resize feature map: expected ${
        channels * cells
      } values for ${channels}x${height}x${width}, got ${data.length}`,
    );
  }
  if (size.height === height && size.width === width) return data.slice();
  const ys = axisTaps(height, size.height, alignCorners);
  const xs = axisTaps(width, size.width, alignCorners);
  const outCells = size.height * size.width;
  const out = new Float32Array(channels * outCells);
  for (let c = 0; c < channels; c++) {
    const plane = c * cells;
    const outPlane = c * outCells;
    for (let oy = 0; oy < size.height; oy++) {
      const r0 = plane + ys.low[oy] * width;
      const r1 = plane + ys.high[oy] * width;
      const fy = ys.frac[oy];
      for (let ox = 0; ox < size.width; ox++) {
        const x0 = xs.low[ox];
        const x1 = xs.high[ox];
        const fx = xs.frac[ox];
        const top = data[r0 + x0] * (1 - fx) + data[r0 + x1] * fx;
        const bottom = data[r1 + x0] * (1 - fx) + data[r1 + x1] * fx;
        out[outPlane + oy * size.width + ox] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}
