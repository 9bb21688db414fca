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
import { z } from "zod";
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
import type { EvaluationReport } from "../evaluation/report.ts";
import { AVERAGINGS, SCORING_FRAMES } from "../evaluation/request.ts";
import { LocalizerSchema } from "../workers/match_options.ts";
import { TimingsSchema } from "./match.ts";

/** PCK keyed by alpha as a decimal string (`"0.1"`); null where nothing was scored. */
const PckByAlpha = z.record(z.string(), z.number().nullable()).describe(
  'PCK in [0, 1] keyed by alpha written as a decimal string ("0.1")',
);

/** One averaging at every level. */
const PckAverages = z.object({
  all: PckByAlpha,
  categories: z.record(z.string(), PckByAlpha),
  category_mean: PckByAlpha,
});

/** Raw integer sums of one frame, for exact merging. */
const PckSums = z.object({
  alphas: z.array(z.number()),
  comparison: z.string(),
  categories: z.record(z.string(), z.unknown()),
}).describe("raw sums per category: slices evaluated apart merge exactly");

/** PCK of one frame. */
const FrameReport = z.object({
  difficulty: z.record(z.string(), z.record(z.string(), z.unknown())).optional().describe(
    "SPair-71k: per difficulty flag, per level",
  ),
  per_image: PckAverages,
  per_point: PckAverages,
  pairs: z.int(),
  points: z.int(),
  skipped_pairs: z.int(),
  skipped: z.record(z.string(), z.int()),
  category_counts: z.record(
    z.string(),
    z.object({ pairs: z.int(), points: z.int(), skipped_pairs: z.int() }),
  ),
});

/** The answer of `POST /v1/evaluate` (and a done job's `result`). */
export const EvaluationReportSchema = z.object({
  dataset: z.string(),
  split: z.string(),
  frame: z.enum([...SCORING_FRAMES, "both"]),
  by: z.enum(AVERAGINGS),
  thres_type: z.string(),
  comparison: z.string(),
  alphas: z.array(z.string()),
  resolution: z.int(),
  resize: z.string(),
  resample: z.string(),
  model: z.string(),
  localizer: LocalizerSchema,
  keypoints: z.string(),
  max_keypoints: z.int(),
  pair_source: z.string(),
  pair_file: z.string().nullable(),
  dataset_options: z.record(z.string(), z.union([z.string(), z.number()])),
  non_official: z.array(z.object({
    option: z.string(),
    value: z.union([z.string(), z.number()]),
    official: z.union([z.string(), z.number()]),
  })),
  selection: z.record(z.string(), z.unknown()),
  n_pairs: z.int(),
  n_points: z.int(),
  pck: FrameReport.describe("the official frame's block (the only frame's when one was asked)"),
  frames: z.partialRecord(z.enum(SCORING_FRAMES), FrameReport),
  sums: z.partialRecord(z.enum(SCORING_FRAMES), PckSums),
  difficulty_sums: z.record(z.string(), z.unknown()).optional(),
  counters: z.object({
    pairs: z.int(),
    distinct_images: z.int(),
    extractions: z.int(),
    matches: z.int(),
  }),
  timings_ms: TimingsSchema,
  predictions: z.array(z.object({
    pair_id: z.string(),
    category: z.string(),
    source: z.string(),
    target: z.string(),
    pred: z.array(z.tuple([z.number(), z.number()])),
  })).optional(),
  saved_as: z.string().optional().describe("the run's file, with save_run"),
});

/**
 * A report as the answer: every report fits the schema, so a change of the
 * report that the schema misses fails the type check.
 *
 * @param report The report.
 * @returns It, typed as the answer's schema takes it.
 */
export function reportAnswer(report: EvaluationReport): z.input<typeof EvaluationReportSchema> {
  return report;
}

/** One progress event of a streamed evaluation. */
export const EvaluationProgressSchema = z.object({
  done: z.int(),
  total: z.int(),
  extractions: z.int(),
  pck: PckByAlpha.describe("running per-image PCK in the first frame"),
});

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
      if (!req.save_run) return reportAnswer(report);
      const file = await runs.save(report);
      return { ...reportAnswer(report), saved_as: basename(file) };
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
