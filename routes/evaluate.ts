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
import { readDataset } from "../datasets/read_dataset.ts";
import { datasetRoot } from "../datasets/roots.ts";
import { selectPairs } from "../datasets/select_pairs.ts";
import {
  evaluatePairs,
  type EvaluationProgress,
  type ScoringFrame,
} from "../datasets/evaluation.ts";
import { evaluationReport } from "../datasets/evaluation_report.ts";

/** The request body. */
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
}).refine((r) => r.shard === undefined || r.shard < (r.shards ?? 1), {
  message: "shard must be less than shards",
  path: ["shard"],
});

/** A validated evaluate request. */
export type EvaluateRequest = z.output<typeof EvaluateSchema>;

const app = new Hono<AppEnv>();

app.post("/", validate("json", EvaluateSchema), async (c) => {
  const req = c.req.valid("json") as EvaluateRequest;
  const { pool, registry, config, resolveModel } = c.var.services;
  const descriptor = registry.get(req.model);
  const resolution = registry.resolution(descriptor, req.resolution);
  const model = await resolveModel(descriptor.id);
  const root = datasetRoot(req.dataset, Deno.env.toObject());
  const slice = await readDataset(req.dataset, root, {
    split: req.split,
    keypoints: req.keypoints,
  });
  const pairs = selectPairs(slice.pairs, req);
  const frames: ScoringFrame[] = req.frame === "both" ? ["official", "original"] : [req.frame];
  const localizer = {
    method: req.localizer,
    temperature: req.temperature,
    sigma: req.sigma,
    window: req.window,
  };
  const run = (onProgress?: (p: EvaluationProgress) => void) =>
    evaluatePairs({ ...slice, pairs }, pool, {
      model,
      resolution,
      resize: req.resize,
      localizer,
      alphas: req.alphas,
      frames,
      comparison: req.comparison,
      returnPredictions: req.return_predictions,
      limits: { maxBytes: config.limits.maxBytes, maxPixels: config.limits.maxPixels },
    }, onProgress).then((outcome) =>
      evaluationReport(outcome, {
        slice,
        request: req,
        model: descriptor.id,
        resolution,
        localizer,
        frames,
      })
    );

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
