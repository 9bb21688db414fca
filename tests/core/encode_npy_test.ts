import assert from "node:assert/strict";
import { encodeNpy } from "../../core/encode_npy.ts";

// Expected bytes: NumPy 1.24 (Debian's python3-numpy), `np.save(f, a)`:
// the header of a (384, 60, 60) float32 array, 128 bytes in all.
const NUMPY_HEADER_384_60_60 = "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, " +
  "'shape': (384, 60, 60), }" + " ".repeat(51) + "\n";

Deno.test("encodeNpy() writes what np.save writes", () => {
  const npy = encodeNpy(new Float32Array(384 * 60 * 60).fill(0.5), [384, 60, 60]);
  assert.equal(npy.length, 128 + 384 * 60 * 60 * 4);
  assert.equal(String.fromCharCode(...npy.subarray(0, 128)), NUMPY_HEADER_384_60_60);
  assert.equal(new DataView(npy.buffer).getFloat32(128, true), 0.5);
  // A 1-D shape is written as a one-element tuple.
  assert.match(new TextDecoder().decode(encodeNpy(new Float32Array(7), [7])), /'shape': \(7,\)/);
});

Deno.test("encodeNpy() rejects a shape that does not hold the data", () => {
  assert.throws(() => encodeNpy(new Float32Array(5), [2, 3]), RangeError);
  assert.throws(() => encodeNpy(new Float32Array(0), [-1]), RangeError);
});
