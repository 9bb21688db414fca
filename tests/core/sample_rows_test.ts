import assert from "node:assert/strict";
import { sampleRows } from "../../core/sample_rows.ts";
import { sampleFeatures } from "../../core/sample_features.ts";

/** `[rows, columns]` -> `[columns, rows]`. */
function transpose(m: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) out[c * rows + r] = m[r * columns + c];
  }
  return out;
}

// A 2x3 grid of rows (h = 2, w = 3), 4 values per row.
const DIMS = { height: 2, width: 3, columns: 4 };
const MATRIX = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i * 1.7) * 3);

Deno.test("sampleRows() returns a cell's row for a point on that cell", () => {
  const out = sampleRows(MATRIX, DIMS, Float32Array.of(2, 1, 0, 0));
  assert.deepEqual([...out.subarray(0, 4)], [...MATRIX.subarray(20, 24)]);
  assert.deepEqual([...out.subarray(4)], [...MATRIX.subarray(0, 4)]);
});

Deno.test("sampleRows() equals sampleFeatures() on the transposed matrix", async (t) => {
  const chw = transpose(MATRIX, 6, 4);
  const cases: [string, number[]][] = [
    ["inside", [0.5, 0.5, 1.25, 0.75, 1.9, 0.1]],
    ["on edges", [2, 0.5, 0.25, 1]],
    ["half outside (zero padding)", [-0.5, 0, 2.5, 1, 0, 1.5]],
    ["fully outside", [-1, 0, 3, 0, 1, 2]],
  ];
  for (const [name, points] of cases) {
    await t.step(name, () => {
      const p = Float32Array.from(points);
      const rows = sampleRows(MATRIX, DIMS, p);
      const features = sampleFeatures(chw, { channels: 4, height: 2, width: 3 }, p);
      assert.deepEqual(rows, features);
    });
  }
});

Deno.test("sampleRows() rejects bad input", async (t) => {
  await t.step("wrong length", () => {
    assert.throws(() => sampleRows(new Float32Array(5), DIMS, Float32Array.of(0, 0)), RangeError);
  });
  await t.step("odd points", () => {
    assert.throws(() => sampleRows(MATRIX, DIMS, Float32Array.of(0)), /x, y pairs/);
  });
  await t.step("non-finite point", () => {
    assert.throws(() => sampleRows(MATRIX, DIMS, Float32Array.of(NaN, 0)), /not finite/);
  });
  await t.step("zero columns", () => {
    assert.throws(
      () => sampleRows(MATRIX, { ...DIMS, columns: 0 }, Float32Array.of(0, 0)),
      /columns/,
    );
  });
});
