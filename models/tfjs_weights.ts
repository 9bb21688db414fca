// This module is browser compatible.
/**
 * Decodes the weights of a TF.js graph model: each manifest group's shard
 * files are read back to back as one byte stream, and its tensors follow
 * each other in manifest order. Stored forms:
 * - `float32`, `int32` little-endian; `bool` one byte each;
 * - `float16` quantization: IEEE half floats, widened to float32 exactly;
 * - `uint8` / `uint16` affine quantization: `value = q * scale + min`
 *   (rounded for an integer `original_dtype`, as TF.js does).
 *
 * @example Usage
 * ```ts
 * import { decodeTfjsWeights } from "./tfjs_weights.ts";
 * import assert from "node:assert/strict";
 *
 * // A float16 [2] tensor (1.0, -2.0) then a uint8 [2] tensor with scale 0.5, min -1.
 * const shard = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 4, 10]);
 * const weights = decodeTfjsWeights([{
 *   paths: ["w.bin"],
 *   weights: [
 *     { name: "a", shape: [2], dtype: "float32", quantization: { dtype: "float16" } },
 *     { name: "b", shape: [2], dtype: "float32", quantization: { dtype: "uint8", scale: 0.5, min: -1 } },
 *   ],
 * }], [shard]);
 * assert.deepEqual(Array.from(weights.get("a")!.values), [1, -2]);
 * assert.deepEqual(Array.from(weights.get("b")!.values), [1, 4]);
 * ```
 *
 * @module
 */

import type { TfjsWeightGroup, TfjsWeightSpec } from "./tfjs_model.ts";

/** A decoded tensor. */
export interface TfjsTensor {
  /** `float32` (dequantized when stored quantized), `int32` or `bool` (0/1 in an Int32Array). */
  dtype: "float32" | "int32" | "bool";
  shape: number[];
  values: Float32Array | Int32Array;
}

/** Bytes one stored element takes. */
function storedBytes(w: TfjsWeightSpec): number {
  const q = w.quantization?.dtype;
  if (q === "uint8") return 1;
  if (q === "uint16" || q === "float16") return 2;
  return w.dtype === "bool" ? 1 : 4;
}

/** IEEE 754 half to float, exact (subnormals, infinities and NaN included). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * Decodes every tensor of a weights manifest.
 *
 * @param groups The manifest's groups.
 * @param shards Each shard's bytes, in the order of the groups' `paths`
 *   (group after group).
 * @returns Tensors by name.
 * @throws {RangeError} When the shards hold fewer bytes than the manifest
 *   needs, or more (a truncated or mismatched download), naming the group.
 * @throws {TypeError} When an affine quantization lacks `scale` or `min`.
 */
export function decodeTfjsWeights(
  groups: readonly TfjsWeightGroup[],
  shards: readonly Uint8Array[],
): Map<string, TfjsTensor> {
  const out = new Map<string, TfjsTensor>();
  let shardIndex = 0;
  for (const group of groups) {
    const parts = shards.slice(shardIndex, shardIndex + group.paths.length);
    shardIndex += group.paths.length;
    const total = parts.reduce((n, p) => n + p.length, 0);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    const view = new DataView(bytes.buffer);
    let offset = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const size = n * storedBytes(w);
      if (offset + size > total) {
        throw new RangeError(
          `Cannot decode weight \`${w.name}\`: shards [${group.paths}] hold ${total} bytes, the manifest needs more`,
        );
      }
      out.set(w.name, decodeOne(w, view, offset, n));
      offset += size;
    }
    if (offset !== total) {
      throw new RangeError(
        `Cannot decode the weights of shards [${group.paths}]: they hold ${total} bytes, the manifest describes ${offset}`,
      );
    }
  }
  return out;
}

function decodeOne(w: TfjsWeightSpec, view: DataView, offset: number, n: number): TfjsTensor {
  const q = w.quantization;
  const integer = w.dtype !== "float32";
  const values = integer ? new Int32Array(n) : new Float32Array(n);
  if (q?.dtype === "float16") {
    for (let i = 0; i < n; i++) values[i] = halfToFloat(view.getUint16(offset + 2 * i, true));
  } else if (q) {
    if (q.scale === undefined || q.min === undefined) {
      throw new TypeError(
        `Cannot decode weight \`${w.name}\`: ${q.dtype} quantization needs scale and min`,
      );
    }
    const wide = q.dtype === "uint16";
    for (let i = 0; i < n; i++) {
      const raw = wide ? view.getUint16(offset + 2 * i, true) : view.getUint8(offset + i);
      const v = raw * q.scale + q.min;
      values[i] = integer ? Math.round(v) : v;
    }
  } else if (w.dtype === "bool") {
    for (let i = 0; i < n; i++) values[i] = view.getUint8(offset + i) ? 1 : 0;
  } else if (integer) {
    for (let i = 0; i < n; i++) values[i] = view.getInt32(offset + 4 * i, true);
  } else {
    for (let i = 0; i < n; i++) values[i] = view.getFloat32(offset + 4 * i, true);
  }
  return { dtype: w.dtype, shape: w.shape, values };
}
