// This module is browser compatible.
/**
 * Bilinear image resizing, bit-exact with Pillow's
 * `Image.resize((w, h), Image.BILINEAR)` on 8-bit images.
 *
 * @module
 */

/** Size and channel count of an interleaved (HWC) 8-bit image. */
export interface ImageSize {
  /** Width in pixels (a positive integer). */
  width: number;
  /** Height in pixels (a positive integer). */
  height: number;
  /** Interleaved channels per pixel: 1 (grey), 3 (RGB), ... */
  channels: number;
}

/** Output size of {@linkcode resizeBilinear}. */
export interface ResizeTarget {
  /** Output width in pixels (a positive integer). */
  width: number;
  /** Output height in pixels (a positive integer). */
  height: number;
}

/** Fixed-point precision of Pillow's 8-bit resampler: `32 - 8 - 2`. */
const PRECISION_BITS = 22;
/** `1 << PRECISION_BITS`. */
const ONE = 1 << PRECISION_BITS;
/** Rounding offset added before truncation: `1 << (PRECISION_BITS - 1)`. */
const HALF = 1 << (PRECISION_BITS - 1);
/** Pillow's `clip8` saturation bound: `1 << PRECISION_BITS << 8`. */
const SATURATED = ONE * 256;

/** Support of Pillow's bilinear filter, in input pixels, before scaling. */
const BILINEAR_SUPPORT = 1;

/** Pillow's triangle filter (`bilinear_filter`). */
function triangle(x: number): number {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
}

/** Per-output-pixel taps of one axis, as Pillow's `precompute_coeffs` builds them. */
interface Taps {
  /** First input index of each output pixel. */
  first: Int32Array;
  /** Number of taps of each output pixel. */
  count: Int32Array;
  /** Fixed-point coefficients, `stride` per output pixel. */
  coefficients: Int32Array;
  /** Maximum number of taps. */
  stride: number;
}

/**
 * Pillow's `precompute_coeffs` (full-image box) followed by
 * `normalize_coeffs_8bpc`.
 */
function precomputeTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = BILINEAR_SUPPORT * filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const coefficients = new Int32Array(outSize * stride);
  const weights = new Float64Array(stride);
  const inverse = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      const w = triangle((x + xmin - center + 0.5) * inverse);
      weights[x] = w;
      sum += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = sum !== 0 ? weights[x] / sum : weights[x];
      // normalize_coeffs_8bpc: round half away from zero, then truncate.
      coefficients[xx * stride + x] = w < 0
        ? Math.trunc(-0.5 + w * ONE)
        : Math.trunc(0.5 + w * ONE);
    }
    first[xx] = xmin;
    count[xx] = xmax;
  }
  return { first, count, coefficients, stride };
}

/** Pillow's `clip8`: drop the fixed-point fraction and saturate to 0..255. */
function clip8(value: number): number {
  if (value >= SATURATED) return 255;
  if (value <= 0) return 0;
  return Math.floor(value / ONE);
}

/** One horizontal pass (`ImagingResampleHorizontal_8bpc`). */
function resampleHorizontal(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
): Uint8Array {
  const { first, count, coefficients, stride } = precomputeTaps(width, outWidth);
  const out = new Uint8Array(outWidth * height * channels);
  for (let y = 0; y < height; y++) {
    const row = y * width * channels;
    for (let xx = 0; xx < outWidth; xx++) {
      const base = row + first[xx] * channels;
      const k = xx * stride;
      const target = (y * outWidth + xx) * channels;
      for (let c = 0; c < channels; c++) {
        let ss = HALF;
        for (let x = 0; x < count[xx]; x++) {
          ss += src[base + x * channels + c] * coefficients[k + x];
        }
        out[target + c] = clip8(ss);
      }
    }
  }
  return out;
}

/** One vertical pass (`ImagingResampleVertical_8bpc`). */
function resampleVertical(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outHeight: number,
): Uint8Array {
  const { first, count, coefficients, stride } = precomputeTaps(height, outHeight);
  const rowLength = width * channels;
  const out = new Uint8Array(rowLength * outHeight);
  for (let yy = 0; yy < outHeight; yy++) {
    const base = first[yy] * rowLength;
    const k = yy * stride;
    for (let i = 0; i < rowLength; i++) {
      let ss = HALF;
      for (let y = 0; y < count[yy]; y++) {
        ss += src[base + y * rowLength + i] * coefficients[k + y];
      }
      out[yy * rowLength + i] = clip8(ss);
    }
  }
  return out;
}

function checkDimension(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Cannot resize image: ${name} must be a positive integer, got ${value}`);
  }
}

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
  if (!(src instanceof Uint8Array)) {
    throw new TypeError("Cannot resize image: pixels must be a Uint8Array");
  }
  checkDimension("width", size.width);
  checkDimension("height", size.height);
  checkDimension("channels", size.channels);
  checkDimension("output width", out.width);
  checkDimension("output height", out.height);
  const { width, height, channels } = size;
  const expected = width * height * channels;
  if (src.length !== expected) {
    throw new RangeError(
      `Cannot resize image: expected ${expected} bytes for ${width}x${height}x${channels}, got ${src.length}`,
    );
  }
  let pixels = src;
  if (out.width !== width) {
    pixels = resampleHorizontal(pixels, width, height, channels, out.width);
  }
  if (out.height !== height) {
    pixels = resampleVertical(pixels, out.width, height, channels, out.height);
  }
  return pixels === src ? src.slice() : pixels;
}
