import assert from "node:assert/strict";
import { fuseFeatureMaps } from "../../core/fuse_feature_maps.ts";
import { resizeFeatureMap } from "../../core/resize_feature_map.ts";

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number) {
  assert.equal(actual.length, expected.length, "length");
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tolerance,
      `value ${i}: ${actual[i]} is not within ${tolerance} of ${expected[i]}`,
    );
  }
}

/** Norm of each cell's feature of a CHW map. */
function cellNorms(data: Float32Array, channels: number, cells: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < cells; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += data[c * cells + i] ** 2;
    out.push(Math.sqrt(s));
  }
  return out;
}

// A 2-channel 2x2 map: cells (3, 4), (0, 2), (1, 0), (0, 0) -> norms 5, 2, 1, 0.
const A = { data: Float32Array.of(3, 0, 1, 0, 4, 2, 0, 0), channels: 2, height: 2, width: 2 };
// A 1-channel 1x1 map.
const B = { data: Float32Array.of(-2), channels: 1, height: 1, width: 1 };

Deno.test("fuseFeatureMaps() normalizes each cell, weights, and concatenates in order", () => {
  const fused = fuseFeatureMaps([{ ...A, weight: 2 }], { height: 2, width: 2 });
  assert.deepEqual([fused.channels, fused.height, fused.width], [2, 2, 2]);
  // Cell (3, 4) -> 2 * (0.6, 0.8); (0, 2) -> (0, 2); (1, 0) -> (2, 0); zero stays zero.
  assertClose(fused.data, [1.2, 0, 2, 0, 1.6, 2, 0, 0], 1e-6);
});

Deno.test("fuseFeatureMaps() resizes each map to the common grid after weighting", () => {
  const fused = fuseFeatureMaps([{ ...A, weight: 1 }, { ...B, weight: 0.5 }], {
    height: 2,
    width: 2,
  });
  assert.equal(fused.channels, 3);
  // B's one cell (-2) normalizes to -1, times 0.5, then fills the 2x2 grid.
  assertClose(fused.data.subarray(8), [-0.5, -0.5, -0.5, -0.5], 1e-7);
  // A needs no resize: its channels are its normalized cells.
  assertClose(fused.data.subarray(0, 8), [0.6, 0, 1, 0, 0.8, 1, 0, 0], 1e-6);
  // Cells where A is non-zero have squared norm 1 + 0.25 (the sum of squared weights).
  const norms = cellNorms(fused.data, 3, 4);
  assertClose(norms.slice(0, 3), [1.25, 1.25, 1.25].map(Math.sqrt), 1e-6);
});

Deno.test("fuseFeatureMaps() resizes with resizeFeatureMap's convention", async (t) => {
  for (const alignCorners of [false, true]) {
    await t.step(`align_corners=${alignCorners}`, () => {
      const fused = fuseFeatureMaps([{ ...A, weight: 1 }], { height: 3, width: 5 }, {
        alignCorners,
      });
      const normalized = Float32Array.of(0.6, 0, 1, 0, 0.8, 1, 0, 0);
      const expected = resizeFeatureMap(normalized, A, { height: 3, width: 5 }, { alignCorners });
      assertClose(fused.data, expected, 1e-6);
    });
  }
});

Deno.test("fuseFeatureMaps() gives zeros for a map of weight 0", () => {
  const fused = fuseFeatureMaps([{ ...B, weight: 0 }, { ...A, weight: 1 }], {
    height: 2,
    width: 2,
  });
  // (-0 from a negative feature times 0 counts as zero: it adds nothing to a dot product.)
  assert.ok(fused.data.subarray(0, 4).every((v) => v === 0));
  assertClose(fused.data.subarray(4), [0.6, 0, 1, 0, 0.8, 1, 0, 0], 1e-6);
});

Deno.test("fuseFeatureMaps() rejects bad input", async (t) => {
  await t.step("no map", () => {
    assert.throws(() => fuseFeatureMaps([], { height: 1, width: 1 }), /no map given/);
  });
  await t.step("negative or non-finite weight", () => {
    for (const weight of [-1, NaN, Infinity]) {
      assert.throws(
        () => fuseFeatureMaps([{ ...A, weight }], { height: 2, width: 2 }),
        /weight of map 0 must be finite and >= 0/,
      );
    }
  });
  await t.step("wrong data length", () => {
    assert.throws(
      () => fuseFeatureMaps([{ ...A, weight: 1 }, { ...A, channels: 3, weight: 1 }], A),
      /map 1 has 8 values, expected 12 for 3x2x2/,
    );
  });
});
