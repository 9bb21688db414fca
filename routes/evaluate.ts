/**
 * `POST /v1/evaluate`: PCK of a model on a slice of a benchmark, with the
 * protocol echoed back. `Accept: application/x-ndjson` (or
 * `text/event-stream`) streams progress events, then the result.
 *
 * @module
 */

import { Hono } from "hono";
import { streamSSE, streamText } from "hono/streaming";
import type { AppEnv } from "./app_env.ts";
import { validate } from "./_validate.ts";
import { errorAnswer } from "./_on_error.ts";
import { EvaluateRequestSchema } from "../evaluation/request.ts";
import type { EvaluationProgress } from "../evaluation/evaluate_pairs.ts";
import { runEvaluation } from "../evaluation/run_evaluation.ts";
import { saveRun } from "../evaluation/runs_store.ts";
import { basename } from "node:path";

const app = new Hono<AppEnv>();

app.post("/", validate("json", EvaluateRequestSchema), async (c) => {
  const req = c.req.valid("json");
  const { pool, registry, config, resolveModel } = c.var.services;
  const deps = {
    pool,
    registry,
    resolveModel,
    roots: config.datasets,
  };
  // A saved run is listed by GET /v1/leaderboard beside the literature.
  const run = async (onProgress?: (p: EvaluationProgress) => void) => {
    const report = await runEvaluation(req, deps, onProgress);
    if (!req.save_run) return report;
    const file = await saveRun(report, config.runs.dir);
    return { ...report, saved_as: basename(file) };
  };
  // Once streaming has begun the status is sent: errors travel as the last
  // event, with the code and message the same error has as a response.
  const errorEvent = (e: unknown) => errorAnswer(e, c.get("requestId")).error;

  const accept = c.req.header("accept") ?? "";
  if (accept.includes("application/x-ndjson")) {
    c.header("content-type", "application/x-ndjson");
    return streamText(c, async (stream) => {
      const pending: Promise<unknown>[] = [];
      try {
        const result = await run((p) => {
          pending.push(stream.writeln(JSON.stringify({ type: "progress", ...p })));
        });
        await Promise.all(pending);
        await stream.writeln(JSON.stringify({ type: "result", result }));
      } catch (e) {
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
        await stream.writeSSE({ event: "error", data: JSON.stringify(errorEvent(e)) });
      }
    });
  }
  return c.json(await run());
});

export default app;
