import assert from "node:assert/strict";
import { buildCostVolumeGraph, COST_VOLUME_IO } from "../../core/cost_volume_graph.ts";
import { costVolume } from "../../core/cost_volume.ts";
import { createSession } from "../../workers/backend.ts";
import { loadNativeRuntime } from "../../workers/ort_native.ts";
import type { BackendName } from "../../workers/session.ts";
import { seededNormal } from "../fixtures/_seeded_normal.ts";

/** Backends this machine runs: WASM always, native when onnxruntime-node loads. */
async function backends(): Promise<BackendName[]> {
  try {
    await loadNativeRuntime();
    return ["wasm", "native"];
  } catch {
    return ["wasm"];
  }
}

/** Normal samples with some cells scaled up and one cell zero, as backbone features vary. */
function features(channels: number, cells: number, seed: number): Float32Array {
  const normal = seededNormal(seed);
  const out = new Float32Array(channels * cells);
  for (let c = 0; c < channels; c++) {
    for (let j = 0; j < cells; j++) out[c * cells + j] = j === 3 ? 0 : normal() * (1 + (j % 5));
  }
  return out;
}

// Shapes of the service: dsift (128 channels), ViT-S at 448 (384, 32x32), ViT-B at 840 (768, 60x60).
const SHAPES = [
  { channels: 128, cells: 8 * 8, queries: 5 },
  { channels: 384, cells: 32 * 32, queries: 10 },
  { channels: 768, cells: 60 * 60, queries: 20 },
];

Deno.test("the ONNX cost volume equals costVolume() to 1e-6 on every backend, whole or in halves", async (t) => {
  const sessions = {
    full: buildCostVolumeGraph(),
    target: buildCostVolumeGraph({ part: "target" }),
    scores: buildCostVolumeGraph({ part: "scores" }),
  };
  for (const backend of await backends()) {
    const full = await createSession(sessions.full, { label: "full", backend });
    const half = await createSession(sessions.target, { label: "target", backend });
    const scores = await createSession(sessions.scores, { label: "scores", backend });
    try {
      for (const { channels, cells, queries: q } of SHAPES) {
        await t.step(
          `${backend}, ${q} queries x ${channels} channels x ${cells} cells`,
          async () => {
            // The queries' rows are a target cell's channels (zero, cell 3, included).
            const target = features(channels, cells, channels);
            const queries = new Float32Array(q * channels);
            for (let i = 0; i < q; i++) {
              for (let c = 0; c < channels; c++) {
                queries[i * channels + c] = target[c * cells + ((i * 7) % cells)];
              }
            }
            const expected = costVolume(queries, target, { queries: q, channels, cells });
            const feeds = {
              [COST_VOLUME_IO.queries]: { data: queries, dims: [q, channels] },
              [COST_VOLUME_IO.target]: { data: target, dims: [channels, cells] },
            };
            const whole = (await full.run(feeds))[COST_VOLUME_IO.output].data;
            let worst = 0;
            for (let i = 0; i < expected.length; i++) {
              worst = Math.max(worst, Math.abs(whole[i] - expected[i]));
            }
            assert.ok(worst <= 1e-6, `max |onnx - costVolume| = ${worst}`);
            // Cells scoring against themselves are 1 (the zero cell 0).
            assert.ok(Math.abs(whole[cells + 7] - 1) <= 1e-6);

            const normalized = (await half.run({
              [COST_VOLUME_IO.target]: feeds[COST_VOLUME_IO.target],
            }))[COST_VOLUME_IO.normalizedTarget].data;
            const split = (await scores.run({
              ...feeds,
              [COST_VOLUME_IO.target]: { data: normalized, dims: [channels, cells] },
            }))[COST_VOLUME_IO.output].data;
            // Bit for bit: an evaluation normalizes each target once, /v1/match per pair.
            assert.deepEqual(split, whole);
          },
        );
      }
    } finally {
      await full.release();
      await half.release();
      await scores.release();
    }
  }
});

Deno.test("the ONNX cost volume scores rows the same whatever other rows share the call, from two rows on", async () => {
  const channels = 384, cells = 32 * 32;
  const target = features(channels, cells, 5);
  const all = features(channels, 30, 9); // 30 queries as [30, C] rows
  for (const backend of await backends()) {
    const s = await createSession(buildCostVolumeGraph(), { label: "full", backend });
    try {
      const run = async (from: number, to: number) =>
        (await s.run({
          [COST_VOLUME_IO.queries]: {
            data: all.slice(from * channels, to * channels),
            dims: [to - from, channels],
          },
          [COST_VOLUME_IO.target]: { data: target, dims: [channels, cells] },
        }))[COST_VOLUME_IO.output].data;
      const together = await run(0, 30);
      // Pairs matched in one call (a target's group) get the rows they would get alone.
      for (const [from, to] of [[0, 10], [10, 12], [12, 30]]) {
        assert.deepEqual(await run(from, to), together.slice(from * cells, to * cells), backend);
      }
      // One row runs on a matrix-vector kernel that rounds differently: the
      // matcher gives a one-row source a call of its own (FeatureMatcher.matchMany).
      assert.notDeepEqual(await run(10, 11), together.slice(10 * cells, 11 * cells), backend);
    } finally {
      await s.release();
    }
  }
});
