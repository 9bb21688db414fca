/**
 * Jobs across real replicas: processes started with the README's start
 * command on one KV file, stopped with real signals.
 *
 * @module
 */

import assert from "node:assert/strict";
import { withService } from "../routes/_service.ts";
import { type ChildService, startChildService } from "../service/_child_service.ts";

const ROOT = new URL("../../", import.meta.url);
const WILLOW = new URL("../shared/data/pf-willow", ROOT).pathname;
const REQUEST = { dataset: "pfwillow", frame: "both" };

// deno-lint-ignore no-explicit-any
type Json = any;

interface Replica {
  name: string;
  url: string;
  service: ChildService;
}

async function startReplica(name: string, kvPath: string): Promise<Replica> {
  const service = await startChildService({
    env: {
      WORKERS: "1",
      KV_PATH: kvPath,
      REPLICA_ID: name,
      DATA_PFWILLOW: WILLOW,
      JOB_LEASE_MS: "2000",
      JOB_POLL_MS: "100",
      DRAIN_MS: "3000",
      RATE_LIMIT: "0",
      ORT_BACKEND: "wasm",
    },
  });
  try {
    return { name, url: await service.ready(), service };
  } catch (e) {
    await service.close();
    throw new Error(`Replica ${name} did not get ready`, { cause: e });
  }
}

/** Starts replicas one after the other; when one fails, those already started are closed. */
async function startReplicas(kvPath: string, ...names: string[]): Promise<Replica[]> {
  const started: Replica[] = [];
  for (const name of names) {
    try {
      started.push(await startReplica(name, kvPath));
    } catch (e) {
      for (const r of started) await r.service.close();
      throw e;
    }
  }
  return started;
}

async function getJob(url: string, id: string): Promise<Json> {
  const res = await fetch(`${url}/v1/jobs/${id}`);
  assert.equal(res.status, 200);
  return await res.json();
}

async function until(
  url: string,
  id: string,
  done: (job: Json) => boolean,
  timeoutMs = 180_000,
): Promise<Json> {
  const t0 = performance.now();
  for (;;) {
    const job = await getJob(url, id);
    if (done(job)) return job;
    if (performance.now() - t0 > timeoutMs) {
      throw new Error(`Timed out: ${JSON.stringify(job.progress)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function submit(url: string): Promise<string> {
  const res = await fetch(`${url}/v1/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(REQUEST),
  });
  const body = await res.json();
  assert.equal(res.status, 202, JSON.stringify(body));
  assert.equal(body.pairs_total, 540);
  return body.id;
}

async function evaluate(url: string): Promise<Json> {
  const res = await fetch(`${url}/v1/evaluate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(REQUEST),
  });
  assert.equal(res.status, 200);
  return await res.json();
}

async function stop(replica: Replica, signal: Deno.Signal): Promise<number> {
  const t0 = performance.now();
  await replica.service.kill(signal);
  return performance.now() - t0;
}

/** The job's result against one synchronous evaluation: sums and PCK, bit for bit. */
function assertSameNumbers(result: Json, sync: Json): void {
  assert.deepEqual(result.sums, sync.sums);
  assert.deepEqual(result.frames, sync.frames);
  assert.equal(result.n_pairs, 540);
}

Deno.test("a job is shared by two replicas, survives SIGKILL of one, and equals /v1/evaluate", async (t) => {
  const kvPath = await Deno.makeTempFile({ suffix: ".kv" });
  const [a, b] = await startReplicas(kvPath, "replica-a", "replica-b");
  try {
    const id = await submit(a.url);
    let killedShard = -1;
    await t.step("both replicas work on it; A is killed holding a shard", async () => {
      const job = await until(
        b.url,
        id,
        (j) =>
          j.shards.some((s: Json) => s.done_by === "replica-a") &&
          j.shards.some((s: Json) => s.done_by === "replica-b" || s.owner === "replica-b") &&
          j.shards.some((s: Json) => s.owner === "replica-a"),
      );
      killedShard = job.shards.findIndex((s: Json) => s.owner === "replica-a");
      await stop(a, "SIGKILL");
    });
    const job = await until(b.url, id, (j) => j.state !== "running" && j.state !== "queued");
    await t.step("B finishes it, taking over A's shard after its lease expired", () => {
      assert.equal(job.state, "done", JSON.stringify(job.error));
      const by = new Set(job.shards.map((s: Json) => s.done_by));
      assert.ok(by.has("replica-a") && by.has("replica-b"), [...by].join(", "));
      assert.equal(job.shards[killedShard].done_by, "replica-b");
      assert.ok(job.shards[killedShard].attempts >= 2);
    });
    await t.step("the result equals one synchronous /v1/evaluate, sums and PCK", async () => {
      assertSameNumbers(job.result, await evaluate(b.url));
    });
  } finally {
    await a.service.close();
    await b.service.close();
    await Deno.remove(kvPath);
  }
});

Deno.test("SIGTERM during a job exits within the drain time; a restarted replica resumes it", async (t) => {
  const kvPath = await Deno.makeTempFile({ suffix: ".kv" });
  const [a, b] = await startReplicas(kvPath, "replica-a", "replica-b");
  let c: Replica | undefined;
  try {
    const id = await submit(b.url);
    await until(a.url, id, (j) => j.progress.shards_done >= 2 && j.state === "running");
    await t.step(
      "both stop on SIGTERM, exit 0 within DRAIN_MS, giving back their shards",
      async () => {
        const [msA, msB] = await Promise.all([stop(a, "SIGTERM"), stop(b, "SIGTERM")]);
        assert.equal((await a.service.status).code, 0);
        assert.equal((await b.service.status).code, 0);
        assert.ok(msA < 3000 + 2000 && msB < 3000 + 2000, `${msA} ms, ${msB} ms`);
        await a.service.exited;
        assert.match(a.service.stdout, /SIGTERM: draining/);
      },
    );
    c = await startReplica("replica-c", kvPath);
    const job = await until(c.url, id, (j) => j.state !== "running" && j.state !== "queued");
    await t.step("one restarted replica finishes it, with the same numbers", async () => {
      assert.equal(job.state, "done", JSON.stringify(job.error));
      assert.ok(job.shards.some((s: Json) => s.done_by === "replica-c"));
      assertSameNumbers(job.result, await evaluate(c!.url));
    });
  } finally {
    await a.service.close();
    await b.service.close();
    await c?.service.close();
    await Deno.remove(kvPath);
  }
});

Deno.test("a client that leaves /v1/evaluate frees the workers within 1 s", async () => {
  await withService({ DATA_PFWILLOW: WILLOW, WORKERS: "1" }, async (url) => {
    const client = new AbortController();
    const request = fetch(`${url}/v1/evaluate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(REQUEST),
      signal: client.signal,
    }).catch(() => null);
    const busy = async () => (await (await fetch(`${url}/readyz`)).json()).pool;
    for (let i = 0; i < 100 && (await busy()).busy === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 500));
    client.abort();
    const t0 = performance.now();
    let pool = await busy();
    while ((pool.busy > 0 || pool.queued > 0) && performance.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 20));
      pool = await busy();
    }
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `workers busy ${ms} ms after the client left: ${JSON.stringify(pool)}`);
    await request;
  });
});
