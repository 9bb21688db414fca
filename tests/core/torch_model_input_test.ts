import assert from "node:assert/strict";
import { torchModelInput } from "../../core/torch_model_input.ts";
import { makeFrame } from "../../core/frame.ts";

// Bit-exactness with torchvision is checked through toModelInput() against
// tests/fixtures/preprocess_reference.json; these are the properties.

/** A grey image (the same byte in every channel) of one row or column. */
function grey(width: number, height: number, values: number[]) {
  return { width, height, data: Uint8Array.from(values.flatMap((v) => [v, v, v])) };
}

const unit = { mean: [0, 0, 0], std: [1, 1, 1] };

Deno.test("torchModelInput() samples without antialiasing", () => {
  // 4 -> 2: source indices 0.5 and 2.5, each output a 2-pixel mean (Pillow would use 3 taps).
  const image = grey(4, 2, [0, 51, 102, 153, 0, 51, 102, 153]);
  const frame = makeFrame(image, { size: 2, mode: "stretch" });
  const out = torchModelInput(image, { frame, ...unit });
  assert.deepEqual([...out.subarray(0, 2)], [25.5 / 255, 127.5 / 255].map(Math.fround));
});

Deno.test("torchModelInput() places letterboxed content on a black canvas", () => {
  const image = grey(4, 2, [255, 255, 255, 255, 255, 255, 255, 255]);
  const frame = makeFrame(image, { size: 4, mode: "letterbox" });
  const out = torchModelInput(image, { frame, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
  // Rows 1 and 2 hold the image (white: 1), rows 0 and 3 the canvas (black: -1).
  assert.deepEqual([...out.subarray(0, 16)], [
    -1,
    -1,
    -1,
    -1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    -1,
    -1,
    -1,
    -1,
  ]);
});

Deno.test("torchModelInput() rejects bad sizes and statistics", () => {
  const frame = makeFrame({ width: 2, height: 1 }, { size: 2, mode: "stretch" });
  assert.throws(
    () => torchModelInput({ width: 2, height: 1, data: new Uint8Array(5) }, { frame, ...unit }),
    {
      name: "RangeError",
      message: "Cannot build model input: expected 6 bytes for 2x1 RGB, got 5",
    },
  );
  const image = grey(2, 1, [0, 0]);
  assert.throws(
    () => torchModelInput(image, { frame, mean: [0, 0, 0], std: [1, 0, 1] }),
    RangeError,
  );
});
