import assert from "node:assert/strict";
import { DEFAULT_FEATURE_RESIZE, resizeFeatureMap } from "../../core/resize_feature_map.ts";

function assertClose(actual: ArrayLike<number>, expected: number[], tolerance: number): void {
  assert.equal(actual.length, expected.length, "length");
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tolerance,
      `value ${i}: ${actual[i]} is not within ${tolerance} of ${expected[i]}`,
    );
  }
}

// References: torch.nn.functional.interpolate(x, size=..., mode="bilinear",
// align_corners=...) on small inputs, computed by hand from torch's source-index
// rule (upsample_bilinear2d: src = (dst + 0.5) * in / out - 0.5 clamped at 0 when
// align_corners=False, dst * (in - 1) / (out - 1) when True; upper tap clamped).

const ARANGE_2X2 = Float32Array.of(0, 1, 2, 3);
const ONE_2X2 = { channels: 1, height: 2, width: 2 };

Deno.test("resizeFeatureMap() defaults to align_corners=False", () => {
  assert.equal(DEFAULT_FEATURE_RESIZE.alignCorners, false);
  const a = resizeFeatureMap(ARANGE_2X2, ONE_2X2, { height: 4, width: 4 });
  const b = resizeFeatureMap(ARANGE_2X2, ONE_2X2, { height: 4, width: 4 }, {
    alignCorners: false,
  });
  assert.deepEqual(a, b);
});

Deno.test("resizeFeatureMap() matches torch with align_corners=False", async (t) => {
  await t.step("2x2 -> 4x4 (torch.arange(4.).view(1, 1, 2, 2))", () => {
    const out = resizeFeatureMap(ARANGE_2X2, ONE_2X2, { height: 4, width: 4 });
    // deno-fmt-ignore
    assertClose(out, [
      0.0, 0.25, 0.75, 1.0,
      0.5, 0.75, 1.25, 1.5,
      1.5, 1.75, 2.25, 2.5,
      2.0, 2.25, 2.75, 3.0,
    ], 1e-6);
  });
  await t.step("1x4 -> 1x2 downsizes with 2 taps, no antialias", () => {
    // src = 0.5 and 2.5.
    const out = resizeFeatureMap(
      Float32Array.of(0, 1, 2, 3),
      { channels: 1, height: 1, width: 4 },
      {
        height: 1,
        width: 2,
      },
    );
    assertClose(out, [0.5, 2.5], 1e-6);
  });
  await t.step("1x5 -> 1x2 (non-integer ratio)", () => {
    // src = 0.75 and 3.25.
    const out = resizeFeatureMap(Float32Array.of(0, 1, 2, 3, 4), {
      channels: 1,
      height: 1,
      width: 5,
    }, { height: 1, width: 2 });
    assertClose(out, [0.75, 3.25], 1e-6);
  });
  await t.step("1x4 -> 1x1 reads the centre", () => {
    const out = resizeFeatureMap(Float32Array.of(0, 1, 2, 10), {
      channels: 1,
      height: 1,
      width: 4,
    }, { height: 1, width: 1 });
    assertClose(out, [1.5], 1e-6);
  });
  await t.step("1x3 -> 1x5 clamps both borders", () => {
    // src = -0.2 -> 0, 0.4, 1.0, 1.6, 2.2 -> upper tap clamped to 2.
    const out = resizeFeatureMap(Float32Array.of(0, 10, 20), {
      channels: 1,
      height: 1,
      width: 3,
    }, { height: 1, width: 5 });
    assertClose(out, [0, 4, 10, 16, 20], 1e-5);
  });
});

Deno.test("resizeFeatureMap() matches torch with align_corners=True", async (t) => {
  await t.step("2x2 -> 3x3", () => {
    const out = resizeFeatureMap(ARANGE_2X2, ONE_2X2, { height: 3, width: 3 }, {
      alignCorners: true,
    });
    assertClose(out, [0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3], 1e-6);
  });
  await t.step("1x4 -> 1x1 reads the first cell", () => {
    const out = resizeFeatureMap(
      Float32Array.of(7, 1, 2, 10),
      {
        channels: 1,
        height: 1,
        width: 4,
      },
      { height: 1, width: 1 },
      { alignCorners: true },
    );
    assertClose(out, [7], 0);
  });
  await t.step("an affine map stays exactly affine at the output coordinates", () => {
    // f(x, y) = 2x - 3y + 1 on a 4x5 grid (h = 4, w = 5), resized to 7x9.
    const h = 4, w = 5, oh = 7, ow = 9;
    const data = new Float32Array(h * w);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = 2 * x - 3 * y + 1;
    const out = resizeFeatureMap(data, { channels: 1, height: h, width: w }, {
      height: oh,
      width: ow,
    }, { alignCorners: true });
    const expected: number[] = [];
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        expected.push(2 * x * (w - 1) / (ow - 1) - 3 * y * (h - 1) / (oh - 1) + 1);
      }
    }
    assertClose(out, expected, 1e-5);
  });
});

Deno.test("resizeFeatureMap() resizes each channel plane on its own", () => {
  // Channel 1 is channel 0 times 10, over a non-square 2x3 grid resized to 3x2.
  const c0 = [0, 1, 2, 3, 4, 5];
  const data = Float32Array.from([...c0, ...c0.map((v) => v * 10)]);
  const out = resizeFeatureMap(data, { channels: 2, height: 2, width: 3 }, { height: 3, width: 2 });
  assert.equal(out.length, 12);
  assertClose(out.subarray(6), [...out.subarray(0, 6)].map((v) => v * 10), 1e-5);
});

Deno.test("resizeFeatureMap() returns a copy for the same size under both conventions", () => {
  for (const alignCorners of [false, true]) {
    const out = resizeFeatureMap(ARANGE_2X2, ONE_2X2, { height: 2, width: 2 }, { alignCorners });
    assert.deepEqual(out, ARANGE_2X2);
    assert.notEqual(out.buffer, ARANGE_2X2.buffer);
  }
});

Deno.test("resizeFeatureMap() rejects bad sizes", async (t) => {
  await t.step("wrong data length", () => {
    assert.throws(
      () => resizeFeatureMap(new Float32Array(3), ONE_2X2, { height: 2, width: 2 }),
      /expected 4 values for 1x2x2, got 3/,
    );
  });
  await t.step("zero or fractional sizes", () => {
    assert.throws(
      () => resizeFeatureMap(ARANGE_2X2, ONE_2X2, { height: 0, width: 2 }),
      RangeError,
    );
    assert.throws(
      () => resizeFeatureMap(ARANGE_2X2, { ...ONE_2X2, channels: 0.5 }, { height: 2, width: 2 }),
      /channels must be a positive integer/,
    );
  });
});
