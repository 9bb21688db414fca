/**
 * The evaluate request: the body of `POST /v1/evaluate`, the query of
 * `GET /v1/datasets/{name}/pairs` and the flags of `deno task eval`,
 * declared once. {@linkcode EvaluateRequest} is what the schema parses to,
 * and every later stage (reading the pairs, running, the report's protocol
 * echo, saved runs) reads that type.
 *
 * @example Usage
 * ```ts
 * import { EvaluateRequestSchema, requestFromStrings } from "./request.ts";
 * import assert from "node:assert/strict";
 *
 * const r = EvaluateRequestSchema.parse({ dataset: "pfwillow" });
 * assert.equal(r.split, "test");
 * assert.deepEqual(r.alphas, [0.01, 0.05, 0.1, 0.15]);
 * assert.equal(r.frame, "official");
 * assert.ok(!EvaluateRequestSchema.safeParse({ dataset: "pfwillow", shards: 2, shard: 2 }).success);
 * // An option for another dataset is refused, not ignored.
 * assert.ok(!EvaluateRequestSchema.safeParse({ dataset: "spair", keypoints: "raw" }).success);
 * // Query strings and flags arrive as text.
 * const q = requestFromStrings({ dataset: "ap10k", sample: "2", alphas: "0.05,0.1" });
 * assert.deepEqual(EvaluateRequestSchema.parse(q).alphas, [0.05, 0.1]);
 * ```
 *
 * @module
 */

import { z } from "zod";
import { MatchOptionsSchema } from "../workers/match_options.ts";
import { DATASET_IDS } from "../datasets/types.ts";
import { datasetOptionIssues, DatasetOptionsSchema } from "../datasets/dataset_options.ts";
import { PCK_COMPARISONS } from "../core/pck.ts";

/** Scoring frames: the survey's stretched square, or original pixels. */
export const SCORING_FRAMES = Object.freeze(["official", "original"] as const);

/** One of {@linkcode SCORING_FRAMES}. */
export type ScoringFrame = typeof SCORING_FRAMES[number];

/** The averagings a report can put first: per image (pair) or per point. */
export const AVERAGINGS = Object.freeze(["image", "point"] as const);

/** One of {@linkcode AVERAGINGS}. */
export type Averaging = typeof AVERAGINGS[number];

/** Fields that are lists (comma-separated in query strings and flags). */
const LIST_FIELDS = new Set(["alphas", "categories", "pair_ids"]);
/** Fields that are numbers in JSON. */
const NUMBER_FIELDS = new Set(["alphas", "offset", "limit", "shards", "shard"]);
/** Fields that are booleans in JSON. */
const BOOLEAN_FIELDS = new Set(["return_predictions", "save_run"]);

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
  ...DatasetOptionsSchema.shape,
  return_predictions: z.boolean().default(false),
  /** Save the report in `RUNS_DIR` (the route and `deno task eval --save`). */
  save_run: z.boolean().default(false),
}).superRefine((r, ctx) => {
  if (r.shard !== undefined && r.shard >= (r.shards ?? 1)) {
    ctx.addIssue({ code: "custom", path: ["shard"], message: "shard must be less than shards" });
  }
  for (const issue of datasetOptionIssues(r.dataset, r.split, r)) {
    ctx.addIssue({ code: "custom", ...issue });
  }
});

/** A validated evaluate request. */
export type EvaluateRequest = z.output<typeof EvaluateRequestSchema>;

/**
 * Turns text values (a query string, command-line flags) into the JSON
 * shapes of {@linkcode EvaluateRequestSchema}: lists split at commas,
 * numbers and booleans parsed; other values stay text (the match options
 * coerce their own). Names may use `-` for `_`.
 *
 * @param values Field names and their text.
 * @returns A body for the schema to validate.
 */
export function requestFromStrings(
  values: Record<string, string | boolean | undefined>,
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const k = name.replaceAll("-", "_");
    if (typeof value === "boolean") {
      body[k] = value;
      continue;
    }
    const parse = (v: string) => NUMBER_FIELDS.has(k) && v.trim() !== "" ? Number(v) : v;
    if (LIST_FIELDS.has(k)) body[k] = value.split(",").filter(Boolean).map(parse);
    else if (BOOLEAN_FIELDS.has(k)) {
      body[k] = value === "true" ? true : value === "false" ? false : value;
    } else body[k] = parse(value);
  }
  return body;
}
