import assert from "node:assert/strict";
import { WorkerPool } from "../../workers/pool.ts";
import { WorkerCrashedError } from "../../errors/mod.ts";
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

Deno.test("WorkerPool.start() rejects when workers keep dying while loading", async () => {
  const pool = new WorkerPool({
    size: 1,
    workerUrl: new URL("./fixtures/load_crash_worker.ts", import.meta.url),
  });
  try {
    await assert.rejects(pool.start(model), WorkerCrashedError);
    assert.equal(pool.stats().restarts, 2);
  } finally {
    await pool.dispose();
  }
});
