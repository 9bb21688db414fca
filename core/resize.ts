// This module is browser compatible.
/**
 * Bilinear image resizing, bit-exact with Pillow's
 * `Image.resize((w, h), Image.BILINEAR)` on 8-bit images.
 *
 * @module
 */

import { type ImageSize, resizePil, type ResizeTarget } from "./resize_pil.ts";

export type { ImageSize, ResizeTarget } from "./resize_pil.ts";

/**
 * Resizes an interleaved (HWC) 8-bit image with Pillow's bilinear filter.
 *
 * The result is bit-exact with Pillow's `Image.resize((w, h),
 * Image.BILINEAR)` for `L` (1 channel) and `RGB` (3 channels) images
 * (checked against Pillow 9.4). Each channel is resampled independently, so
 * 4-channel data is treated like Pillow's `RGBX`, not `RGBA` (Pillow
 * premultiplies alpha).
 *
 * The algorithm is Pillow's `Resample.c`: per output pixel, a triangle
 * filter of support `max(in / out, 1)` input pixels (antialiasing when
 * shrinking) centred on `(i + 0.5) * in / out`, normalized to sum 1, then
 * converted to fixed point with 22 fraction bits. The horizontal pass runs
 * first, then the vertical one; each rounds and clips to 8 bits. A pass is
 * skipped when its axis keeps its size.
 *
 * @param src Pixels in row-major HWC order: `size.height * size.width * size.channels` bytes.
 * @param size Width, height and channel count of `src`.
 * @param out Output width and height.
 * @returns A new array of `out.height * out.width * size.channels` bytes (HWC).
 * @throws {RangeError} If a dimension is not a positive integer or `src` has the wrong length.
 * @throws {TypeError} If `src` is not a `Uint8Array`.
 *
 * @example Usage
 * ```ts
 * import { resizeBilinear } from "./resize.ts";
 * import assert from "node:assert/strict";
 *
 * // A 4x1 grey image shrunk to 2x1: taps 3/7, 3/7, 1/7 (Pillow gives 17, 33).
 * const out = resizeBilinear(Uint8Array.of(10, 20, 30, 40), { width: 4, height: 1, channels: 1 }, {
 *   width: 2,
 *   height: 1,
 * });
 * assert.deepEqual([...out], [17, 33]);
 * ```
 */
export function resizeBilinear(
  src: Uint8Array,
  size: ImageSize,
  out: ResizeTarget,
): Uint8Array {
  return resizePil(src, size, out, { filter: "bilinear" });
}
