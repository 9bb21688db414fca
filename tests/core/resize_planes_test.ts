import assert from "node:assert/strict";
import { resizePlanes } from "../../core/resize_planes.ts";

// Bit-exactness with PyTorch is checked through toModelInput() against
// tests/fixtures/preprocess_reference.json; these are the properties.

Deno.test("resizePlanes() samples without antialiasing", () => {
  // 4 -> 2: source indices 0.5 and 2.5, so each output is a 2-pixel mean (no wider filter).
  const out = resizePlanes(Float32Array.of(0, 1, 2, 3), { width: 4, height: 1, channels: 1 }, {
    width: 2,
    height: 1,
  });
  assert.deepEqual([...out], [0.5, 2.5]);
});

Deno.test("resizePlanes() copies an axis that keeps its size and keeps planes apart", () => {
  const src = Float32Array.of(1, 2, 3, 4, 10, 20, 30, 40); // 2 planes of 2x2
  const out = resizePlanes(src, { width: 2, height: 2, channels: 2 }, { width: 2, height: 4 });
  assert.deepEqual([...out], [1, 2, 1.5, 2.5, 2.5, 3.5, 3, 4, 10, 20, 15, 25, 25, 35, 30, 40]);
});

Deno.test("resizePlanes() rejects bad sizes", () => {
  assert.throws(
    () =>
      resizePlanes(new Float32Array(3), { width: 2, height: 1, channels: 1 }, {
        width: 1,
        height: 1,
      }),
    { name: "RangeError", message: "Cannot resize planes: expected 2 values for 1x1x2, got 3" },
  );
  assert.throws(
    () =>
      resizePlanes(new Float32Array(1), { width: 1, height: 1, channels: 1 }, {
        width: 0,
        height: 1,
      }),
    RangeError,
  );
});
