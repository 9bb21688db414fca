import assert from "node:assert/strict";
import { PckAccumulator, pckPair, type PckPairResult, type PckSums } from "../../core/pck.ts";

const ORIGIN2 = new Float32Array([0, 0, 0, 0]);

Deno.test("pckPair() counts correct points per alpha", async (t) => {
  await t.step("hand-computed distances", () => {
    // Distances 5, 10, 15 with base 100: limits 5, 10, 15 at alphas 0.05, 0.1, 0.15.
    const pred = new Float32Array([3, 4, 6, 8, 9, 12]);
    const truth = new Float32Array(6);
    assert.deepEqual(pckPair(pred, truth, { thresholdBase: 100, alphas: [0.05, 0.1, 0.15] }), {
      points: 3,
      correct: [1, 2, 3],
    });
    assert.deepEqual(
      pckPair(pred, truth, { thresholdBase: 100, alphas: [0.05, 0.1, 0.15], comparison: "<" }),
      { points: 3, correct: [0, 1, 2] },
    );
    assert.deepEqual(pckPair(pred, truth, { thresholdBase: 100, alphas: [0.01] }), {
      points: 3,
      correct: [0],
    });
  });
  await t.step("<= boundary: a distance exactly alpha * base", () => {
    // 0.1 * 50 === 5 in float64, and the distance of (3, 4) is exactly 5.
    assert.equal(0.1 * 50, 5);
    const pred = new Float32Array([13, 24]);
    const truth = new Float32Array([10, 20]);
    const opts = { thresholdBase: 50, alphas: [0.1] };
    assert.deepEqual(pckPair(pred, truth, opts), { points: 1, correct: [1] });
    assert.deepEqual(pckPair(pred, truth, { ...opts, comparison: "<" }), {
      points: 1,
      correct: [0],
    });
    // Just past the boundary is wrong under both.
    const past = new Float32Array([13.001, 24]);
    assert.deepEqual(pckPair(past, truth, opts), { points: 1, correct: [0] });
  });
  await t.step("threshold base 0: only exact matches count, and only with <=", () => {
    const truth = new Float32Array([1, 1, 2, 2]);
    const pred = new Float32Array([1, 1, 2, 3]);
    assert.deepEqual(pckPair(pred, truth, { thresholdBase: 0, alphas: [0.1] }).correct, [1]);
    assert.deepEqual(
      pckPair(pred, truth, { thresholdBase: 0, alphas: [0.1], comparison: "<" }).correct,
      [0],
    );
  });
  await t.step("a non-finite prediction is wrong", () => {
    const pred = new Float32Array([NaN, 0, Infinity, 0]);
    assert.deepEqual(pckPair(pred, ORIGIN2, { thresholdBase: 1e9, alphas: [1] }), {
      points: 2,
      correct: [0],
    });
  });
  await t.step("no points", () => {
    assert.deepEqual(
      pckPair(new Float32Array(0), new Float32Array(0), { thresholdBase: 1, alphas: [0.1, 0.2] }),
      { points: 0, correct: [0, 0] },
    );
  });
  await t.step("invalid input", () => {
    const opts = { thresholdBase: 10, alphas: [0.1] };
    assert.throws(() => pckPair(new Float32Array(2), ORIGIN2, opts), TypeError);
    assert.throws(() => pckPair(new Float32Array(3), new Float32Array(3), opts), TypeError);
    assert.throws(
      () => pckPair(ORIGIN2, new Float32Array([0, NaN, 0, 0]), opts),
      /true point 0 is not finite/,
    );
    for (const thresholdBase of [-1, NaN, Infinity]) {
      assert.throws(() => pckPair(ORIGIN2, ORIGIN2, { thresholdBase, alphas: [0.1] }), RangeError);
    }
    for (const alphas of [[], [-0.1], [NaN], [0.1, 0.1]]) {
      assert.throws(() => pckPair(ORIGIN2, ORIGIN2, { thresholdBase: 1, alphas }), RangeError);
    }
    assert.throws(
      () => pckPair(ORIGIN2, ORIGIN2, { ...opts, comparison: "<<" as never }),
      RangeError,
    );
  });
});

Deno.test("PckAccumulator.summary() gives hand-computed per-image, per-point and category means", () => {
  const acc = new PckAccumulator({ alphas: [0.05, 0.1] });
  acc.addResult("a", { points: 2, correct: [1, 2] });
  acc.addResult("a", { points: 4, correct: [1, 3] });
  acc.addResult("b", { points: 1, correct: [0, 1] });
  acc.add("b", { pred: new Float32Array(0), truth: new Float32Array(0), thresholdBase: 10 });
  acc.add("c", { pred: ORIGIN2, truth: ORIGIN2, thresholdBase: null });
  const s = acc.summary();
  assert.deepEqual(s.alphas, ["0.05", "0.1"]);
  assert.equal(s.comparison, "<=");
  assert.equal(s.pairs, 3);
  assert.equal(s.points, 7);
  assert.equal(s.skipped_pairs, 2);
  assert.deepEqual(s.skipped, { no_keypoints: 1, no_threshold: 1 });
  assert.deepEqual(s.category_counts, {
    a: { pairs: 2, points: 6, skipped_pairs: 0 },
    b: { pairs: 1, points: 1, skipped_pairs: 1 },
    c: { pairs: 0, points: 0, skipped_pairs: 1 },
  });
  // Per image: a = mean(1/2, 1/4) and mean(2/2, 3/4); b = 0/1 and 1/1.
  assert.deepEqual(s.per_image.categories, {
    a: { "0.05": 0.375, "0.1": 0.875 },
    b: { "0.05": 0, "0.1": 1 },
    c: { "0.05": null, "0.1": null },
  });
  assert.deepEqual(s.per_image.all, { "0.05": 0.75 / 3, "0.1": 2.75 / 3 });
  // Mean of categories with an evaluated pair (a and b; c has none).
  assert.deepEqual(s.per_image.category_mean, { "0.05": 0.1875, "0.1": 0.9375 });
  // Per point: a = 2/6 and 5/6, b = 0/1 and 1/1, all = 2/7 and 6/7.
  assert.deepEqual(s.per_point.categories, {
    a: { "0.05": 2 / 6, "0.1": 5 / 6 },
    b: { "0.05": 0, "0.1": 1 },
    c: { "0.05": null, "0.1": null },
  });
  assert.deepEqual(s.per_point.all, { "0.05": 2 / 7, "0.1": 6 / 7 });
  assert.deepEqual(s.per_point.category_mean, { "0.05": (2 / 6 + 0) / 2, "0.1": (5 / 6 + 1) / 2 });
});

Deno.test("PckAccumulator.add() scores points and echoes the comparison", () => {
  const pred = new Float32Array([3, 4, 30, 40]);
  const le = new PckAccumulator({ alphas: [0.1] });
  const lt = new PckAccumulator({ alphas: [0.1], comparison: "<" });
  const pair = { pred, truth: ORIGIN2, thresholdBase: 50 };
  assert.deepEqual(le.add("x", pair), { points: 2, correct: [1] });
  assert.deepEqual(lt.add("x", pair), { points: 2, correct: [0] });
  assert.equal(le.summary().per_image.all["0.1"], 0.5);
  assert.equal(lt.summary().per_image.all["0.1"], 0);
  assert.equal(lt.summary().comparison, "<");
  assert.equal(le.add("x", { ...pair, thresholdBase: null }), null);
  assert.throws(
    () => le.add("x", { pred: new Float32Array(2), truth: ORIGIN2, thresholdBase: null }),
    TypeError,
  );
});

Deno.test("PckAccumulator merges separately evaluated shards exactly and in any order", async (t) => {
  // A seeded generator (mulberry32), so the data and the order effect are fixed.
  let seed = 12345;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const alphas = [0.05, 0.1, 0.15];
  const results: { category: string; result: PckPairResult }[] = [];
  for (let i = 0; i < 3000; i++) {
    const points = 1 + Math.floor(random() * 20);
    const c1 = Math.floor(random() * (points + 1));
    const c2 = c1 + Math.floor(random() * (points - c1 + 1));
    const c3 = c2 + Math.floor(random() * (points - c2 + 1));
    results.push({
      category: ["cat", "dog", "cow"][i % 3],
      result: { points, correct: [c1, c2, c3] },
    });
  }
  const build = (items: typeof results) => {
    const acc = new PckAccumulator({ alphas });
    for (const { category, result } of items) acc.addResult(category, result);
    return acc;
  };
  const whole = build(results);
  const shards = [results.slice(0, 1000), results.slice(1000, 2200), results.slice(2200)].map(
    build,
  );

  await t.step("the float64 sum of per-pair ratios depends on the order (the trap)", () => {
    const ratios = results.map((r) => r.result.correct[1] / r.result.points);
    const forward = ratios.reduce((a, b) => a + b, 0);
    const backward = [...ratios].reverse().reduce((a, b) => a + b, 0);
    assert.notEqual(forward, backward);
  });
  await t.step("3 shards merged in every order equal one pass", () => {
    const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    for (const order of orders) {
      const merged = new PckAccumulator({ alphas });
      for (const i of order) merged.merge(shards[i]);
      assert.deepEqual(merged.toJSON(), whole.toJSON());
      assert.deepEqual(merged.summary(), whole.summary());
    }
  });
  await t.step("pairs added in reverse order give the same summary", () => {
    assert.deepEqual(build([...results].reverse()).summary(), whole.summary());
  });
  await t.step("merging JSON round-trips", () => {
    const json = JSON.parse(JSON.stringify(shards.map((s) => s.toJSON()))) as PckSums[];
    const merged = PckAccumulator.fromJSON(json[2]).merge(json[0]).merge(json[1]);
    assert.deepEqual(merged.summary(), whole.summary());
  });
  await t.step("the mean over pairs is the mean of the per-pair ratios", () => {
    const exact = results.reduce((a, r) => a + r.result.correct[1] / r.result.points, 0) /
      results.length;
    const got = whole.summary().per_image.all["0.1"]!;
    assert.ok(Math.abs(got - exact) < 1e-12, `${got} vs ${exact}`);
  });
});

Deno.test("PckAccumulator refuses mismatched merges and malformed sums", async (t) => {
  const acc = new PckAccumulator({ alphas: [0.1] });
  acc.addResult("a", { points: 2, correct: [1] });
  await t.step("different alphas or comparison", () => {
    assert.throws(() => acc.merge(new PckAccumulator({ alphas: [0.05] })), RangeError);
    assert.throws(() => acc.merge(new PckAccumulator({ alphas: [0.1, 0.05] })), RangeError);
    assert.throws(
      () => acc.merge(new PckAccumulator({ alphas: [0.1], comparison: "<" })),
      RangeError,
    );
  });
  await t.step("malformed results", () => {
    assert.throws(() => acc.addResult("a", { points: 2, correct: [3] }), RangeError);
    assert.throws(() => acc.addResult("a", { points: 2, correct: [1, 1] }), RangeError);
    assert.throws(() => acc.addResult("a", { points: 1.5, correct: [1] }), RangeError);
    assert.throws(() => acc.skip("a", "bored" as never), RangeError);
  });
  await t.step("malformed JSON", () => {
    const good = acc.toJSON();
    const cases: [string, (s: PckSums) => void][] = [
      ["sums that do not add up", (s) => s.categories.a.correct[0] = 2],
      ["a bad pair size", (s) => s.categories.a.correct_by_points = { "02": [1] }],
      [
        "a missing skip count",
        (s) => delete (s.categories.a.skipped as Partial<Record<string, number>>).no_threshold,
      ],
      ["a fractional count", (s) => s.categories.a.points = 2.5],
      ["pairs without points", (s) => s.categories.a.points = 0],
      ["no categories", (s) => (s as { categories: unknown }).categories = null],
    ];
    for (const [name, mutate] of cases) {
      const bad = structuredClone(good);
      mutate(bad);
      assert.throws(() => PckAccumulator.fromJSON(bad), RangeError, name);
    }
    assert.deepEqual(PckAccumulator.fromJSON(structuredClone(good)).toJSON(), good);
  });
});
