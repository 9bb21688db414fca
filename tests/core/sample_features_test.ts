import assert from "node:assert/strict";
import { sampleFeatures } from "../../core/sample_features.ts";

function assertClose(actual: ArrayLike<number>, expected: number[], tolerance: number): void {
  assert.equal(actual.length, expected.length, "length");
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tolerance,
      `value ${i}: ${actual[i]} is not within ${tolerance} of ${expected[i]}`,
    );
  }
}

// Two channels on a 3x2 grid (w = 3, h = 2):
//   channel 0: f(x, y) = x + 3y       -> [[0, 1, 2], [3, 4, 5]]
//   channel 1: f(x, y) = 10 + 10x + 30y -> [[10, 20, 30], [40, 50, 60]]
// Both are affine, so bilinear interpolation inside the grid reproduces them exactly.
const FEATURES = Float32Array.of(0, 1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 60);
const DIMS = { channels: 2, height: 2, width: 3 };

Deno.test("sampleFeatures() returns a cell's feature for a point on that cell", () => {
  const out = sampleFeatures(FEATURES, DIMS, Float32Array.of(0, 0, 2, 1, 1, 0));
  assert.deepEqual([...out], [0, 10, 5, 60, 1, 20]);
});

Deno.test("sampleFeatures() interpolates bilinearly inside the grid", () => {
  // (0.5, 0.5): mean of the 4 cells -> 2 and 30. (1.25, 0.75): 1.25 + 2.25 = 3.5 and
  // 10 + 12.5 + 22.5 = 45.
  const out = sampleFeatures(FEATURES, DIMS, Float32Array.of(0.5, 0.5, 1.25, 0.75));
  assertClose(out, [2, 30, 3.5, 45], 1e-6);
});

Deno.test("sampleFeatures() pads with zeros outside the grid like grid_sample", async (t) => {
  await t.step("half a cell outside blends with zero", () => {
    // (-0.5, 0): 0.5 * f(0, 0) = 0, 5. (2.5, 1): 0.5 * f(2, 1) = 2.5, 30. (0, 1.5): 0.5 * f(0, 1) = 1.5, 20.
    const out = sampleFeatures(FEATURES, DIMS, Float32Array.of(-0.5, 0, 2.5, 1, 0, 1.5));
    assertClose(out, [0, 5, 2.5, 30, 1.5, 20], 1e-6);
  });
  await t.step("a full cell outside is zero", () => {
    const out = sampleFeatures(FEATURES, DIMS, Float32Array.of(-1, 0, 3, 0, 1, 2, 10, -10));
    assert.deepEqual([...out], [0, 0, 0, 0, 0, 0, 0, 0]);
  });
  await t.step("a one-cell grid", () => {
    const out = sampleFeatures(
      Float32Array.of(7),
      { channels: 1, height: 1, width: 1 },
      Float32Array.of(0, 0, 0.5, 0),
    );
    assertClose(out, [7, 3.5], 1e-6);
  });
});

Deno.test("sampleFeatures() lays the result out as [Q, C]", () => {
  const out = sampleFeatures(FEATURES, DIMS, new Float32Array(0));
  assert.equal(out.length, 0);
  assert.equal(sampleFeatures(FEATURES, DIMS, new Float32Array(10)).length, 5 * 2);
});

Deno.test("sampleFeatures() rejects bad input", async (t) => {
  await t.step("feature length", () => {
    assert.throws(() => sampleFeatures(new Float32Array(11), DIMS, new Float32Array(2)), {
      name: "RangeError",
      message: "Cannot sample features: expected 12 values for 2x2x3, got 11",
    });
  });
  await t.step("odd points", () => {
    assert.throws(() => sampleFeatures(FEATURES, DIMS, new Float32Array(3)), RangeError);
  });
  await t.step("non-finite point", () => {
    assert.throws(() => sampleFeatures(FEATURES, DIMS, Float32Array.of(NaN, 0)), {
      name: "RangeError",
      message: "Cannot sample features: point 0 is not finite (NaN, 0)",
    });
  });
});
