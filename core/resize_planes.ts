// This module is browser compatible.
/**
 * Bilinear resizing of float images as PyTorch does it:
 * `F.interpolate(x, (h, w), mode="bilinear", align_corners=False,
 * antialias=False)`, which is what torchvision 0.14's `Resize((h, w))` runs
 * on a float tensor (the survey's official preprocessing).
 *
 * @module
 */

/** Size of channel-planar (CHW) float data. */
export interface PlanesSize {
  /** Width in pixels (a positive integer). */
  width: number;
  /** Height in pixels (a positive integer). */
  height: number;
  /** Number of planes (channels). */
  channels: number;
}

/** Two source taps and their weights per output index of one axis. */
interface AxisTaps {
  i0: Int32Array;
  i1: Int32Array;
  w0: Float32Array;
  w1: Float32Array;
}

const f = Math.fround;

/**
 * PyTorch 1.13's `compute_source_index_and_lambda` (CPU, `align_corners`
 * false): the scale `in / out` in float32, the source index
 * `scale (i + 0.5) - 0.5` in float64 clamped at 0, its two neighbours and
 * their float32 weights `l1 = real - i0`, `l0 = 1 - l1`. An axis that keeps
 * its size copies. (Measured on Debian's python3-torch 1.13.1: these are the
 * weights it applies to one-hot inputs, bit for bit.)
 */
function axisTaps(inSize: number, outSize: number): AxisTaps {
  const taps = {
    i0: new Int32Array(outSize),
    i1: new Int32Array(outSize),
    w0: new Float32Array(outSize),
    w1: new Float32Array(outSize),
  };
  const scale = f(inSize / outSize);
  for (let i = 0; i < outSize; i++) {
    if (inSize === outSize) {
      taps.i0[i] = taps.i1[i] = i;
      taps.w0[i] = 1;
      continue;
    }
    let real = scale * (i + 0.5) - 0.5;
    if (real < 0) real = 0;
    const i0 = Math.min(Math.trunc(real), inSize - 1);
    const lambda1 = f(Math.min(Math.max(real - i0, 0), 1));
    taps.i0[i] = i0;
    taps.i1[i] = i0 < inSize - 1 ? i0 + 1 : i0;
    taps.w1[i] = lambda1;
    taps.w0[i] = f(1 - lambda1);
  }
  return taps;
}

function checkSize(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Cannot resize planes: ${name} must be a positive integer, got ${value}`);
  }
}

/** `a * wa + b * wb` as PyTorch's compiled kernel rounds it: `fma(a, wa, fround(b * wb))`. */
function blend(a: number, wa: number, b: number, wb: number): number {
  // a * wa is exact in float64 (two float32 factors); one rounding to float32 follows.
  return f(a * wa + f(b * wb));
}

/**
 * Resizes channel-planar float32 data with PyTorch's bilinear interpolation
 * (half-pixel centres, no antialiasing, float32 results).
 *
 * The source index of output pixel `i` is `(i + 0.5) in / out - 0.5`,
 * clamped at 0; neighbours past the last pixel repeat it. Each row is
 * blended first (`h = x0 w0x + x1 w1x`), then the two rows
 * (`h0 w0y + h1 w1y`), each blend rounded as PyTorch 1.13's CPU kernel
 * (`upsample_bilinear2d`, NCHW, built with FMA) rounds it: bit-exact with
 * Debian's python3-torch 1.13.1 (`tests/fixtures/preprocess_reference.json`).
 * Unlike Pillow's bilinear filter it does not widen when shrinking, so a
 * large image is sampled, not averaged.
 *
 * @param src `size.channels` planes of `size.height x size.width` float32 values.
 * @param size Width, height and plane count of `src`.
 * @param out Output width and height.
 * @returns New planes of `out.height x out.width` (CHW).
 * @throws {RangeError} If a size is not a positive integer or `src` has the wrong length.
 *
 * @example Usage
 * ```ts
 * import { resizePlanes } from "./resize_planes.ts";
 * import assert from "node:assert/strict";
 *
 * // One row of 2 pixels to 4: source indices -0.25 (clamped to 0), 0.25, 0.75, 1.25.
 * const out = resizePlanes(Float32Array.of(0, 1), { width: 2, height: 1, channels: 1 }, {
 *   width: 4,
 *   height: 1,
 * });
 * assert.deepEqual([...out], [0, 0.25, 0.75, 1]);
 * ```
 */
export function resizePlanes(
  src: Float32Array,
  size: PlanesSize,
  out: { width: number; height: number },
): Float32Array {
  const { width, height, channels } = size;
  checkSize("width", width);
  checkSize("height", height);
  checkSize("channels", channels);
  checkSize("output width", out.width);
  checkSize("output height", out.height);
  if (src.length !== width * height * channels) {
    throw new RangeError(
      `Cannot resize planes: expected ${
        width * height * channels
      } values for ${channels}x${height}x${width}, got ${src.length}`,
    );
  }
  const outW = out.width;
  const outH = out.height;
  const tx = axisTaps(width, outW);
  const ty = axisTaps(height, outH);
  // Which source rows the vertical pass reads; only those are resampled.
  const used = new Uint8Array(height);
  for (let y = 0; y < outH; y++) used[ty.i0[y]] = used[ty.i1[y]] = 1;
  const rows = new Float32Array(height * outW);
  const result = new Float32Array(channels * outH * outW);
  for (let c = 0; c < channels; c++) {
    const plane = src.subarray(c * width * height, (c + 1) * width * height);
    for (let y = 0; y < height; y++) {
      if (!used[y]) continue;
      const from = y * width;
      const to = y * outW;
      for (let x = 0; x < outW; x++) {
        rows[to + x] = blend(plane[from + tx.i0[x]], tx.w0[x], plane[from + tx.i1[x]], tx.w1[x]);
      }
    }
    const target = c * outH * outW;
    for (let y = 0; y < outH; y++) {
      const a = ty.i0[y] * outW;
      const b = ty.i1[y] * outW;
      const wa = ty.w0[y];
      const wb = ty.w1[y];
      const o = target + y * outW;
      for (let x = 0; x < outW; x++) result[o + x] = blend(rows[a + x], wa, rows[b + x], wb);
    }
  }
  return result;
}
