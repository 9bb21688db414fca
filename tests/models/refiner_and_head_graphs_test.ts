import assert from "node:assert/strict";
import { createSession } from "../../workers/backend.ts";
import {
  BOTTLENECK_HEAD_IO,
  buildBottleneckHeadGraph,
} from "../../models/bottleneck_head_graph.ts";
import {
  buildMutualMatchingGraph,
  MUTUAL_MATCHING_IO,
} from "../../models/mutual_matching_graph.ts";
import { buildIdentityRefinerGraph } from "../../models/identity_refiner_graph.ts";

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 1073741824 - 1;
  });
}

async function run(
  bytes: Uint8Array,
  input: string,
  output: string,
  data: Float32Array,
  dims: number[],
) {
  const s = await createSession(bytes, { label: "test graph", backend: "wasm" });
  try {
    return (await s.run({ [input]: { data, dims } }))[output];
  } finally {
    await s.release();
  }
}

Deno.test("buildBottleneckHeadGraph() maps [1, C, h, w] to [1, C', h, w] cell by cell", async (t) => {
  const c = 8, h = 3, w = 5, out = 6;
  const bytes = buildBottleneckHeadGraph({ channels: c, outChannels: out, seed: 3 });
  const x = random(c * h * w, 1);
  await t.step("shape on any grid", async () => {
    const y = await run(bytes, BOTTLENECK_HEAD_IO.input, BOTTLENECK_HEAD_IO.output, x, [
      1,
      c,
      h,
      w,
    ]);
    assert.deepEqual(y.dims, [1, out, h, w]);
    const y2 = await run(
      bytes,
      BOTTLENECK_HEAD_IO.input,
      BOTTLENECK_HEAD_IO.output,
      x.slice(0, c * 2),
      [
        1,
        c,
        1,
        2,
      ],
    );
    assert.deepEqual(y2.dims, [1, out, 1, 2]);
  });
  await t.step("1x1 convolutions: reversing the cells reverses the output", async () => {
    const cells = h * w;
    const reversed = new Float32Array(x.length);
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < cells; i++) reversed[ch * cells + i] = x[ch * cells + cells - 1 - i];
    }
    const a = await run(bytes, BOTTLENECK_HEAD_IO.input, BOTTLENECK_HEAD_IO.output, x, [
      1,
      c,
      h,
      w,
    ]);
    const b = await run(bytes, BOTTLENECK_HEAD_IO.input, BOTTLENECK_HEAD_IO.output, reversed, [
      1,
      c,
      h,
      w,
    ]);
    for (let ch = 0; ch < out; ch++) {
      for (let i = 0; i < cells; i++) {
        assert.ok(Math.abs(a.data[ch * cells + i] - b.data[ch * cells + cells - 1 - i]) < 1e-5);
      }
    }
  });
  await t.step("deterministic in the seed", () => {
    assert.deepEqual(bytes, buildBottleneckHeadGraph({ channels: c, outChannels: out, seed: 3 }));
    assert.notDeepEqual(
      bytes,
      buildBottleneckHeadGraph({ channels: c, outChannels: out, seed: 4 }),
    );
  });
  await t.step(
    "an identity shortcut when C' = C: a zero-scaled branch adds only its bias",
    async () => {
      const id = buildBottleneckHeadGraph({ channels: c, residualScale: 0 });
      const y = await run(id, BOTTLENECK_HEAD_IO.input, BOTTLENECK_HEAD_IO.output, x, [1, c, h, w]);
      // y = x + b2 with |b2| ~ 0.02: within 0.1 of x everywhere.
      for (let i = 0; i < x.length; i++) assert.ok(Math.abs(y.data[i] - x[i]) < 0.1);
    },
  );
});

/** NCNet's MutualMatching on [source, target] in float64. */
function mutualMatching(corr: Float32Array, source: number, target: number): number[] {
  const r = Array.from(corr, (v) => Math.max(v, 0));
  const maxOverSource = new Array(target).fill(-Infinity);
  const maxOverTarget = new Array(source).fill(-Infinity);
  for (let i = 0; i < source; i++) {
    for (let j = 0; j < target; j++) {
      maxOverSource[j] = Math.max(maxOverSource[j], r[i * target + j]);
      maxOverTarget[i] = Math.max(maxOverTarget[i], r[i * target + j]);
    }
  }
  return r.map((v, k) => {
    const i = Math.floor(k / target), j = k % target;
    return v * (v / (maxOverSource[j] + 1e-5)) * (v / (maxOverTarget[i] + 1e-5));
  });
}

Deno.test("buildMutualMatchingGraph() computes NCNet's soft mutual nearest-neighbour filter", async () => {
  const source = 6, target = 10;
  const corr = random(source * target, 7);
  const y = await run(
    buildMutualMatchingGraph(),
    MUTUAL_MATCHING_IO.input,
    MUTUAL_MATCHING_IO.output,
    corr,
    [1, source, target],
  );
  assert.deepEqual(y.dims, [1, source, target]);
  const expected = mutualMatching(corr, source, target);
  for (let k = 0; k < expected.length; k++) {
    assert.ok(Math.abs(y.data[k] - expected[k]) < 1e-5, `${k}`);
  }
  // A score that is the maximum of its row and column keeps its value (up to eps).
  let best = 0;
  for (let k = 1; k < corr.length; k++) if (corr[k] > corr[best]) best = k;
  assert.ok(Math.abs(y.data[best] - corr[best]) < 1e-4);
});

Deno.test("buildIdentityRefinerGraph() returns its input", async () => {
  const corr = random(12, 3);
  const y = await run(buildIdentityRefinerGraph(), "correlation", "refined", corr, [1, 3, 4]);
  assert.deepEqual(y.dims, [1, 3, 4]);
  assert.deepEqual(y.data, corr);
});
