/**
 * Jobs in Deno KV, shared by every replica that opens the same KV (one file
 * on one machine, or a remote KV: Deno Deploy, a `denokv` server). Every
 * change of ownership is an atomic check-and-set on the record's
 * versionstamp, so two replicas never hold one shard: a claim succeeds only
 * on a free shard or one whose lease has expired, a renewal or completion
 * only while the lease is still the caller's. A shard's report is written
 * in the same atomic commit that marks it done.
 *
 * @example Usage
 * ```ts
 * import { JobStore } from "./job_store.ts";
 * import { EvaluateRequestSchema } from "../evaluation/request.ts";
 * import assert from "node:assert/strict";
 *
 * const kv = await Deno.openKv(":memory:");
 * const store = new JobStore(kv);
 * const job = await store.create(EvaluateRequestSchema.parse({ dataset: "pfwillow" }), [60, 60]);
 * const a = await store.claim(job.id, { owner: "replica-a", leaseMs: 10_000 });
 * const b = await store.claim(job.id, { owner: "replica-b", leaseMs: 10_000 });
 * assert.deepEqual([a?.index, b?.index], [0, 1]);
 * assert.equal(await store.claim(job.id, { owner: "replica-c", leaseMs: 10_000 }), null);
 * assert.equal((await store.get(job.id))?.state, "running");
 * kv.close();
 * ```
 *
 * @module
 */

import type { EvaluateRequest } from "../evaluation/request.ts";
import type { EvaluationReport } from "../evaluation/report.ts";
import {
  jobKey,
  type JobRecord,
  JobRecordSchema,
  shardKey,
  type ShardRecord,
  ShardRecordSchema,
} from "./job_records.ts";

/**
 * Runs a KV operation again while SQLite reports the file locked by another
 * process (two replicas committing at the same moment), with a short random
 * back-off, for at most about two seconds.
 */
async function unlocked<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!/database is locked|database is busy/i.test((e as Error)?.message) || attempt >= 40) {
        throw e;
      }
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
    }
  }
}

/** Characters per result chunk: under KV's 64 KiB value limit in UTF-8, whatever the text. */
const CHUNK_CHARS = 16_000;

/** Reports of more chunks than this are refused (KV's 800 KiB atomic limit). */
const MAX_CHUNKS = 40;

/** A claimed shard. */
export interface Claim {
  job: JobRecord;
  index: number;
  shard: ShardRecord;
}

/** Progress of a shard, written with each lease renewal. */
export interface ShardProgress {
  pairs_done: number;
  extractions: number;
}

/** The jobs of one KV. */
export class JobStore {
  #kv: Deno.Kv;

  /** @param kv The KV every replica shares. */
  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /**
   * Creates a queued job with free shards.
   *
   * @param request The validated evaluate request.
   * @param shardPairs Pairs in each shard, in order.
   * @returns The job.
   */
  async create(request: EvaluateRequest, shardPairs: number[]): Promise<JobRecord> {
    return await unlocked(async () => {
      const now = new Date();
      const job: JobRecord = {
        id: crypto.randomUUID(),
        request,
        state: "queued",
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
        started_at: null,
        finished_at: null,
        pairs_total: shardPairs.reduce((a, b) => a + b, 0),
        shard_pairs: shardPairs,
        error: null,
        saved_as: null,
      };
      const op = this.#kv.atomic()
        .check({ key: jobKey(job.id), versionstamp: null })
        .set(jobKey(job.id), job)
        .set(["job_active", job.id], true)
        .set(["job_by_time", now.getTime(), job.id], job.id);
      shardPairs.forEach((_, i) => op.set(shardKey(job.id, i), freeShard()));
      const r = await op.commit();
      if (!r.ok) throw new Error(`Cannot create job ${job.id}: the id is taken`);
      // A hint for replicas listening on this KV; polling finds the job anyway.
      await this.#kv.enqueue({ job: job.id }).catch(() => {});
      return job;
    });
  }

  /**
   * Reads a job.
   *
   * @param id The job id.
   * @returns The job, or null when there is none.
   */
  async get(id: string): Promise<JobRecord | null> {
    return await unlocked(async () => {
      const r = await this.#kv.get(jobKey(id));
      return r.value === null ? null : JobRecordSchema.parse(r.value);
    });
  }

  /**
   * The most recent jobs, newest first.
   *
   * @param options `limit` (default 50).
   * @returns The jobs.
   */
  async list(options: { limit?: number } = {}): Promise<JobRecord[]> {
    return await unlocked(async () => {
      const out: JobRecord[] = [];
      const ids = this.#kv.list<string>({ prefix: ["job_by_time"] }, {
        reverse: true,
        limit: options.limit ?? 50,
      });
      for await (const e of ids) {
        const job = await this.get(e.value);
        if (job) out.push(job);
      }
      return out;
    });
  }

  /**
   * The shards of a job, in order.
   *
   * @param id The job id.
   * @returns The shards.
   */
  async shards(id: string): Promise<ShardRecord[]> {
    return await unlocked(async () => {
      const out: ShardRecord[] = [];
      for await (const e of this.#kv.list({ prefix: ["job_shard", id] })) {
        out.push(ShardRecordSchema.parse(e.value));
      }
      return out;
    });
  }

  /**
   * Ids of the jobs that are queued or running, oldest first.
   *
   * @returns The ids.
   */
  async activeIds(): Promise<string[]> {
    return await unlocked(async () => {
      const jobs: JobRecord[] = [];
      for await (const e of this.#kv.list({ prefix: ["job_active"] })) {
        const job = await this.get(e.key[1] as string);
        if (job) jobs.push(job);
      }
      return jobs.sort((a, b) => a.created_at.localeCompare(b.created_at)).map((j) => j.id);
    });
  }

  /**
   * Claims the first shard of a job that is free, or whose lease has expired.
   *
   * @param id The job id.
   * @param options The claiming replica and the lease length.
   * @returns The claim, or null when no shard can be claimed (or the job is not active).
   */
  async claim(id: string, options: { owner: string; leaseMs: number }): Promise<Claim | null> {
    return await unlocked(async () => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const job = await this.#kv.get(jobKey(id));
        if (job.value === null) return null;
        const record = JobRecordSchema.parse(job.value);
        if (record.state !== "queued" && record.state !== "running") return null;
        const now = Date.now();
        let raced = false;
        for await (const e of this.#kv.list({ prefix: ["job_shard", id] })) {
          const shard = ShardRecordSchema.parse(e.value);
          const claimable = shard.state === "free" ||
            (shard.state === "leased" && shard.lease_until < now);
          if (!claimable) continue;
          const claimed: ShardRecord = {
            ...shard,
            state: "leased",
            owner: options.owner,
            lease_until: now + options.leaseMs,
            attempts: shard.attempts + 1,
          };
          // Only the first claim touches the job record, so claims of
          // different shards by different replicas do not collide.
          const op = this.#kv.atomic().check(e, job).set(e.key, claimed);
          let started = record;
          if (record.state === "queued") {
            const at = new Date(now).toISOString();
            started = { ...record, state: "running", started_at: at, updated_at: at };
            op.set(jobKey(id), started);
          }
          const r = await op.commit();
          if (r.ok) return { job: started, index: e.key[2] as number, shard: claimed };
          raced = true;
          break;
        }
        if (!raced) return null;
      }
      return null;
    });
  }

  /**
   * Extends a lease and records progress, if the lease is still the caller's
   * and the job still active.
   *
   * @param id The job id.
   * @param index The shard.
   * @param options The owner, the new lease length and the progress.
   * @returns False when the lease was lost (expired and taken) or the job ended (cancelled).
   */
  async renew(
    id: string,
    index: number,
    options: { owner: string; leaseMs: number; progress: ShardProgress },
  ): Promise<boolean> {
    return await unlocked(async () => {
      const [job, entry] = await this.#kv.getMany([jobKey(id), shardKey(id, index)]);
      if (job.value === null || entry.value === null) return false;
      const record = JobRecordSchema.parse(job.value);
      const shard = ShardRecordSchema.parse(entry.value);
      if (record.state !== "running" || shard.state !== "leased" || shard.owner !== options.owner) {
        return false;
      }
      const r = await this.#kv.atomic().check(entry).check(job)
        .set(entry.key, {
          ...shard,
          ...options.progress,
          lease_until: Date.now() + options.leaseMs,
        })
        .commit();
      return r.ok;
    });
  }

  /**
   * Marks a shard done with its report, atomically, if the lease is still
   * the caller's; when it was the last shard, the job is done too.
   *
   * @param id The job id.
   * @param index The shard.
   * @param options The owner and the shard's report.
   * @returns Whether the shard was recorded, and whether the job is now done.
   * @throws {RangeError} When the report is too large for one atomic commit.
   */
  async complete(
    id: string,
    index: number,
    options: { owner: string; report: EvaluationReport },
  ): Promise<{ recorded: boolean; jobDone: boolean }> {
    return await unlocked(async () => {
      const text = JSON.stringify(options.report);
      const chunks = Math.max(1, Math.ceil(text.length / CHUNK_CHARS));
      if (chunks > MAX_CHUNKS) {
        throw new RangeError(
          `Cannot store shard ${index} of job ${id}: its report has ${text.length} characters, over ${
            MAX_CHUNKS * CHUNK_CHARS
          }`,
        );
      }
      const [job, entry] = await this.#kv.getMany([jobKey(id), shardKey(id, index)]);
      if (job.value === null || entry.value === null) return { recorded: false, jobDone: false };
      const record = JobRecordSchema.parse(job.value);
      const shard = ShardRecordSchema.parse(entry.value);
      if (record.state !== "running" || shard.state !== "leased" || shard.owner !== options.owner) {
        return { recorded: false, jobDone: false };
      }
      const op = this.#kv.atomic().check(entry).check(job).set(
        entry.key,
        {
          ...shard,
          state: "done",
          done_by: options.owner,
          pairs_done: options.report.counters.pairs,
          extractions: options.report.counters.extractions,
          chunks,
        } satisfies ShardRecord,
      );
      for (let c = 0; c < chunks; c++) {
        op.set(["job_result", id, index, c], text.slice(c * CHUNK_CHARS, (c + 1) * CHUNK_CHARS));
      }
      if (!(await op.commit()).ok) return { recorded: false, jobDone: false };
      return { recorded: true, jobDone: await this.#finishIfComplete(id) };
    });
  }

  /** Marks the job done when every shard is; true when this call did. */
  async #finishIfComplete(id: string): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const job = await this.#kv.get(jobKey(id));
      if (job.value === null) return false;
      const record = JobRecordSchema.parse(job.value);
      if (record.state !== "running") return false;
      const shards = await this.shards(id);
      if (!shards.every((s) => s.state === "done")) return false;
      const now = new Date().toISOString();
      const r = await this.#kv.atomic().check(job)
        .set(jobKey(id), { ...record, state: "done", finished_at: now, updated_at: now })
        .delete(["job_active", id])
        .commit();
      if (r.ok) return true;
    }
    return false;
  }

  /**
   * Gives a shard back (the replica stops, or hit a passing fault), so
   * another replica can claim it at once.
   *
   * @param id The job id.
   * @param index The shard.
   * @param options The owner.
   * @returns Whether it was the caller's to give back.
   */
  async release(id: string, index: number, options: { owner: string }): Promise<boolean> {
    return await unlocked(async () => {
      const entry = await this.#kv.get(shardKey(id, index));
      if (entry.value === null) return false;
      const shard = ShardRecordSchema.parse(entry.value);
      if (shard.state !== "leased" || shard.owner !== options.owner) return false;
      const r = await this.#kv.atomic().check(entry)
        .set(entry.key, { ...shard, state: "free", owner: null, lease_until: 0 })
        .commit();
      return r.ok;
    });
  }

  /**
   * Ends a job with an error (a fault that retrying would not cure).
   *
   * @param id The job id.
   * @param error The code and message.
   * @returns Whether this call ended it.
   */
  async fail(id: string, error: { code: string; message: string }): Promise<boolean> {
    return await unlocked(async () => {
      return await this.#end(id, "failed", error);
    });
  }

  /**
   * Cancels a queued or running job; replicas working on it stop at their
   * next renewal.
   *
   * @param id The job id.
   * @returns The job after the call, or null when there is none.
   */
  async cancel(id: string): Promise<JobRecord | null> {
    return await unlocked(async () => {
      await this.#end(id, "cancelled", null);
      return await this.get(id);
    });
  }

  async #end(
    id: string,
    state: "failed" | "cancelled",
    error: { code: string; message: string } | null,
  ): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const job = await this.#kv.get(jobKey(id));
      if (job.value === null) return false;
      const record = JobRecordSchema.parse(job.value);
      if (record.state !== "queued" && record.state !== "running") return false;
      const now = new Date().toISOString();
      const r = await this.#kv.atomic().check(job)
        .set(jobKey(id), { ...record, state, error, finished_at: now, updated_at: now })
        .delete(["job_active", id])
        .commit();
      if (r.ok) return true;
    }
    return false;
  }

  /**
   * Records the run file a done job's result was saved as.
   *
   * @param id The job id.
   * @param file The run's file name.
   */
  async markSaved(id: string, file: string): Promise<void> {
    return await unlocked(async () => {
      const job = await this.#kv.get(jobKey(id));
      if (job.value === null) return;
      const record = JobRecordSchema.parse(job.value);
      await this.#kv.set(jobKey(id), { ...record, saved_as: file });
    });
  }

  /**
   * The reports of a job's done shards, in shard order.
   *
   * @param id The job id.
   * @returns One report per done shard, with its index.
   */
  async shardReports(id: string): Promise<{ index: number; report: EvaluationReport }[]> {
    return await unlocked(async () => {
      const shards = await this.shards(id);
      const out: { index: number; report: EvaluationReport }[] = [];
      for (const [index, shard] of shards.entries()) {
        if (shard.state !== "done") continue;
        const keys = Array.from({ length: shard.chunks }, (_, c) => ["job_result", id, index, c]);
        let text = "";
        // getMany takes at most 10 keys at a time.
        for (let i = 0; i < keys.length; i += 10) {
          for (const e of await this.#kv.getMany<string[]>(keys.slice(i, i + 10))) {
            text += e.value ?? "";
          }
        }
        out.push({ index, report: JSON.parse(text) });
      }
      return out;
    });
  }

  /**
   * Resolves on each wake-up hint (a job created by a replica sharing this
   * KV), for a runner that would otherwise wait for its next poll.
   *
   * @param onHint Called for each hint.
   */
  listenForJobs(onHint: () => void): void {
    this.#kv.listenQueue(() => onHint()).catch(() => {});
  }
}

function freeShard(): ShardRecord {
  return {
    state: "free",
    owner: null,
    lease_until: 0,
    attempts: 0,
    pairs_done: 0,
    extractions: 0,
    done_by: null,
    chunks: 0,
    error: null,
  };
}
