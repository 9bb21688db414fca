import assert from "node:assert/strict";
import { numpyChoice } from "../../core/numpy_choice.ts";

// Expected draws: Debian's python3-numpy 1.24.2,
// `np.random.seed(42); np.random.choice(n, 8).tolist()`.
const NUMPY_DRAWS: [number, number[]][] = [
  [1, [0, 0, 0, 0, 0, 0, 0, 0]],
  [2, [0, 1, 0, 0, 0, 1, 0, 0]],
  [3, [2, 0, 2, 2, 0, 0, 2, 1]],
  [7, [6, 3, 4, 6, 2, 4, 4, 6]],
  [100, [51, 92, 14, 71, 60, 20, 82, 86]],
  [1000, [102, 435, 860, 270, 106, 71, 700, 20]],
  [70000, [15795, 860, 54886, 6265, 37194, 44131, 60263, 16023]],
];

Deno.test("numpyChoice() draws what numpy's legacy RandomState draws", () => {
  for (const [n, expected] of NUMPY_DRAWS) {
    assert.deepEqual([...numpyChoice(n, 8, { seed: 42 })], expected, `n = ${n}`);
  }
  // A prefix of a longer draw is the shorter draw.
  assert.deepEqual([...numpyChoice(100, 3, { seed: 42 })], [51, 92, 14]);
  assert.equal(numpyChoice(5, 0, { seed: 42 }).length, 0);
});

Deno.test("numpyChoice() rejects what numpy rejects", () => {
  assert.throws(() => numpyChoice(0, 2, { seed: 42 }), RangeError);
  assert.throws(() => numpyChoice(3, -1, { seed: 42 }), RangeError);
  assert.throws(() => numpyChoice(3, 1, { seed: 2 ** 32 }), RangeError);
});
