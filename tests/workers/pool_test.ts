import assert from "node:assert/strict";
import { WorkerPool } from "../../workers/pool.ts";
import {
  FeaturesNotResidentError,
  WorkerCrashedError,
  WorkersNotReadyError,
} from "../../errors/mod.ts";
import { makeFrame } from "../../core/frame.ts";
import { DEFAULT_LOCALIZER } from "../../core/localizer_options.ts";
import { encode } from "fast-png";
import { CRASH_POINTS } from "./fixtures/fault_triggers.ts";
import { BUILTIN_MODELS } from "../../models/registry.ts";
import { createWebSession } from "../../workers/ort.ts";
import { buildCostVolumeGraph } from "../../core/cost_volume_graph.ts";

const model = { descriptor: BUILTIN_MODELS.dsift };

Deno.test("WorkerPool starts after onnxruntime-web has run in the same thread", async () => {
  const s = await createWebSession(buildCostVolumeGraph(), { label: "cv" });
  await s.release();
  const pool = new WorkerPool({ size: 1, backend: "wasm" });
  try {
    await pool.start(model);
    assert.equal(pool.stats().ready, 1);
    assert.equal(pool.stats().backend, "wasm");
  } finally {
    await pool.dispose();
  }
});

Deno.test("WorkerPool.start() rejects when a worker dies while loading; the pool keeps retrying with back-off and fails tasks at once", async () => {
  const pool = new WorkerPool({
    size: 1,
    retryMs: 20,
    retryMaxMs: 40,
    workerUrl: new URL("./fixtures/load_crash_worker.ts", import.meta.url),
  });
  try {
    await assert.rejects(pool.start(model), WorkerCrashedError);
    // It goes on starting workers (no give-up after a few crashes).
    while (pool.stats().restarts < 4) await new Promise((r) => setTimeout(r, 10));
    const stats = pool.stats();
    assert.equal(stats.size, 1);
    assert.equal(stats.ready, 0);
    assert.equal(stats.load_error, "worker_crashed");
    // Between attempts, with nothing loading, a task fails now instead of waiting.
    while (pool.stats().retrying === 0) await new Promise((r) => setTimeout(r, 5));
    const e = await pool.run("match", {} as never).then(() => undefined, (e) => e);
    assert.ok(e instanceof WorkersNotReadyError, String(e));
    assert.ok(e.retryAfter >= 1);
  } finally {
    await pool.dispose();
  }
});

Deno.test("WorkerPool.run() pins a task to a worker; a pinned task to a dead worker fails", async () => {
  const pool = new WorkerPool({
    size: 2,
    workerUrl: new URL("./fixtures/faulty_worker.ts", import.meta.url),
  });
  try {
    await pool.start(model);
    const [a, b] = pool.readyWorkers();
    assert.notEqual(a, b);
    const features = {
      grid: { data: new Float32Array(128 * 4).fill(1), channels: 128, height: 2, width: 2 },
      frame: makeFrame({ width: 2, height: 2 }, { size: 16, mode: "stretch" }),
      timings: { decode: 0, preprocess: 0, extract: 0 },
    };
    await pool.run("adopt_resident", { key: "k", features }, { worker: a });
    const job = {
      target: "k",
      sources: [{ key: "k", points: Float32Array.of(0, 0) }],
      localizer: { ...DEFAULT_LOCALIZER, method: "nn" as const },
    };
    // Only worker a holds the features: pinned there, the job always finds them.
    for (let i = 0; i < 4; i++) {
      const r = await pool.run("match_resident", job, { worker: a });
      assert.equal(r.matches.length, 1);
    }
    await assert.rejects(pool.run("match_resident", job, { worker: b }), FeaturesNotResidentError);
    // Worker a dies (a match job with CRASH_POINTS points); its replacement has a new id.
    const png = encode({ width: 16, height: 16, channels: 3, data: new Uint8Array(768) });
    const crash = pool.run("match", {
      source: png,
      target: png,
      points: new Float32Array(2 * CRASH_POINTS),
      model,
      resolution: 16,
      resize: "stretch",
      resample: "torch",
      localizer: DEFAULT_LOCALIZER,
    }, { worker: a });
    const queued = pool.run("match_resident", job, { worker: a });
    await assert.rejects(crash, WorkerCrashedError);
    await assert.rejects(queued, WorkerCrashedError);
    await assert.rejects(
      pool.run("match_resident", job, { worker: a }),
      /stopped and was replaced/,
    );
    assert.ok(!pool.readyWorkers().includes(a));
  } finally {
    await pool.dispose();
  }
});
