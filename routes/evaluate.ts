/**
 * `POST /v1/evaluate`: PCK of a model on a slice of a benchmark, with the
 * protocol echoed back. `Accept: application/x-ndjson` (or
 * `text/event-stream`) streams progress events, then the result.
 *
 * The request is checked and its slice read before anything is sent, so an
 * unknown model or dataset gets its own status even on a stream. A slice of
 * more than `EVALUATE_MAX_PAIRS` pairs is `413 too_many_pairs` (run it as a
 * job, `POST /v1/jobs`). When the client goes away, the evaluation stops:
 * no new pair starts, and the queued work leaves the pool.
 *
 * @module
 */

import { Hono } from "hono";
import { stream as streamBody, streamSSE } from "hono/streaming";
import type { AppEnv } from "./app_env.ts";
import { validate } from "./_validate.ts";
import { errorAnswer } from "./_on_error.ts";
import { overloadGuard } from "./middleware/overload_guard.ts";
import { requireContentType } from "./middleware/content_type.ts";
import { limitBody } from "./middleware/body_limit.ts";
import { EvaluateRequestSchema } from "../evaluation/request.ts";
import type { EvaluationProgress } from "../evaluation/evaluate_pairs.ts";
import { evaluatePrepared, prepareEvaluation } from "../evaluation/run_evaluation.ts";
import { TooManyPairsError } from "../errors/mod.ts";
import { basename } from "node:path";

const app = new Hono<AppEnv>();

/** Largest evaluate body: a request of 100,000 pair ids fits. */
export const EVALUATE_BODY_LIMIT = 8 * 1024 * 1024;

app.post(
  "/",
  overloadGuard(),
  requireContentType(["application/json"]),
  limitBody(() => EVALUATE_BODY_LIMIT),
  validate("json", EvaluateRequestSchema),
  async (c) => {
    const req = c.req.valid("json");
    const { evaluation, config, runs } = c.var.services;
    const prepared = await prepareEvaluation(req, evaluation);
    c.set("model", prepared.modelId);
    const max = config.jobs.maxSyncPairs;
    if (prepared.pairs.length > max) {
      throw new TooManyPairsError(
        `Cannot evaluate ${prepared.pairs.length} pairs in one request: the limit is ${max}; ` +
          "submit it as a job (POST /v1/jobs, same body)",
        { details: { pairs: prepared.pairs.length, limit: max, jobs: "/v1/jobs" } },
      );
    }
    const signal = c.req.raw.signal;
    // A saved run is listed by GET /v1/leaderboard beside the literature.
    const run = async (onProgress?: (p: EvaluationProgress) => void) => {
      const report = await evaluatePrepared(prepared, evaluation, { onProgress, signal });
      if (!req.save_run) return report;
      const file = await runs.save(report);
      return { ...report, saved_as: basename(file) };
    };
    // Once streaming has begun the status is sent: errors travel as the last
    // event, with the code and message the same error has as a response.
    const errorEvent = (e: unknown) => errorAnswer(e, c.get("requestId")).error;

    const accept = c.req.header("accept") ?? "";
    if (accept.includes("application/x-ndjson")) {
      c.header("content-type", "application/x-ndjson");
      return streamBody(c, async (stream) => {
        const pending: Promise<unknown>[] = [];
        try {
          const result = await run((p) => {
            pending.push(stream.writeln(JSON.stringify({ type: "progress", ...p })));
          });
          await Promise.all(pending);
          await stream.writeln(JSON.stringify({ type: "result", result }));
        } catch (e) {
          if (signal.aborted) return;
          await stream.writeln(JSON.stringify({ type: "error", error: errorEvent(e) }));
        }
      });
    }
    if (accept.includes("text/event-stream")) {
      return streamSSE(c, async (stream) => {
        const pending: Promise<unknown>[] = [];
        try {
          const result = await run((p) => {
            pending.push(stream.writeSSE({ event: "progress", data: JSON.stringify(p) }));
          });
          await Promise.all(pending);
          await stream.writeSSE({ event: "result", data: JSON.stringify(result) });
        } catch (e) {
          if (signal.aborted) return;
          await stream.writeSSE({ event: "error", data: JSON.stringify(errorEvent(e)) });
        }
      });
    }
    return c.json(await run());
  },
);

export default app;
