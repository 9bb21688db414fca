// This module is browser compatible.
/**
 * Pillow's 8-bit resampler (`Resample.c`), bit-exact with
 * `Image.resize((w, h), filter)` for the bilinear and Lanczos filters.
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

/** Output size of {@linkcode resizePil}. */
export interface ResizeTarget {
  /** Output width in pixels (a positive integer). */
  width: number;
  /** Output height in pixels (a positive integer). */
  height: number;
}

/**
 * The Pillow filters implemented: `bilinear` (`Image.BILINEAR`, a triangle
 * of support 1) and `lanczos` (`Image.LANCZOS`, a 3-lobed windowed sinc).
 */
export type PilFilter = typeof PIL_FILTERS[number];

/** The filters of {@linkcode resizePil}, in a stable order. */
export const PIL_FILTERS = Object.freeze(["bilinear", "lanczos"] as const);

/** Options of {@linkcode resizePil}. */
export interface ResizePilOptions {
  /** The resampling filter. */
  filter: PilFilter;
}

/** Fixed-point precision of Pillow's 8-bit resampler: `32 - 8 - 2`. */
const PRECISION_BITS = 22;
/** `1 << PRECISION_BITS`. */
const ONE = 1 << PRECISION_BITS;
/** Rounding offset added before truncation: `1 << (PRECISION_BITS - 1)`. */
const HALF = 1 << (PRECISION_BITS - 1);
/** Pillow's `clip8` saturation bound: `1 << PRECISION_BITS << 8`. */
const SATURATED = ONE * 256;

/** Pillow's `bilinear_filter`. */
function triangle(x: number): number {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
}

/** Pillow's `sinc_filter`. */
function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

/** Pillow's `lanczos_filter`: sinc windowed by sinc(x / 3), on [-3, 3). */
function lanczos(x: number): number {
  return -3 <= x && x < 3 ? sinc(x) * sinc(x / 3) : 0;
}

/** Each filter's kernel and support (in input pixels, before scaling). */
const KERNELS: Record<PilFilter, { kernel: (x: number) => number; support: number }> = {
  bilinear: { kernel: triangle, support: 1 },
  lanczos: { kernel: lanczos, support: 3 },
};

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
function precomputeTaps(inSize: number, outSize: number, filter: PilFilter): Taps {
  const { kernel, support: base } = KERNELS[filter];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = base * filterScale;
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
      const w = kernel((x + xmin - center + 0.5) * inverse);
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

/**
 * Pillow's `clip8`: drop the fixed-point fraction and saturate to 0..255.
 * Sums are exact integers below 2^31 here, so `>>` truncates like C's shift.
 */
function clip8(value: number): number {
  if (value >= SATURATED) return 255;
  if (value <= 0) return 0;
  return value >> PRECISION_BITS;
}

/** One horizontal pass (`ImagingResampleHorizontal_8bpc`). */
function resampleHorizontal(
  src: Uint8Array,
  size: ImageSize,
  outWidth: number,
  filter: PilFilter,
): Uint8Array {
  const { width, height, channels } = size;
  const { first, count, coefficients, stride } = precomputeTaps(width, outWidth, filter);
  const out = new Uint8Array(outWidth * height * channels);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let o = y * outWidth * channels;
    for (let xx = 0; xx < outWidth; xx++) {
      const k = xx * stride;
      const n = count[xx];
      let p = (row + first[xx]) * channels;
      if (channels === 3 && n === 3) {
        // The common cases, unrolled: RGB with three taps (mild shrinking) or two (enlarging).
        const w0 = coefficients[k], w1 = coefficients[k + 1], w2 = coefficients[k + 2];
        out[o++] = clip8(HALF + src[p] * w0 + src[p + 3] * w1 + src[p + 6] * w2);
        out[o++] = clip8(HALF + src[p + 1] * w0 + src[p + 4] * w1 + src[p + 7] * w2);
        out[o++] = clip8(HALF + src[p + 2] * w0 + src[p + 5] * w1 + src[p + 8] * w2);
        continue;
      }
      if (channels === 3 && n === 2) {
        const w0 = coefficients[k], w1 = coefficients[k + 1];
        out[o++] = clip8(HALF + src[p] * w0 + src[p + 3] * w1);
        out[o++] = clip8(HALF + src[p + 1] * w0 + src[p + 4] * w1);
        out[o++] = clip8(HALF + src[p + 2] * w0 + src[p + 5] * w1);
        continue;
      }
      if (channels === 3) {
        // Wider filters, still one pass over the taps for the three channels.
        let r = HALF, g = HALF, b = HALF;
        for (let x = 0; x < n; x++, p += 3) {
          const w = coefficients[k + x];
          r += src[p] * w;
          g += src[p + 1] * w;
          b += src[p + 2] * w;
        }
        out[o++] = clip8(r);
        out[o++] = clip8(g);
        out[o++] = clip8(b);
        continue;
      }
      for (let c = 0; c < channels; c++) {
        let ss = HALF;
        for (let x = 0; x < n; x++) ss += src[p + x * channels + c] * coefficients[k + x];
        out[o++] = clip8(ss);
      }
    }
  }
  return out;
}

/**
 * One vertical pass (`ImagingResampleVertical_8bpc`). Rows of two or three
 * taps (bilinear enlarging or mild shrinking) are summed in one expression
 * per pixel; wider ones accumulate tap by tap. Every partial sum is an
 * integer below 2^31 in magnitude (|coefficients| sum to under 2^23), so the
 * int32 arithmetic is exact, as Pillow's.
 */
function resampleVertical(
  src: Uint8Array,
  size: ImageSize,
  outHeight: number,
  filter: PilFilter,
): Uint8Array {
  const { height } = size;
  const { first, count, coefficients, stride } = precomputeTaps(height, outHeight, filter);
  const rowLength = size.width * size.channels;
  const out = new Uint8Array(rowLength * outHeight);
  const sums = new Int32Array(rowLength);
  for (let yy = 0; yy < outHeight; yy++) {
    const k = yy * stride;
    const n = count[yy];
    const a = first[yy] * rowLength;
    const o = yy * rowLength;
    if (n === 2) {
      const w0 = coefficients[k], w1 = coefficients[k + 1];
      const b = a + rowLength;
      for (let i = 0; i < rowLength; i++) {
        out[o + i] = clip8(HALF + src[a + i] * w0 + src[b + i] * w1);
      }
    } else if (n === 3) {
      const w0 = coefficients[k], w1 = coefficients[k + 1], w2 = coefficients[k + 2];
      const b = a + rowLength, c = b + rowLength;
      for (let i = 0; i < rowLength; i++) {
        out[o + i] = clip8(HALF + src[a + i] * w0 + src[b + i] * w1 + src[c + i] * w2);
      }
    } else {
      sums.fill(HALF);
      for (let y = 0; y < n; y++) {
        const w = coefficients[k + y];
        const base = a + y * rowLength;
        for (let i = 0; i < rowLength; i++) sums[i] = (sums[i] + src[base + i] * w) | 0;
      }
      for (let i = 0; i < rowLength; i++) out[o + i] = clip8(sums[i]);
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
 * Resizes an interleaved (HWC) 8-bit image with one of Pillow's filters.
 *
 * The result is bit-exact with Pillow's `Image.resize((w, h), filter)` for
 * `L` (1 channel) and `RGB` (3 channels) images (checked against Pillow 9.4,
 * Debian's python3-pil). Each channel is resampled independently, so
 * 4-channel data is treated like Pillow's `RGBX`, not `RGBA` (Pillow
 * premultiplies alpha).
 *
 * The algorithm is Pillow's `Resample.c`: per output pixel, the filter
 * scaled by `max(in / out, 1)` (antialiasing when shrinking) and centred on
 * `(i + 0.5) * in / out`, normalized to sum 1, then converted to fixed point
 * with 22 fraction bits. The horizontal pass runs first, then the vertical
 * one; each rounds and clips to 8 bits. A pass is skipped when its axis keeps
 * its size.
 *
 * @param src Pixels in row-major HWC order: `size.height * size.width * size.channels` bytes.
 * @param size Width, height and channel count of `src`.
 * @param out Output width and height.
 * @param options The filter.
 * @returns A new array of `out.height * out.width * size.channels` bytes (HWC).
 * @throws {RangeError} If a dimension is not a positive integer, `src` has the wrong length, or the filter is unknown.
 * @throws {TypeError} If `src` is not a `Uint8Array`.
 *
 * @example Usage
 * ```ts
 * import { resizePil } from "./resize_pil.ts";
 * import assert from "node:assert/strict";
 *
 * // A 4x1 grey image shrunk to 2x1 with the bilinear filter: taps 3/7, 3/7, 1/7.
 * const size = { width: 4, height: 1, channels: 1 };
 * const src = Uint8Array.of(10, 20, 30, 40);
 * assert.deepEqual([...resizePil(src, size, { width: 2, height: 1 }, { filter: "bilinear" })], [17, 33]);
 * // Lanczos keeps more contrast (Pillow gives 15, 35).
 * assert.deepEqual([...resizePil(src, size, { width: 2, height: 1 }, { filter: "lanczos" })], [15, 35]);
 * ```
 */
export function resizePil(
  src: Uint8Array,
  size: ImageSize,
  out: ResizeTarget,
  options: ResizePilOptions,
): Uint8Array {
  if (!(src instanceof Uint8Array)) {
    throw new TypeError("Cannot resize image: pixels must be a Uint8Array");
  }
  if (!(PIL_FILTERS as readonly string[]).includes(options.filter)) {
    throw new RangeError(
      `Cannot resize image: filter must be one of ${
        PIL_FILTERS.join(", ")
      }, got "${options.filter}"`,
    );
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
    pixels = resampleHorizontal(pixels, size, out.width, options.filter);
  }
  if (out.height !== height) {
    pixels = resampleVertical(
      pixels,
      { width: out.width, height, channels },
      out.height,
      options.filter,
    );
  }
  return pixels === src ? src.slice() : pixels;
}
