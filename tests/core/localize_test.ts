import assert from "node:assert/strict";
import { localize } from "../../core/localize.ts";
import {
  DEFAULT_LOCALIZER,
  LOCALIZER_NAMES,
  type LocalizerName,
  type LocalizerOptions,
} from "../../core/localizer_options.ts";
import { localizeBilinear } from "../../core/localize_bilinear.ts";
import { localizeKernelSoftargmax } from "../../core/localize_kernel_softargmax.ts";
import { localizeNn } from "../../core/localize_nn.ts";
import { localizeSoftargmax } from "../../core/localize_softargmax.ts";
import { localizeWindowSoftargmax } from "../../core/localize_window_softargmax.ts";
import { localizerProbes } from "../../core/localizer_probes.ts";
import { LOCALIZER_CASES, TOLERANCE } from "./localizer_cases.ts";

function assertClose(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

Deno.test("localize() runs the shared localizer suite", async (t) => {
  for (const c of LOCALIZER_CASES) {
    for (const method of LOCALIZER_NAMES) {
      const expected = c.expected[method];
      const skip = "skip" in expected ? expected.skip : undefined;
      await t.step({
        name: `${method}: ${c.name}${skip ? ` (skipped: ${skip})` : ""}`,
        ignore: skip !== undefined,
        fn: () => {
          if ("skip" in expected) return;
          const probes = localizerProbes(Float32Array.from(c.query), c.grid, method);
          const cells = c.grid.width * c.grid.height;
          const count = probes.probes.length / 2;
          const scores = new Float32Array(count * cells);
          for (let i = 0; i < count; i++) {
            scores.set(c.scoreMap(probes.probes[2 * i], probes.probes[2 * i + 1]), i * cells);
          }
          const options: LocalizerOptions = { ...DEFAULT_LOCALIZER, ...c.options, method };
          const out = localize(scores, c.grid, probes, options);
          assert.equal(out.length, 3);
          assertClose(out[0], expected.x, TOLERANCE, "x");
          assertClose(out[1], expected.y, TOLERANCE, "y");
          assertClose(out[2], expected.score, TOLERANCE, "score");
        },
      });
    }
  }
});

Deno.test("localize() gives finite coordinates at the extremes of every parameter", async (t) => {
  // A 5x4 map peaking at (3, 1): whatever the temperature, sigma or window
  // (1e-300 underflows 2 sigma^2 to 0, 1e300 flattens every softmax), the
  // answer is a point of the grid, never NaN.
  const grid = { width: 5, height: 4 };
  const scores = new Float32Array(20).map((_, i) =>
    0.5 - 0.1 * Math.hypot((i % 5) - 3, Math.floor(i / 5) - 1)
  );
  const extremes: Partial<LocalizerOptions>[] = [
    { sigma: 1e-300 },
    { sigma: 1e300 },
    { temperature: 1e-300 },
    { temperature: 1e300 },
    { window: 0 },
    { window: 1e9 },
  ];
  for (const method of LOCALIZER_NAMES) {
    for (const extreme of extremes) {
      await t.step(`${method} ${JSON.stringify(extreme)}`, () => {
        const probes = localizerProbes(Float32Array.of(3, 1), grid, method);
        const count = probes.probes.length / 2;
        const map = new Float32Array(count * 20);
        for (let i = 0; i < count; i++) map.set(scores, i * 20);
        const out = localize(map, grid, probes, { ...DEFAULT_LOCALIZER, ...extreme, method });
        assert.ok(out[0] >= 0 && out[0] <= 4 && out[1] >= 0 && out[1] <= 3, `${out}`);
      });
    }
  }
});

Deno.test("localize() lays out several queries as [Q, 3]", () => {
  const grid = { width: 3, height: 2 };
  // Query 0 peaks at (2, 0) with 0.5, query 1 at (0, 1) with 0.25.
  const scores = Float32Array.of(0, 0, 0.5, 0, 0, 0, 0, 0, 0, 0.25, 0, 0);
  const probes = localizerProbes(Float32Array.of(0, 0, 1, 1), grid, "nn");
  const out = localize(scores, grid, probes, { ...DEFAULT_LOCALIZER, method: "nn" });
  assert.deepEqual([...out], [2, 0, 0.5, 0, 1, 0.25]);
});

Deno.test("localize() defaults to the survey baseline's kernel soft-argmax", () => {
  assert.deepEqual(DEFAULT_LOCALIZER, {
    method: "kernel-softargmax",
    temperature: 0.03,
    sigma: 7,
    window: 7,
  });
  assert.ok(Object.isFrozen(DEFAULT_LOCALIZER));
});

Deno.test("localize() rejects probes that do not suit the method", async (t) => {
  const grid = { width: 2, height: 2 };
  await t.step("single probes for bilinear", () => {
    const probes = localizerProbes(Float32Array.of(0.5, 0.5), grid, "nn");
    assert.throws(
      () =>
        localize(new Float32Array(4), grid, probes, { ...DEFAULT_LOCALIZER, method: "bilinear" }),
      {
        name: "RangeError",
        message: "Cannot localize: method bilinear needs 4 probes per query, got 1",
      },
    );
  });
  await t.step("corner probes for softargmax", () => {
    const probes = localizerProbes(Float32Array.of(0.5, 0.5), grid, "bilinear");
    assert.throws(
      () =>
        localize(new Float32Array(16), grid, probes, {
          ...DEFAULT_LOCALIZER,
          method: "softargmax",
        }),
      RangeError,
    );
  });
  await t.step("wrong score count", () => {
    const probes = localizerProbes(Float32Array.of(0.5, 0.5), grid, "nn");
    assert.throws(
      () => localize(new Float32Array(5), grid, probes, DEFAULT_LOCALIZER),
      { name: "RangeError", message: "Cannot localize: expected 1 maps of 4 scores, got 5 values" },
    );
  });
  await t.step("unknown method", () => {
    const probes = localizerProbes(Float32Array.of(0.5, 0.5), grid, "nn");
    assert.throws(
      () =>
        localize(new Float32Array(4), grid, probes, {
          ...DEFAULT_LOCALIZER,
          method: "argmax" as LocalizerName,
        }),
      TypeError,
    );
  });
});

Deno.test("localizerProbes() splits bilinear queries into clamped corners", async (t) => {
  const grid = { width: 4, height: 3 };
  await t.step("inside the grid", () => {
    // (1.25, 0.5): fx = 0.25, fy = 0.5.
    const p = localizerProbes(Float32Array.of(1.25, 0.5), grid, "bilinear");
    assert.equal(p.perQuery, 4);
    assert.deepEqual([...p.probes], [1, 0, 2, 0, 1, 1, 2, 1]);
    assert.deepEqual([...p.weights], [0.375, 0.125, 0.375, 0.125]);
  });
  await t.step("outside the grid: clamped to [1e-5, w - 1 - 1e-5]", () => {
    const p = localizerProbes(Float32Array.of(-3, 7), grid, "bilinear");
    // x -> 1e-5: corners 0, 1 with fx = 1e-5; y -> 2 - 1e-5: rows 1, 2 with fy = 0.99999.
    assert.deepEqual([...p.probes], [0, 1, 1, 1, 0, 2, 1, 2]);
    const expected = [(1 - 1e-5) * 1e-5, 1e-5 * 1e-5, (1 - 1e-5) * (1 - 1e-5), 1e-5 * (1 - 1e-5)];
    for (let i = 0; i < 4; i++) assertClose(p.weights[i], expected[i], 1e-7, `weight ${i}`);
  });
  await t.step("a one-cell axis uses cell 0 twice", () => {
    const p = localizerProbes(Float32Array.of(0, 0.5), { width: 1, height: 2 }, "bilinear");
    assert.deepEqual([...p.probes], [0, 0, 0, 0, 0, 1, 0, 1]);
    assert.deepEqual([...p.weights], [0.5, 0, 0.5, 0]);
  });
  await t.step("other methods probe the query point itself", () => {
    for (const method of LOCALIZER_NAMES.filter((m) => m !== "bilinear")) {
      const p = localizerProbes(Float32Array.of(-3, 7, 1.5, 1), grid, method);
      assert.deepEqual([p.perQuery, [...p.probes], [...p.weights]], [1, [-3, 7, 1.5, 1], [1, 1]]);
    }
  });
  await t.step("non-finite bilinear queries are rejected", () => {
    assert.throws(() => localizerProbes(Float32Array.of(NaN, 0), grid, "bilinear"), RangeError);
  });
});

Deno.test("localizers reject invalid parameters", async (t) => {
  const grid = { width: 2, height: 1 };
  const scores = Float32Array.of(0.1, 0.2);
  await t.step("score count and non-finite scores", () => {
    assert.throws(() => localizeNn(new Float32Array(3), grid), {
      name: "RangeError",
      message: "Cannot localize: expected 2 scores for a 2x1 grid, got 3",
    });
    assert.throws(() => localizeNn(Float32Array.of(0, NaN), grid), RangeError);
  });
  await t.step("temperature and sigma", () => {
    assert.throws(() => localizeSoftargmax(scores, grid, { temperature: 0 }), RangeError);
    assert.throws(
      () => localizeKernelSoftargmax(scores, grid, { temperature: 0.03, sigma: -1 }),
      RangeError,
    );
    assert.throws(
      () => localizeKernelSoftargmax(scores, grid, { temperature: Infinity, sigma: 7 }),
      RangeError,
    );
  });
  await t.step("window and beta", () => {
    assert.throws(() => localizeWindowSoftargmax(scores, grid, { window: 1.5 }), RangeError);
    assert.throws(() => localizeWindowSoftargmax(scores, grid, { window: 1, beta: 0 }), RangeError);
  });
  await t.step("bilinear weights", () => {
    const maps = new Float32Array(8);
    assert.throws(() => localizeBilinear(maps, grid, Float32Array.of(0, 0, 0, 0)), {
      name: "RangeError",
      message: "Cannot localize with bilinear: the weights sum to 0",
    });
    assert.throws(() => localizeBilinear(maps, grid, Float32Array.of(1, -1, 0, 1)), RangeError);
    assert.throws(() => localizeBilinear(maps, grid, Float32Array.of(1, 1, 1)), RangeError);
  });
  await t.step("window-softargmax defaults beta to GeoAware-SC's 0.02", () => {
    // 3x1 map [1, 0.98, 0]: weight of the 0.98 cell exp(-0.02 / 0.02) = e^-1 = 0.367879,
    // of the 0 cell exp(-1 / 0.02) = 1.9e-22: x = 0.367879 / 1.367879 = 0.268941.
    const m = localizeWindowSoftargmax(Float32Array.of(1, 0.98, 0), { width: 3, height: 1 }, {
      window: 5,
    });
    assertClose(
      m.x,
      Math.exp(-(1 - Math.fround(0.98)) / 0.02) / (1 + Math.exp(-(1 - Math.fround(0.98)) / 0.02)),
      1e-9,
      "x",
    );
  });
});
