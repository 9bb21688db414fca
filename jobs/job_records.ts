/**
 * What a job is in Deno KV: the records, their keys and their schemas. A
 * job is an evaluate request cut into shards of contiguous pairs (shard `i`
 * of `k` is `selectPairs`' block `[i n/k, (i+1) n/k)`); each shard is
 * claimed by one replica at a time under a lease, and finishes with the
 * shard's report (its integer sums merge exactly into the job's result).
 *
 * Keys:
 * - `["job", id]`: the {@linkcode JobRecord};
 * - `["job_shard", id, i]`: each {@linkcode ShardRecord};
 * - `["job_result", id, i, chunk]`: the shard's report as JSON text, cut
 *   into chunks under KV's 64 KiB value limit;
 * - `["job_active", id]`: present while the job is queued or running (what
 *   replicas poll);
 * - `["job_by_time", created_ms, id]`: for listing recent jobs.
 *
 * @example Usage
 * ```ts
 * import { JOB_STATES, jobKey, shardKey } from "./job_records.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(jobKey("j1"), ["job", "j1"]);
 * assert.deepEqual(shardKey("j1", 3), ["job_shard", "j1", 3]);
 * assert.ok(JOB_STATES.includes("cancelled"));
 * ```
 *
 * @module
 */

import { z } from "zod";
import { EvaluateRequestSchema } from "../evaluation/request.ts";

/** A job's states: `queued` until a shard is claimed, then `running`, then one of the ends. */
export const JOB_STATES = Object.freeze(
  ["queued", "running", "done", "failed", "cancelled"] as const,
);

/** One of {@linkcode JOB_STATES}. */
export type JobState = typeof JOB_STATES[number];

/** A shard's states. */
export const SHARD_STATES = Object.freeze(["free", "leased", "done", "failed"] as const);

/** One of {@linkcode SHARD_STATES}. */
export type ShardState = typeof SHARD_STATES[number];

/** An error as a job keeps it: the code and message a client would have seen. */
const JobErrorSchema = z.object({ code: z.string(), message: z.string() });

/** The job itself. */
export const JobRecordSchema = z.object({
  id: z.string(),
  /** The evaluate request, as validated when the job was submitted. */
  request: z.lazy(() => EvaluateRequestSchema),
  state: z.enum(JOB_STATES),
  created_at: z.string(),
  updated_at: z.string(),
  /** When the first shard was claimed. */
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  pairs_total: z.number().int().nonnegative(),
  /** Pairs of each shard, in shard order. */
  shard_pairs: z.array(z.number().int().nonnegative()),
  error: JobErrorSchema.nullable(),
  /** The run file the result was saved as (`save_run`). */
  saved_as: z.string().nullable(),
});

/** The job itself. */
export type JobRecord = z.output<typeof JobRecordSchema>;

/** One shard: who holds it, until when, and how far it got. */
export const ShardRecordSchema = z.object({
  state: z.enum(SHARD_STATES),
  /** The replica holding the lease (or that finished it). */
  owner: z.string().nullable(),
  /** Epoch ms until which the lease holds; past it any replica may claim the shard. */
  lease_until: z.number(),
  /** Claims so far (a crashed replica's shard is claimed again). */
  attempts: z.number().int().nonnegative(),
  pairs_done: z.number().int().nonnegative(),
  extractions: z.number().int().nonnegative(),
  /** The replica that finished it. */
  done_by: z.string().nullable(),
  /** Number of result chunks, once done. */
  chunks: z.number().int().nonnegative(),
  error: JobErrorSchema.nullable(),
});

/** One shard. */
export type ShardRecord = z.output<typeof ShardRecordSchema>;

/**
 * The key of a job.
 *
 * @param id The job id.
 * @returns The key.
 */
export function jobKey(id: string): Deno.KvKey {
  return ["job", id];
}

/**
 * The key of a job's shard.
 *
 * @param id The job id.
 * @param index The shard.
 * @returns The key.
 */
export function shardKey(id: string, index: number): Deno.KvKey {
  return ["job_shard", id, index];
}
