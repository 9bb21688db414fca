/**
 * Evaluations as durable jobs, shared by every replica on one KV:
 *
 * - `POST /v1/jobs` with the body of `/v1/evaluate`: `202` with
 *   `{ id, state, pairs_total, shards, links }`; the job is cut into shards
 *   of contiguous pairs (`JOB_SHARD_PAIRS`), which any replica claims.
 * - `GET /v1/jobs`: recent jobs (`?limit=`, default 50), without results.
 * - `GET /v1/jobs/{id}`: state (`queued`, `running`, `done`, `failed`,
 *   `cancelled`), progress (`pairs_done`, `pairs_total`, `extractions`, the
 *   running PCK of the shards done, `eta_s`), each shard's state and who
 *   did it, and once done `result`: what `/v1/evaluate` answers for the same
 *   request (the exact merge of the shards' sums).
 * - `GET /v1/jobs/{id}/events`: progress as server-sent events (or ndjson
 *   with `Accept: application/x-ndjson`), ending with `result`, `error` or
 *   `cancelled`.
 * - `DELETE /v1/jobs/{id}`: cancels it (replicas stop at their next lease
 *   renewal); answers the job.
 * - `POST /v1/jobs/{id}/save`: saves a done job's result as a run (listed by
 *   `GET /v1/leaderboard`); `save_run: true` in the request does it on
 *   completion.
 *
 * @module
 */

import { Hono } from "hono";
import { stream as streamBody, streamSSE } from "hono/streaming";
import { z } from "zod";
import type { AppEnv } from "./app_env.ts";
import { validate } from "./_validate.ts";
import { overloadGuard } from "./middleware/overload_guard.ts";
import { requireContentType } from "./middleware/content_type.ts";
import { limitBody } from "./middleware/body_limit.ts";
import { EVALUATE_BODY_LIMIT, EvaluationReportSchema, reportAnswer } from "./evaluate.ts";
import { JOB_STATES, SHARD_STATES } from "../jobs/job_records.ts";
import { EvaluateRequestSchema } from "../evaluation/request.ts";
import { prepareEvaluation } from "../evaluation/run_evaluation.ts";
import type { JobView } from "../jobs/job_view.ts";
import { JobNotDoneError, JobNotFoundError, PoolClosedError } from "../errors/mod.ts";
import { basename } from "node:path";

const BASE = "/v1/jobs";

/** A job's request: an evaluate request; the job does its own sharding. */
export const JobRequestSchema = EvaluateRequestSchema.refine(
  (r) => r.shards === undefined && r.shard === undefined,
  { message: "a job cuts itself into shards: leave out shards and shard", path: ["shards"] },
);

const IdParam = z.object({ id: z.uuid() });

const JobLinks = z.object({ self: z.string(), events: z.string(), cancel: z.string() });

/** The answer of `POST /v1/jobs` (202). */
export const JobCreatedSchema = z.object({
  id: z.uuid(),
  state: z.enum(JOB_STATES),
  pairs_total: z.int(),
  shards: z.int(),
  links: JobLinks,
});

/** A job as `GET /v1/jobs/{id}` answers it. */
export const JobViewSchema = z.object({
  id: z.uuid(),
  state: z.enum(JOB_STATES),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  request: EvaluateRequestSchema,
  progress: z.object({
    pairs_done: z.int(),
    pairs_total: z.int(),
    shards_done: z.int(),
    shards_total: z.int(),
    extractions: z.int(),
    pck: z.record(z.string(), z.number().nullable()).nullable(),
    eta_s: z.number().nullable(),
  }),
  shards: z.array(z.object({
    index: z.int(),
    pairs: z.int(),
    state: z.enum(SHARD_STATES),
    pairs_done: z.int(),
    attempts: z.int(),
    owner: z.string().nullable(),
    done_by: z.string().nullable(),
  })),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  saved_as: z.string().nullable(),
  links: JobLinks,
  result: EvaluationReportSchema.optional().describe("once done"),
});

/**
 * A view as the answer: every view fits the schema (a change of the view
 * that the schema misses fails the type check).
 */
function viewAnswer(view: JobView): z.input<typeof JobViewSchema> {
  return { ...view, result: view.result && reportAnswer(view.result) };
}

const app = new Hono<AppEnv>();

function jobsOf(c: { var: AppEnv["Variables"] }) {
  const jobs = c.var.services.jobs;
  if (!jobs) throw new PoolClosedError("Cannot serve jobs: this process runs no job store");
  return jobs;
}

async function viewOr404(
  c: { var: AppEnv["Variables"] },
  id: string,
  options: { result?: boolean } = {},
): Promise<JobView> {
  const view = await jobsOf(c).views.view(id, { base: BASE, ...options });
  if (!view) throw new JobNotFoundError(`Cannot find job \`${id}\``);
  return view;
}

app.post(
  "/",
  overloadGuard(),
  requireContentType(["application/json"]),
  limitBody(() => EVALUATE_BODY_LIMIT),
  validate("json", JobRequestSchema),
  async (c) => {
    const req = c.req.valid("json");
    const { evaluation, config } = c.var.services;
    // Checked and counted now, so a bad request fails here, not in a replica.
    const { pairs, modelId } = await prepareEvaluation(req, evaluation);
    const n = pairs.length;
    const k = Math.max(1, Math.ceil(n / config.jobs.shardPairs));
    // Shard i of k is selectPairs' block [floor(i n / k), floor((i + 1) n / k)).
    const shardPairs = Array.from(
      { length: k },
      (_, i) => Math.floor(((i + 1) * n) / k) - Math.floor((i * n) / k),
    );
    // The model is pinned now: replicas with another DEFAULT_MODEL run the same one.
    const job = await jobsOf(c).store.create({ ...req, model: modelId }, shardPairs);
    const links = jobsOf(c).views.links(job.id, BASE);
    c.header("Location", links.self);
    const answer: z.input<typeof JobCreatedSchema> = {
      id: job.id,
      state: job.state,
      pairs_total: job.pairs_total,
      shards: shardPairs.length,
      links,
    };
    return c.json(answer, 202);
  },
);

/** The query of `GET /v1/jobs`. */
export const JobListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50).describe("most jobs listed"),
});

app.get(
  "/",
  validate("query", JobListQuerySchema),
  async (c) => {
    const { limit } = c.req.valid("query");
    const jobs = jobsOf(c);
    const views = [];
    for (const job of await jobs.store.list({ limit })) {
      const view = await jobs.views.view(job.id, { base: BASE, result: false });
      if (view) views.push(view);
    }
    return c.json({ jobs: views.map(viewAnswer) });
  },
);

app.get("/:id", validate("param", IdParam), async (c) => {
  return c.json(viewAnswer(await viewOr404(c, c.req.valid("param").id)));
});

app.delete("/:id", validate("param", IdParam), async (c) => {
  const { id } = c.req.valid("param");
  await viewOr404(c, id, { result: false });
  await jobsOf(c).store.cancel(id);
  return c.json(viewAnswer(await viewOr404(c, id, { result: false })));
});

app.post("/:id/save", validate("param", IdParam), async (c) => {
  const { id } = c.req.valid("param");
  const view = await viewOr404(c, id);
  if (!view.result) {
    throw new JobNotDoneError(`Cannot save job \`${id}\`: it is ${view.state}, not done`, {
      details: { state: view.state },
    });
  }
  const file = basename(await c.var.services.runs.save(view.result));
  await jobsOf(c).store.markSaved(id, file);
  return c.json({ id, saved_as: file });
});

/** How often the events stream looks at the job. */
const EVENTS_POLL_MS = 500;

app.get("/:id/events", validate("param", IdParam), async (c) => {
  const { id } = c.req.valid("param");
  await viewOr404(c, id, { result: false });
  const signal = c.req.raw.signal;
  // Progress while the job runs, then its end: the same events in both forms.
  const events = async function* (): AsyncGenerator<{ type: string; data: unknown }> {
    let last = "";
    while (!signal.aborted) {
      const view = await viewOr404(c, id);
      const { result, ...rest } = view;
      const progress = JSON.stringify({ state: rest.state, progress: rest.progress });
      if (progress !== last) {
        last = progress;
        yield { type: "progress", data: { id, state: rest.state, ...rest.progress } };
      }
      if (view.state === "done") return yield { type: "result", data: result };
      if (view.state === "failed") return yield { type: "error", data: view.error };
      if (view.state === "cancelled") return yield { type: "cancelled", data: { id } };
      await new Promise((r) => setTimeout(r, EVENTS_POLL_MS));
    }
  };
  if ((c.req.header("accept") ?? "").includes("application/x-ndjson")) {
    c.header("content-type", "application/x-ndjson");
    return streamBody(c, async (stream) => {
      for await (const e of events()) {
        await stream.writeln(
          JSON.stringify({
            type: e.type,
            ...(e.type === "progress" ? e.data as object : { [e.type]: e.data }),
          }),
        );
      }
    });
  }
  return streamSSE(c, async (stream) => {
    for await (const e of events()) {
      await stream.writeSSE({ event: e.type, data: JSON.stringify(e.data) });
    }
  });
});

export default app;
