/**
 * The evaluate request: the body of `POST /v1/evaluate` and the flags of
 * `deno task eval`, declared once. {@linkcode EvaluateRequest} is what the
 * schema parses to, and every later stage (running, the report's protocol
 * echo, saved runs) reads that type.
 *
 * @example Usage
 * ```ts
 * import { EvaluateRequestSchema } from "./request.ts";
 * import assert from "node:assert/strict";
 *
 * const r = EvaluateRequestSchema.parse({ dataset: "pfwillow" });
 * assert.equal(r.split, "test");
 * assert.deepEqual(r.alphas, [0.01, 0.05, 0.1, 0.15]);
 * assert.equal(r.frame, "official");
 * assert.ok(!EvaluateRequestSchema.safeParse({ dataset: "pfwillow", shards: 2, shard: 2 }).success);
 * ```
 *
 * @module
 */

import { z } from "zod";
import { MatchOptionsSchema } from "../workers/match_options.ts";
import { DATASET_IDS, KEYPOINT_CONVENTIONS } from "../datasets/types.ts";
import { PCK_COMPARISONS } from "../core/pck.ts";

/** Scoring frames: the survey's stretched square, or original pixels. */
export const SCORING_FRAMES = Object.freeze(["official", "original"] as const);

/** One of {@linkcode SCORING_FRAMES}. */
export type ScoringFrame = typeof SCORING_FRAMES[number];

/** The averagings a report can put first: per image (pair) or per point. */
export const AVERAGINGS = Object.freeze(["image", "point"] as const);

/** One of {@linkcode AVERAGINGS}. */
export type Averaging = typeof AVERAGINGS[number];

/** The request body. */
export const EvaluateRequestSchema = MatchOptionsSchema.extend({
  dataset: z.enum(DATASET_IDS),
  split: z.string().min(1).default("test"),
  categories: z.array(z.string().min(1)).optional(),
  pair_ids: z.array(z.string().min(1)).optional(),
  offset: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).optional(),
  shards: z.number().int().min(1).optional(),
  shard: z.number().int().min(0).optional(),
  alphas: z.array(z.number().positive().max(1)).min(1).default([0.01, 0.05, 0.1, 0.15]),
  by: z.enum(AVERAGINGS).default("image"),
  frame: z.enum([...SCORING_FRAMES, "both"]).default("official"),
  comparison: z.enum(PCK_COMPARISONS).default("<="),
  keypoints: z.enum(KEYPOINT_CONVENTIONS).optional(),
  return_predictions: z.boolean().default(false),
  /** Save the report in `RUNS_DIR` (the route and `deno task eval --save`). */
  save_run: z.boolean().default(false),
}).refine((r) => r.shard === undefined || r.shard < (r.shards ?? 1), {
  message: "shard must be less than shards",
  path: ["shard"],
});

/** A validated evaluate request. */
export type EvaluateRequest = z.output<typeof EvaluateRequestSchema>;
