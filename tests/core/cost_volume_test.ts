import assert from "node:assert/strict";
import { costVolume } from "../../core/cost_volume.ts";
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

/** Deterministic pseudo-random features in [-1, 1). */
function features(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    out[i] = seed / 1073741824 - 1;
  }
  return out;
}

Deno.test("costVolume() gives cosine similarities of hand-picked vectors", () => {
  // Query (3, 4), |q| = 5, against cells (3, 4), (-4, 3), (6, 8), (-3, -4), (1, 0), (0, 0):
  // 25/25 = 1, 0, 50/50 = 1, -1, 3/5 = 0.6, and 0 for the zero cell.
  const target = Float32Array.of(
    3,
    -4,
    6,
    -3,
    1,
    0, // channel 0
    4,
    3,
    8,
    -4,
    0,
    0, // channel 1
  );
  const out = costVolume(Float32Array.of(3, 4), target, { queries: 1, channels: 2, cells: 6 });
  assertClose(out, [1, 0, 1, -1, 0.6, 0], 1e-6);
});

Deno.test("costVolume() gives 1 on the diagonal for identical features", () => {
  const channels = 8;
  const cells = 12;
  const target = features(channels * cells, 7);
  // Queries are the target cells themselves, sampled on-cell from a 4x3 grid.
  const points = new Float32Array(cells * 2);
  for (let j = 0; j < cells; j++) points.set([j % 4, Math.floor(j / 4)], 2 * j);
  const queries = sampleFeatures(target, { channels, height: 3, width: 4 }, points);
  const out = costVolume(queries, target, { queries: cells, channels, cells });
  for (let j = 0; j < cells; j++) {
    assert.ok(Math.abs(out[j * cells + j] - 1) < 1e-6, `diagonal ${j}`);
    for (let k = 0; k < cells; k++) {
      assert.ok(Math.abs(out[j * cells + k] - out[k * cells + j]) < 1e-6, `symmetry ${j}, ${k}`);
      assert.ok(Math.abs(out[j * cells + k]) <= 1 + 1e-6, `range ${j}, ${k}`);
    }
  }
});

Deno.test("costVolume() ignores the scale of either side", async (t) => {
  const queries = features(2 * 5, 3);
  const target = features(5 * 9, 4);
  const dims = { queries: 2, channels: 5, cells: 9 };
  const base = costVolume(queries, target, dims);
  await t.step("scaled queries", () => {
    assertClose(costVolume(queries.map((v) => v * 1000), target, dims), [...base], 1e-6);
  });
  await t.step("scaled target", () => {
    assertClose(costVolume(queries, target.map((v) => v * 1e-3), dims), [...base], 1e-6);
  });
});

Deno.test("costVolume() handles empty and zero inputs", async (t) => {
  await t.step("no queries", () => {
    assert.equal(
      costVolume(new Float32Array(0), new Float32Array(6), { queries: 0, channels: 2, cells: 3 })
        .length,
      0,
    );
  });
  await t.step("a zero query scores 0 everywhere", () => {
    const out = costVolume(new Float32Array(2), Float32Array.of(1, 2, 3, 4, 5, 6), {
      queries: 1,
      channels: 2,
      cells: 3,
    });
    assert.deepEqual([...out], [0, 0, 0]);
  });
});

Deno.test("costVolume() rejects inconsistent sizes", () => {
  assert.throws(
    () =>
      costVolume(new Float32Array(3), new Float32Array(6), { queries: 1, channels: 2, cells: 3 }),
    {
      name: "RangeError",
      message: "Cannot compute cost volume: expected 2 query values for 1x2, got 3",
    },
  );
  assert.throws(
    () =>
      costVolume(new Float32Array(2), new Float32Array(5), { queries: 1, channels: 2, cells: 3 }),
    RangeError,
  );
  assert.throws(
    () =>
      costVolume(new Float32Array(0), new Float32Array(0), { queries: 0, channels: 0, cells: 3 }),
    RangeError,
  );
});
