/**
 * A replica's share of the work: it polls the KV for active jobs (and wakes
 * early on a queue hint), claims one free shard at a time under a lease,
 * runs it, renews the lease while it works, and records the shard's report
 * atomically with its completion. A lease that stops being renewed (the
 * replica was killed) expires and another replica claims the shard again; a
 * cancelled job or a lost lease aborts the shard at the next renewal.
 *
 * Faults: a passing one (the pool full or a worker crashed) gives the shard
 * back for another try, at most `maxAttempts` claims per shard; any other
 * fails the job with the error's code and message.
 *
 * @example Usage
 * ```ts ignore
 * const runner = new JobRunner(store, { owner: "replica-a", runShard });
 * runner.start();
 * await runner.stop(20_000); // releases the shard in hand
 * ```
 *
 * @module
 */

import type { EvaluationReport } from "../evaluation/report.ts";
import type { Claim, JobStore, ShardProgress } from "./job_store.ts";
import type { JobRecord } from "./job_records.ts";

/** Runs one shard of a job: the evaluation of its block of pairs. */
export type RunShard = (
  job: JobRecord,
  shard: { index: number; count: number },
  options: { onProgress: (p: ShardProgress) => void; signal: AbortSignal },
) => Promise<EvaluationReport>;

/** Options of a {@linkcode JobRunner}. */
export interface JobRunnerOptions {
  /** This replica's id, as shards record who worked on them. */
  owner: string;
  runShard: RunShard;
  /** How long a claim holds without renewal (default 15000 ms). */
  leaseMs?: number;
  /** Interval between looks for work (default 500 ms). */
  pollMs?: number;
  /** Claims of one shard before the job fails (default 3). */
  maxAttempts?: number;
  /** Whether an error is passing (the shard is given back) rather than the job's end. */
  isRetryable?: (error: unknown) => boolean;
  /** The code and message a client sees for an error. */
  describeError: (error: unknown) => { code: string; message: string };
  /** Called when a job's last shard is recorded (saving the run, say). */
  onJobDone?: (jobId: string) => Promise<void>;
  /** Log lines. */
  log?: (line: string) => void;
}

/** Works on jobs until stopped. */
export class JobRunner {
  #store: JobStore;
  #options: Required<Omit<JobRunnerOptions, "onJobDone">> & Pick<JobRunnerOptions, "onJobDone">;
  #stopped = false;
  #timer?: ReturnType<typeof setTimeout>;
  #current?: { claim: Claim; abort: AbortController; done: Promise<void> };
  #loop?: Promise<void>;
  #wake?: () => void;

  /**
   * @param store The shared job store.
   * @param options Owner, shard runner, lease and poll timing, error policy.
   */
  constructor(store: JobStore, options: JobRunnerOptions) {
    this.#store = store;
    this.#options = {
      leaseMs: 15_000,
      pollMs: 500,
      maxAttempts: 3,
      isRetryable: () => false,
      log: () => {},
      ...options,
    };
  }

  /** Starts looking for work. */
  start(): void {
    this.#store.listenForJobs(() => this.#wake?.());
    this.#loop = this.#run();
  }

  /**
   * Stops taking work; the shard in hand may finish within `drainMs`, else
   * it is aborted and given back so another replica takes it at once.
   *
   * @param drainMs How long the shard in hand may go on.
   * @returns What happened to it, for the log.
   */
  async stop(drainMs: number): Promise<string> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#wake?.();
    const current = this.#current;
    let outcome = "no shard in hand";
    if (current) {
      const { job, index } = current.claim;
      const finished = await Promise.race([
        current.done.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), drainMs)),
      ]);
      if (finished) outcome = `finished shard ${index} of job ${job.id}`;
      else {
        current.abort.abort(new DOMException("The replica is stopping", "AbortError"));
        await current.done;
        outcome = `released shard ${index} of job ${job.id}`;
      }
    }
    await this.#loop;
    return outcome;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let worked = false;
      try {
        worked = await this.#workOnce();
      } catch (e) {
        this.#options.log(`Job runner: ${(e as Error).message}`);
      }
      if (this.#stopped) break;
      if (!worked) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          this.#timer = setTimeout(resolve, this.#options.pollMs);
        });
        this.#wake = undefined;
      }
    }
  }

  /** Claims and runs one shard; false when there was nothing to claim. */
  async #workOnce(): Promise<boolean> {
    for (const id of await this.#store.activeIds()) {
      if (this.#stopped) return false;
      const claim = await this.#store.claim(id, {
        owner: this.#options.owner,
        leaseMs: this.#options.leaseMs,
      });
      if (!claim) continue;
      const abort = new AbortController();
      const done = this.#runClaim(claim, abort);
      this.#current = { claim, abort, done };
      await done;
      this.#current = undefined;
      return true;
    }
    return false;
  }

  async #runClaim(claim: Claim, abort: AbortController): Promise<void> {
    const { job, index } = claim;
    const { owner, leaseMs } = this.#options;
    let progress: ShardProgress = { pairs_done: 0, extractions: 0 };
    // Renew a few times per lease: a missed renewal or two must not lose it.
    const renewal = setInterval(async () => {
      const kept = await this.#store.renew(job.id, index, { owner, leaseMs, progress })
        .catch(() => true);
      if (!kept) {
        abort.abort(new DOMException("The job was cancelled or the lease lost", "AbortError"));
      }
    }, Math.max(50, Math.floor(leaseMs / 4)));
    try {
      const report = await this.#options.runShard(job, {
        index,
        count: job.shard_pairs.length,
      }, {
        onProgress: (p) => (progress = p),
        signal: abort.signal,
      });
      clearInterval(renewal);
      const { recorded, jobDone } = await this.#store.complete(job.id, index, { owner, report });
      if (recorded) {
        this.#options.log(`Job ${job.id}: shard ${index} done (${report.counters.pairs} pairs)`);
      }
      if (jobDone) {
        this.#options.log(`Job ${job.id}: done`);
        await this.#options.onJobDone?.(job.id);
      }
    } catch (e) {
      clearInterval(renewal);
      if (abort.signal.aborted) {
        await this.#store.release(job.id, index, { owner });
        return;
      }
      if (this.#options.isRetryable(e) && claim.shard.attempts < this.#options.maxAttempts) {
        this.#options.log(`Job ${job.id}: shard ${index} gave back after ${(e as Error).message}`);
        await this.#store.release(job.id, index, { owner });
        return;
      }
      const error = this.#options.describeError(e);
      this.#options.log(`Job ${job.id}: failed on shard ${index}: ${error.code}: ${error.message}`);
      await this.#store.fail(job.id, error);
    } finally {
      clearInterval(renewal);
    }
  }
}
