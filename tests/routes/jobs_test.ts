import assert from "node:assert/strict";
import { withService } from "./_service.ts";

const WILLOW_ROOT = new URL("../../../shared/data/pf-willow", import.meta.url).pathname;

// deno-lint-ignore no-explicit-any
type Json = any;

function post(url: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Reads an ndjson stream to its end. */
async function ndjson(res: Response): Promise<Json[]> {
  const text = await res.text();
  return text.trim().split("\n").map((line) => JSON.parse(line));
}

Deno.test("jobs: submit, follow the events to the result, save it, cancel another", async (t) => {
  const runsDir = await Deno.makeTempDir();
  const env = {
    DATA_PFWILLOW: WILLOW_ROOT,
    DEFAULT_MODEL: "dsift",
    JOB_SHARD_PAIRS: "40",
    JOB_POLL_MS: "50",
    RUNS_DIR: runsDir,
    EVALUATE_MAX_PAIRS: "100",
  };
  try {
    await withService(env, async (url) => {
      const request = { dataset: "pfwillow", categories: ["car(G)"], limit: 120, frame: "both" };
      let id = "";
      await t.step("POST /v1/jobs: 202 with the job's links and its shards", async () => {
        const res = await post(url, "/v1/jobs", request);
        const body = await res.json();
        assert.equal(res.status, 202, JSON.stringify(body));
        assert.equal(body.state, "queued");
        assert.equal(body.pairs_total, 90);
        assert.equal(body.shards, 3);
        assert.equal(res.headers.get("location"), body.links.self);
        id = body.id;
      });
      await t.step("GET /v1/jobs/{id}/events (ndjson): progress, then the result", async () => {
        const res = await fetch(`${url}/v1/jobs/${id}/events`, {
          headers: { accept: "application/x-ndjson" },
        });
        assert.equal(res.headers.get("content-type"), "application/x-ndjson");
        const events = await ndjson(res);
        const progress = events.filter((e) => e.type === "progress");
        assert.ok(progress.length >= 1);
        const done = progress.map((e) => e.pairs_done);
        assert.deepEqual(done, [...done].sort((a, b) => a - b), "pairs_done never goes back");
        const last = events.at(-1);
        assert.equal(last.type, "result");
        assert.equal(last.result.n_pairs, 90);
        assert.equal(last.result.selection.job, id);
      });
      await t.step("the done job equals a synchronous evaluation of the same slice", async () => {
        const job = await (await fetch(`${url}/v1/jobs/${id}`)).json();
        assert.equal(job.state, "done");
        assert.equal(job.progress.pairs_done, 90);
        assert.equal(job.progress.shards_done, 3);
        const sync = await (await post(url, "/v1/evaluate", request)).json();
        assert.deepEqual(job.result.sums, sync.sums);
        assert.deepEqual(job.result.frames, sync.frames);
      });
      await t.step("POST /v1/jobs/{id}/save: the result becomes a run", async () => {
        const res = await post(url, `/v1/jobs/${id}/save`, {});
        const body = await res.json();
        assert.equal(res.status, 200, JSON.stringify(body));
        assert.match(body.saved_as, /^pfwillow-test-dsift-/);
        const board = await (await fetch(`${url}/v1/leaderboard?dataset=pfwillow`)).json();
        assert.equal(board.runs.length, 1);
      });
      await t.step(
        "a slice over EVALUATE_MAX_PAIRS: 413 too_many_pairs pointing to jobs",
        async () => {
          const res = await post(url, "/v1/evaluate", { dataset: "pfwillow" });
          const body = await res.json();
          assert.equal(res.status, 413);
          assert.equal(body.error.code, "too_many_pairs");
          assert.equal(body.error.details.jobs, "/v1/jobs");
        },
      );
      await t.step("DELETE /v1/jobs/{id} cancels; its events end with `cancelled`", async () => {
        const res = await post(url, "/v1/jobs", { dataset: "pfwillow" });
        const { id: other } = await res.json();
        const cancelled = await (await fetch(`${url}/v1/jobs/${other}`, { method: "DELETE" }))
          .json();
        assert.equal(cancelled.state, "cancelled");
        const events = await ndjson(
          await fetch(`${url}/v1/jobs/${other}/events`, {
            headers: { accept: "application/x-ndjson" },
          }),
        );
        assert.equal(events.at(-1).type, "cancelled");
        const save = await post(url, `/v1/jobs/${other}/save`, {});
        assert.equal(save.status, 409);
        assert.equal((await save.json()).error.code, "job_not_done");
      });
      await t.step("GET /v1/jobs lists both, newest first", async () => {
        const { jobs } = await (await fetch(`${url}/v1/jobs`)).json();
        assert.equal(jobs.length, 2);
        assert.equal(jobs[0].state, "cancelled");
        assert.equal(jobs[1].id, id);
      });
      await t.step("unknown job: 404 job_not_found; shards in a job request: 422", async () => {
        const res = await fetch(`${url}/v1/jobs/${crypto.randomUUID()}`);
        assert.equal(res.status, 404);
        assert.equal((await res.json()).error.code, "job_not_found");
        const bad = await post(url, "/v1/jobs", { dataset: "pfwillow", shards: 2, shard: 0 });
        assert.equal(bad.status, 422);
        await bad.body?.cancel();
      });
    });
  } finally {
    await Deno.remove(runsDir, { recursive: true });
  }
});
