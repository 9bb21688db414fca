/**
 * A job as clients see it (`GET /v1/jobs/{id}`): its state, progress over
 * all shards (pairs, extractions, running PCK of the shards done, ETA), the
 * shards with who worked on them, and once done the result: the exact merge
 * of the shards' reports, the same PCK and sums `POST /v1/evaluate` gives
 * for the same request. Done shards' reports never change, so they are
 * read from KV once and kept (a bounded cache).
 *
 * @example Usage
 * ```ts ignore
 * const views = new JobViews(store);
 * const view = await views.view(id, { base: "/v1/jobs" });
 * view?.progress.pairs_done;
 * ```
 *
 * @module
 */

import { mergeReports } from "../evaluation/merge_reports.ts";
import type { EvaluationReport } from "../evaluation/report.ts";
import type { JobStore } from "./job_store.ts";
import type { JobRecord, JobState, ShardRecord } from "./job_records.ts";

/** Progress over all shards. */
export interface JobProgress {
  pairs_done: number;
  pairs_total: number;
  shards_done: number;
  shards_total: number;
  extractions: number;
  /** Per-image PCK (first frame) over the shards done so far; null before the first. */
  pck: Record<string, number | null> | null;
  /** Seconds left at the rate so far; null before any progress. */
  eta_s: number | null;
}

/** A job as `GET /v1/jobs/{id}` answers it. */
export interface JobView {
  id: string;
  state: JobState;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  request: JobRecord["request"];
  progress: JobProgress;
  shards: {
    index: number;
    pairs: number;
    state: ShardRecord["state"];
    pairs_done: number;
    attempts: number;
    owner: string | null;
    done_by: string | null;
  }[];
  error: JobRecord["error"];
  saved_as: string | null;
  links: { self: string; events: string; cancel: string };
  /** The evaluation report, once the job is done. */
  result?: EvaluationReport;
}

const CACHED_REPORTS = 2000;

/** Builds job views, keeping done shards' reports. */
export class JobViews {
  #store: JobStore;
  #reports = new Map<string, EvaluationReport>();

  /** @param store The job store. */
  constructor(store: JobStore) {
    this.#store = store;
  }

  /**
   * The links of a job.
   *
   * @param id The job id.
   * @param base The jobs route, e.g. `/v1/jobs`.
   * @returns Its self, events and cancel links.
   */
  links(id: string, base: string): JobView["links"] {
    return { self: `${base}/${id}`, events: `${base}/${id}/events`, cancel: `${base}/${id}` };
  }

  /**
   * The view of a job.
   *
   * @param id The job id.
   * @param options `base`: the jobs route; `result`: include the merged result when done (default true).
   * @returns The view, or null when there is no such job.
   */
  async view(id: string, options: { base: string; result?: boolean }): Promise<JobView | null> {
    const job = await this.#store.get(id);
    if (!job) return null;
    const shards = await this.#store.shards(id);
    const reports = await this.#doneReports(job, shards);
    const pairsDone = shards.reduce((n, s) => n + s.pairs_done, 0);
    const merged = reports.length ? this.#merge(job, reports) : null;
    const view: JobView = {
      id,
      state: job.state,
      created_at: job.created_at,
      started_at: job.started_at,
      finished_at: job.finished_at,
      request: job.request,
      progress: {
        pairs_done: pairsDone,
        pairs_total: job.pairs_total,
        shards_done: shards.filter((s) => s.state === "done").length,
        shards_total: shards.length,
        extractions: shards.reduce((n, s) => n + s.extractions, 0),
        pck: merged ? firstFrame(merged).per_image.all : null,
        eta_s: eta(job, pairsDone),
      },
      shards: shards.map((s, index) => ({
        index,
        pairs: job.shard_pairs[index],
        state: s.state,
        pairs_done: s.pairs_done,
        attempts: s.attempts,
        owner: s.state === "leased" ? s.owner : null,
        done_by: s.done_by,
      })),
      error: job.error,
      saved_as: job.saved_as,
      links: this.links(id, options.base),
    };
    if (job.state === "done" && merged && options.result !== false) view.result = merged;
    return view;
  }

  /**
   * The merged result of a done job.
   *
   * @param id The job id.
   * @returns The report, or null when the job is not done.
   */
  async result(id: string): Promise<EvaluationReport | null> {
    const job = await this.#store.get(id);
    if (!job || job.state !== "done") return null;
    return this.#merge(job, await this.#doneReports(job, await this.#store.shards(id)));
  }

  async #doneReports(job: JobRecord, shards: ShardRecord[]): Promise<EvaluationReport[]> {
    const missing = shards.some((s, i) =>
      s.state === "done" && !this.#reports.has(`${job.id}:${i}`)
    );
    if (missing) {
      for (const { index, report } of await this.#store.shardReports(job.id)) {
        this.#reports.set(`${job.id}:${index}`, report);
      }
      while (this.#reports.size > CACHED_REPORTS) {
        this.#reports.delete(this.#reports.keys().next().value!);
      }
    }
    const out: EvaluationReport[] = [];
    shards.forEach((s, i) => {
      const r = this.#reports.get(`${job.id}:${i}`);
      if (s.state === "done" && r) out.push(r);
    });
    return out;
  }

  /** The shards' exact merge, told as the job's own request (not as shards). */
  #merge(job: JobRecord, reports: EvaluationReport[]): EvaluationReport {
    const merged = mergeReports(reports);
    const selection: Record<string, unknown> = {};
    for (const k of ["categories", "pair_ids", "offset", "limit"] as const) {
      if (job.request[k] !== undefined) selection[k] = job.request[k];
    }
    return { ...merged, selection: { ...selection, job: job.id, shards: reports.length } };
  }
}

function firstFrame(report: EvaluationReport) {
  return report.pck ?? Object.values(report.frames)[0]!;
}

function eta(job: JobRecord, pairsDone: number): number | null {
  if (!job.started_at || pairsDone === 0 || job.state !== "running") return null;
  const elapsed = (Date.now() - Date.parse(job.started_at)) / 1000;
  const rate = pairsDone / Math.max(elapsed, 1e-3);
  return Math.round((job.pairs_total - pairsDone) / rate);
}
