import assert from "node:assert/strict";
import { resizePil } from "../../core/resize_pil.ts";

// Bilinear is checked in resize_test.ts, Lanczos on real images through
// toModelInput() (tests/fixtures/preprocess_reference.json); values below
// are Pillow 9.4's `Image.fromarray(a).resize((w, h), Image.LANCZOS)`.

Deno.test("resizePil() matches Pillow's Lanczos on a grey ramp", () => {
  const src = Uint8Array.of(0, 40, 80, 120, 160, 200, 240, 255);
  const size = { width: 8, height: 1, channels: 1 };
  assert.deepEqual([...resizePil(src, size, { width: 3, height: 1 }, { filter: "lanczos" })], [
    32,
    141,
    239,
  ]);
  // Growing: the negative lobes overshoot near the edges and are clipped to 0..255.
  assert.deepEqual(
    [...resizePil(Uint8Array.of(0, 255), { width: 2, height: 1, channels: 1 }, {
      width: 5,
      height: 1,
    }, { filter: "lanczos" })],
    [0, 22, 128, 233, 255],
  );
});

Deno.test("resizePil() rejects an unknown filter", () => {
  assert.throws(
    () =>
      resizePil(new Uint8Array(1), { width: 1, height: 1, channels: 1 }, { width: 1, height: 1 }, {
        filter: "box" as "bilinear",
      }),
    {
      name: "RangeError",
      message: 'Cannot resize image: filter must be one of bilinear, lanczos, got "box"',
    },
  );
});
