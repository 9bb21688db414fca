/**
 * `POST /v1/evaluate`: PCK of a model on a slice of a benchmark, with the
 * protocol echoed back. `Accept: application/x-ndjson` (or
 * `text/event-stream`) streams progress events, then the result.
 *
 * @module
 */

import { Hono } from "hono";
import { streamSSE, streamText } from "hono/streaming";
import { z } from "zod";
import type { AppEnv } from "./app_env.ts";
import { validate } from "./_validate.ts";
import { MatchOptionsSchema } from "./match.ts";
import type { EvaluationProgress } from "../datasets/evaluation.ts";
import { type EvaluateRequest, runEvaluation } from "../datasets/run_evaluation.ts";
import { DEFAULT_RUNS_DIR, saveRun } from "../datasets/leaderboard.ts";
import { basename } from "node:path";

/** The request body; parses to an {@linkcode EvaluateRequest}. */
export const EvaluateSchema = MatchOptionsSchema.extend({
  dataset: z.enum(["spair", "pfpascal", "pfwillow", "ap10k"]),
  split: z.string().min(1).default("test"),
  categories: z.array(z.string().min(1)).optional(),
  pair_ids: z.array(z.string().min(1)).optional(),
  offset: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).optional(),
  shards: z.number().int().min(1).optional(),
  shard: z.number().int().min(0).optional(),
  alphas: z.array(z.number().positive().max(1)).min(1).default([0.01, 0.05, 0.1, 0.15]),
  by: z.enum(["image", "point"]).default("image"),
  frame: z.enum(["official", "original", "both"]).default("official"),
  comparison: z.enum(["<=", "<"]).default("<="),
  keypoints: z.enum(["raw", "zero-based", "floor"]).optional(),
  return_predictions: z.boolean().default(false),
  save_run: z.boolean().default(false),
}).refine((r) => r.shard === undefined || r.shard < (r.shards ?? 1), {
  message: "shard must be less than shards",
  path: ["shard"],
});

const app = new Hono<AppEnv>();

app.post("/", validate("json", EvaluateSchema), async (c) => {
  const req = c.req.valid("json") as EvaluateRequest;
  const { pool, registry, config, resolveModel } = c.var.services;
  const deps = {
    pool,
    registry,
    resolveModel,
    limits: { maxBytes: config.limits.maxBytes, maxPixels: config.limits.maxPixels },
    env: Deno.env.toObject(),
  };
  // A saved run is listed by GET /v1/leaderboard beside the literature.
  const run = async (onProgress?: (p: EvaluationProgress) => void) => {
    const report = await runEvaluation(req, deps, onProgress);
    if (!req.save_run) return report;
    const file = await saveRun(report, deps.env.RUNS_DIR ?? DEFAULT_RUNS_DIR);
    return { ...report, saved_as: basename(file) };
  };

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
        await stream.writeln(JSON.stringify({ type: "error", error: errorBody(e) }));
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
        await stream.writeSSE({ event: "error", data: JSON.stringify(errorBody(e)) });
      }
    });
  }
  return c.json(await run());
});

// Once streaming has begun the status is sent: errors travel as the last event.
function errorBody(e: unknown): { code: string; message: string } {
  const code = (e as { code?: unknown })?.code;
  return {
    code: typeof code === "string" ? code : "internal_error",
    message: e instanceof Error ? e.message : String(e),
  };
}

export default app;
