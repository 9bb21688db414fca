// This module is browser compatible.
/**
 * The survey's official preprocessing, fused into one pass per axis:
 * torchvision's `ToTensor()`, `Resize((h, w))` on the float tensor and
 * `Normalize(mean, std)` (`test.py`, `load_dataset`), bit-exact with
 * Debian's python3-torch 1.13.1 and python3-torchvision 0.14.1.
 *
 * @module
 */

import type { Frame } from "./frame.ts";

const f = Math.fround;

/** Two source taps and their weights per output index of one axis. */
interface AxisTaps {
  i0: Int32Array;
  i1: Int32Array;
  w0: Float32Array;
  w1: Float32Array;
}

/**
 * PyTorch 1.13's `compute_source_index_and_lambda` (CPU, `align_corners`
 * false): the scale `in / out` in float32, the source index
 * `scale (i + 0.5) - 0.5` in float64 clamped at 0, its two neighbours
 * (the last pixel repeats) and their float32 weights `l1 = real - i0`,
 * `l0 = 1 - l1`. An axis that keeps its size copies. (These are the weights
 * PyTorch 1.13.1 applies to one-hot inputs, bit for bit.)
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

/**
 * Blends one source row (its RGB bytes from `from`) horizontally into
 * `into`: its R, G and B planes, `p0.length` float32 values each (held as
 * float64).
 */
function blendRow(
  data: Uint8Array,
  from: number,
  unit: Float32Array,
  taps: AxisTaps,
  p0: Int32Array,
  p1: Int32Array,
  into: Float64Array,
): void {
  const n = p0.length, w0 = taps.w0, w1 = taps.w1;
  for (let x = 0; x < n; x++) {
    const a = from + p0[x], b = from + p1[x], wa = w0[x], wb = w1[x];
    // Each fround is its blend's one rounding; the float32 result is kept
    // as float64, so the vertical blend, which reads each value about
    // twice, converts nothing on load.
    into[x] = f(unit[data[a]] * wa + f(unit[data[b]] * wb));
    into[n + x] = f(unit[data[a + 1]] * wa + f(unit[data[b + 1]] * wb));
    into[2 * n + x] = f(unit[data[a + 2]] * wa + f(unit[data[b + 2]] * wb));
  }
}

/** Options of {@linkcode torchModelInput}. */
export interface TorchModelInputOptions {
  /** Where the image goes in the `S x S` input (see `makeFrame`): resized to its content size. */
  frame: Frame;
  /** Per-channel mean of pixels in [0, 1]. */
  mean: readonly number[];
  /** Per-channel std of pixels in [0, 1]. */
  std: readonly number[];
}

/**
 * Builds the `[3, S, S]` float32 input the official preprocessing gives:
 * bytes to `v / 255` (`ToTensor`), bilinear resizing of that float image to
 * the frame's content size (`F.interpolate(..., mode="bilinear",
 * align_corners=False, antialias=False)`: half-pixel centres, no widening
 * of the filter when shrinking, so a large image is sampled, not averaged,
 * and no rounding to 8 bits), then `(x - mean) / std`; the content sits at
 * the frame's offset on a canvas of black (`(0 - mean) / std`).
 *
 * Each row is blended first (`h = x0 w0x + x1 w1x`), then two rows
 * (`h0 w0y + h1 w1y`), each blend rounded as PyTorch 1.13's CPU kernel
 * (`upsample_bilinear2d`, NCHW, compiled with FMA) rounds it,
 * `fma(a, wa, fround(b wb))`: the product of two float32 values is exact in
 * float64, so one rounding of `a wa + fround(b wb)` to float32 gives it.
 * Only the source rows the vertical blend reads are resampled, each once,
 * into one of two row buffers, so the whole pass stays in cache; the
 * normalization is fused into the vertical blend. Checked bit for bit
 * against `tests/fixtures/preprocess_reference.json`.
 *
 * @param image Width, height and `height * width * 3` RGB bytes (HWC).
 * @param options The frame and the normalization.
 * @returns `3 * S * S` values, CHW.
 * @throws {RangeError} When the image's bytes do not match its size, or a
 * statistic is invalid.
 *
 * @example Usage
 * ```ts
 * import { torchModelInput } from "./torch_model_input.ts";
 * import { makeFrame } from "./frame.ts";
 * import assert from "node:assert/strict";
 *
 * // A 2x1 image (black, white) to a 4x4 square: source x -0.25 (clamped to 0), 0.25, 0.75, 1.25.
 * const image = { width: 2, height: 1, data: Uint8Array.of(0, 0, 0, 255, 255, 255) };
 * const frame = makeFrame(image, { size: 4, mode: "stretch" });
 * const input = torchModelInput(image, { frame, mean: [0, 0, 0], std: [1, 1, 1] });
 * assert.deepEqual([...input.subarray(0, 4)], [0, 0.25, 0.75, 1]);
 * ```
 */
export function torchModelInput(
  image: { width: number; height: number; data: Uint8Array },
  options: TorchModelInputOptions,
): Float32Array {
  const { frame, mean, std } = options;
  const { width, height, data } = image;
  if (data.length !== width * height * 3) {
    throw new RangeError(
      `Cannot build model input: expected ${
        width * height * 3
      } bytes for ${width}x${height} RGB, got ${data.length}`,
    );
  }
  if (mean.length !== 3 || std.length !== 3) {
    throw new RangeError(
      `Cannot build model input: mean and std need 3 values, got ${mean.length} and ${std.length}`,
    );
  }
  const m = new Float64Array(3), inv = new Float64Array(3);
  for (let c = 0; c < 3; c++) {
    m[c] = f(mean[c]);
    const sd = f(std[c]);
    if (!(sd > 0) || !Number.isFinite(sd) || !Number.isFinite(m[c])) {
      throw new RangeError(
        `Cannot build model input: channel ${c} needs a finite mean and a positive std, got ${
          mean[c]
        } and ${std[c]}`,
      );
    }
    // `d / sd` and `d * (1 / sd)` (the reciprocal in float64) round to the
    // same float32, and a multiply is several times cheaper than a divide:
    // the quotient of two float32 values is never a float32 rounding
    // midpoint (the odd 25-bit significand would need an odd product of two
    // 24-bit ones) and lies at least 2^-49 (relative) from one, farther than
    // the float64 product's error (under 2^-52), so both round the same way.
    inv[c] = 1 / sd;
  }
  const S = frame.size;
  const outW = frame.contentWidth;
  const outH = frame.contentHeight;
  const tx = axisTaps(width, outW);
  const ty = axisTaps(height, outH);
  const out = new Float32Array(3 * S * S);
  if (outW !== S || outH !== S) {
    for (let c = 0; c < 3; c++) {
      out.fill(f(0 - m[c]) / f(std[c]), c * S * S, (c + 1) * S * S);
    }
  }
  // ToTensor: the float32 of v / 255 for each byte.
  const unit = new Float32Array(256);
  for (let v = 0; v < 256; v++) unit[v] = v / 255;
  const p0 = new Int32Array(outW), p1 = new Int32Array(outW);
  for (let x = 0; x < outW; x++) {
    p0[x] = 3 * tx.i0[x];
    p1[x] = 3 * tx.i1[x];
  }
  // The two source rows the current output row blends, each blended
  // horizontally once: the taps only move down, so a row is computed when
  // first needed and kept while the next output rows use it. Two small
  // buffers stay in cache, where a whole blended image did not.
  let upper = new Float64Array(3 * outW), lower = new Float64Array(3 * outW);
  let upperRow = -1, lowerRow = -1;
  const plane = S * S;
  for (let y = 0; y < outH; y++) {
    const ya = ty.i0[y], yb = ty.i1[y];
    if (upperRow !== ya) {
      if (lowerRow === ya) {
        const swap = upper;
        upper = lower;
        lower = swap;
        lowerRow = upperRow;
        upperRow = ya;
      } else {
        blendRow(data, ya * width * 3, unit, tx, p0, p1, upper);
        upperRow = ya;
      }
    }
    if (yb !== ya && lowerRow !== yb) {
      blendRow(data, yb * width * 3, unit, tx, p0, p1, lower);
      lowerRow = yb;
    }
    const ha = upper, hb = yb === ya ? upper : lower;
    const wa = ty.w0[y], wb = ty.w1[y];
    const o = (y + frame.contentY) * S + frame.contentX;
    for (let c = 0; c < 3; c++) {
      const mc = m[c], ic = inv[c], from = c * outW, to = o + c * plane;
      for (let x = 0; x < outW; x++) {
        const v = f(ha[from + x] * wa + f(hb[from + x] * wb));
        out[to + x] = f(v - mc) * ic;
      }
    }
  }
  return out;
}
