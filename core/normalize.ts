// This module is browser compatible.
/**
 * Conversion of 8-bit HWC pixels to a normalized, channel-planar float tensor.
 *
 * @module
 */

/** Width and height of an image. */
export interface PlaneSize {
  /** Width in pixels (a positive integer). */
  width: number;
  /** Height in pixels (a positive integer). */
  height: number;
}

/** Per-channel statistics for {@linkcode toNormalizedCHW}. */
export interface NormalizeOptions {
  /** Mean of each channel on the 0..1 scale, e.g. ImageNet `[0.485, 0.456, 0.406]`. */
  mean: readonly number[];
  /** Standard deviation of each channel, e.g. ImageNet `[0.229, 0.224, 0.225]`. */
  std: readonly number[];
}

/**
 * Converts interleaved 8-bit pixels (HWC) to a normalized channel-planar
 * (CHW) tensor: `(v / 255 - mean[c]) / std[c]`.
 *
 * The channel count is `options.mean.length`. Every step is rounded to
 * float32, as torchvision's `ToTensor()` followed by `Normalize(mean, std)`
 * computes it in float32, so the result is bit-exact with that pipeline.
 *
 * @param rgb Pixels in row-major HWC order: `height * width * channels` bytes.
 * @param size Width and height of the image.
 * @param options Per-channel `mean` and `std`; their length is the channel count.
 * @returns A new `Float32Array` of `channels * height * width` values (CHW).
 * @throws {RangeError} If the sizes disagree, `mean` and `std` differ in length, or a `std` is not a positive number.
 *
 * @example Usage
 * ```ts
 * import { toNormalizedCHW } from "./normalize.ts";
 * import assert from "node:assert/strict";
 *
 * // Two RGB pixels: red then blue.
 * const t = toNormalizedCHW(Uint8Array.of(255, 0, 0, 0, 0, 255), { width: 2, height: 1 }, {
 *   mean: [0.5, 0.5, 0.5],
 *   std: [0.5, 0.5, 0.5],
 * });
 * assert.deepEqual([...t], [1, -1, -1, -1, -1, 1]);
 * ```
 */
export function toNormalizedCHW(
  rgb: Uint8Array,
  size: PlaneSize,
  options: NormalizeOptions,
): Float32Array {
  const { width, height } = size;
  const { mean, std } = options;
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new RangeError(
      `Cannot normalize image: size must be positive integers, got ${width}x${height}`,
    );
  }
  if (mean.length < 1 || mean.length !== std.length) {
    throw new RangeError(
      `Cannot normalize image: mean and std must have one value per channel, got ${mean.length} and ${std.length}`,
    );
  }
  const channels = mean.length;
  const pixels = width * height;
  if (rgb.length !== pixels * channels) {
    throw new RangeError(
      `Cannot normalize image: expected ${
        pixels * channels
      } bytes for ${width}x${height}x${channels}, got ${rgb.length}`,
    );
  }
  const out = new Float32Array(channels * pixels);
  const f = Math.fround;
  // A byte has 256 values: look each result up rather than compute it per
  // pixel. float32 at each step: v / 255, then - mean, then / std.
  const tables: Float32Array[] = [];
  for (let c = 0; c < channels; c++) {
    const m = f(mean[c]);
    const s = f(std[c]);
    if (!(s > 0) || !Number.isFinite(s) || !Number.isFinite(m)) {
      throw new RangeError(
        `Cannot normalize image: channel ${c} needs a finite mean and a positive std, got ${
          mean[c]
        } and ${std[c]}`,
      );
    }
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = f(f(f(v / 255) - m) / s);
    tables.push(table);
  }
  if (channels === 3) {
    // One pass over the pixels for the common RGB case.
    const [r, g, b] = tables;
    for (let i = 0, j = 0; i < pixels; i++, j += 3) {
      out[i] = r[rgb[j]];
      out[pixels + i] = g[rgb[j + 1]];
      out[2 * pixels + i] = b[rgb[j + 2]];
    }
    return out;
  }
  for (let c = 0; c < channels; c++) {
    const table = tables[c];
    const plane = out.subarray(c * pixels, (c + 1) * pixels);
    for (let i = 0, j = c; i < pixels; i++, j += channels) plane[i] = table[rgb[j]];
  }
  return out;
}
