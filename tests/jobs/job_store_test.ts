import assert from "node:assert/strict";
import { JobStore } from "../../jobs/job_store.ts";
import { EvaluateRequestSchema } from "../../evaluation/request.ts";
import type { EvaluationReport } from "../../evaluation/report.ts";

const REQUEST = EvaluateRequestSchema.parse({ dataset: "pfwillow" });

/** A report as a shard would record it; only its counters are read by the store. */
function report(pairs: number, padding = 0): EvaluationReport {
  return {
    counters: { pairs, distinct_images: pairs, extractions: pairs, matches: pairs },
    padding: "x".repeat(padding),
  } as unknown as EvaluationReport;
}

async function withStores(fn: (a: JobStore, b: JobStore) => Promise<void>): Promise<void> {
  // Two KV handles on one file: two replicas, as two processes would have.
  const path = await Deno.makeTempFile({ suffix: ".kv" });
  const kvA = await Deno.openKv(path);
  const kvB = await Deno.openKv(path);
  try {
    await fn(new JobStore(kvA), new JobStore(kvB));
  } finally {
    kvA.close();
    kvB.close();
    await Deno.remove(path);
  }
}

Deno.test("JobStore hands each shard to one replica at a time, under a lease", async (t) => {
  await withStores(async (a, b) => {
    const job = await a.create(REQUEST, [2, 3]);
    await t.step("two replicas claim different shards; a third finds none", async () => {
      const [ca, cb] = await Promise.all([
        a.claim(job.id, { owner: "A", leaseMs: 60_000 }),
        b.claim(job.id, { owner: "B", leaseMs: 60_000 }),
      ]);
      assert.deepEqual([ca?.index, cb?.index].sort(), [0, 1]);
      assert.equal(await a.claim(job.id, { owner: "C", leaseMs: 60_000 }), null);
      assert.equal((await b.get(job.id))?.state, "running");
    });
    await t.step("only the holder renews or completes", async () => {
      const shards = await a.shards(job.id);
      const ofA = shards.findIndex((s) => s.owner === "A");
      const progress = { pairs_done: 1, extractions: 1 };
      assert.equal(await b.renew(job.id, ofA, { owner: "B", leaseMs: 1000, progress }), false);
      assert.equal(await a.renew(job.id, ofA, { owner: "A", leaseMs: 1000, progress }), true);
      const wrong = await b.complete(job.id, ofA, { owner: "B", report: report(2) });
      assert.deepEqual(wrong, { recorded: false, jobDone: false });
      assert.equal((await b.shards(job.id))[ofA].pairs_done, 1);
    });
  });
});

Deno.test("JobStore gives an expired lease to another replica, and ends the job with the last shard", async () => {
  await withStores(async (a, b) => {
    const job = await a.create(REQUEST, [2, 3]);
    const first = await a.claim(job.id, { owner: "A", leaseMs: 50 });
    const second = await b.claim(job.id, { owner: "B", leaseMs: 60_000 });
    await new Promise((r) => setTimeout(r, 100));
    // A stopped renewing (killed): its shard is B's now.
    const again = await b.claim(job.id, { owner: "B", leaseMs: 60_000 });
    assert.equal(again?.index, first?.index);
    assert.equal(again?.shard.attempts, 2);
    assert.deepEqual(await a.complete(job.id, first!.index, { owner: "A", report: report(2) }), {
      recorded: false,
      jobDone: false,
    });
    const big = report(3, 100_000); // more than one KV value: stored in chunks
    assert.deepEqual(await b.complete(job.id, second!.index, { owner: "B", report: big }), {
      recorded: true,
      jobDone: false,
    });
    assert.deepEqual(await b.complete(job.id, again!.index, { owner: "B", report: report(2) }), {
      recorded: true,
      jobDone: true,
    });
    const done = await a.get(job.id);
    assert.equal(done?.state, "done");
    assert.deepEqual(await a.activeIds(), []);
    const reports = await a.shardReports(job.id);
    assert.deepEqual(reports.map((r) => r.index), [0, 1]);
    assert.equal(
      (reports[second!.index].report as unknown as { padding: string }).padding.length,
      100_000,
    );
    assert.deepEqual((await a.shards(job.id)).map((s) => s.done_by), ["B", "B"]);
  });
});

Deno.test("JobStore.cancel() stops renewals and claims; release() frees a shard at once", async () => {
  await withStores(async (a, b) => {
    const job = await a.create(REQUEST, [1, 1]);
    const held = await a.claim(job.id, { owner: "A", leaseMs: 60_000 });
    assert.equal(await a.release(job.id, held!.index, { owner: "A" }), true);
    const retaken = await b.claim(job.id, { owner: "B", leaseMs: 60_000 });
    assert.equal(retaken?.index, held?.index);
    assert.equal((await b.cancel(job.id))?.state, "cancelled");
    const progress = { pairs_done: 0, extractions: 0 };
    assert.equal(
      await b.renew(job.id, retaken!.index, { owner: "B", leaseMs: 1000, progress }),
      false,
    );
    assert.equal(await a.claim(job.id, { owner: "A", leaseMs: 1000 }), null);
    assert.deepEqual((await a.list()).map((j) => j.id), [job.id]);
  });
});
