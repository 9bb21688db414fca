// This module is browser compatible.
/**
 * NumPy's `.npy` file format (version 1.0) for float32 arrays, the format
 * `np.load` reads and `np.save` writes.
 *
 * @module
 */

/** The format's magic string: `\x93NUMPY`. */
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/**
 * Encodes a C-order float32 array as a `.npy` file, byte for byte as
 * NumPy 1.24's `np.save` writes it: the magic string, version 1.0, the
 * header dict `{'descr': '<f4', 'fortran_order': False, 'shape': (...), }`
 * followed by NumPy's spare room for a growing first axis (21 characters
 * less the first dimension's digits), padded with spaces and a newline so
 * the data starts at a multiple of 64 bytes, then the values in
 * little-endian order.
 *
 * @param data The values, last axis fastest.
 * @param shape The array's shape; its product must be `data.length`.
 * @returns The file's bytes.
 * @throws {RangeError} When the shape does not match the data, or the header would exceed 65535 bytes.
 *
 * @example Usage
 * ```ts
 * import { encodeNpy } from "./encode_npy.ts";
 * import assert from "node:assert/strict";
 *
 * // python3 -c "import numpy as np; np.save('a.npy', np.arange(1, 7, dtype='<f4').reshape(3, 1, 2))"
 * const npy = encodeNpy(Float32Array.of(1, 2, 3, 4, 5, 6), [3, 1, 2]);
 * assert.equal(npy.length, 128 + 6 * 4);
 * const header = new TextDecoder().decode(npy.subarray(10, 128));
 * assert.ok(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1, 2), }"));
 * assert.ok(header.endsWith(" \n"));
 * assert.equal(new DataView(npy.buffer).getFloat32(128 + 4, true), 2);
 * ```
 */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new RangeError(`Cannot encode .npy: shape [${shape}] must be non-negative integers`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new RangeError(
      `Cannot encode .npy: shape [${shape}] holds ${count} values, got ${data.length}`,
    );
  }
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  // NumPy leaves room to rewrite a larger first dimension in place (GROWTH_AXIS_MAX_DIGITS).
  const growth = shape.length ? " ".repeat(Math.max(0, 21 - String(shape[0]).length)) : "";
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }${growth}`;
  // magic (6) + version (2) + header length (2) + header, padded to 64 with a final newline.
  const unpadded = 10 + dict.length + 1;
  const headerLength = dict.length + 1 + ((64 - (unpadded % 64)) % 64);
  if (headerLength > 0xffff) {
    throw new RangeError(`Cannot encode .npy: a header of ${headerLength} bytes needs version 2`);
  }
  const header = dict.padEnd(headerLength - 1, " ") + "\n";
  const out = new Uint8Array(10 + headerLength + 4 * data.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, headerLength, true);
  out.set(new TextEncoder().encode(header), 10);
  const body = 10 + headerLength;
  for (let i = 0; i < data.length; i++) view.setFloat32(body + 4 * i, data[i], true);
  return out;
}
