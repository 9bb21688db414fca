/**
 * The one place that wires the service's parts from its settings: the model
 * registry (built-ins plus `MODELS_CONFIG`), the model store (downloads and
 * cache) and the worker pool. The server (`main.ts`) and the terminal
 * command (`eval.ts`) both start here, so they run models the same way.
 *
 * @example Usage
 * ```ts
 * import { createServices } from "./services.ts";
 * import { loadConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const services = await createServices(loadConfig({ WORKERS: "1" }));
 * await services.ready;
 * assert.equal(services.isReady(), true);
 * assert.equal(services.pool.stats().ready, 1);
 * await services.dispose();
 * ```
 *
 * @module
 */

import type { ServiceConfig } from "./config.ts";
import { WorkerPool } from "../workers/pool.ts";
import { loadRegistry, type ModelRegistry } from "../models/registry.ts";
import { ModelStore } from "../models/model_store.ts";
import type { ModelRef } from "../models/model_ref.ts";
import { loadApiKeys } from "./api_keys.ts";
import { RunsStore } from "../evaluation/runs_store.ts";
import {
  evaluatePrepared,
  type EvaluationDeps,
  prepareEvaluation,
} from "../evaluation/run_evaluation.ts";
import type { DatasetSlice } from "../datasets/types.ts";
import { JobStore } from "../jobs/job_store.ts";
import { JobRunner } from "../jobs/job_runner.ts";
import { JobViews } from "../jobs/job_view.ts";
import {
  InferenceTimeoutError,
  PoolSaturatedError,
  publicError,
  ServiceError,
  WorkerCrashedError,
  WorkersNotReadyError,
} from "../errors/mod.ts";
import { basename, dirname } from "node:path";

/** The service's moving parts, shared by every route and the eval command. */
export interface Services {
  pool: WorkerPool;
  registry: ModelRegistry;
  config: ServiceConfig;
  /** Id of the model of requests that name none (the `DEFAULT_MODEL` setting). */
  defaultModel: string;
  /** Turns a model id into what a worker needs (downloading and verifying it if needed). */
  resolveModel(id: string): Promise<ModelRef>;
  /** True while the start model is loaded (and has run once) in every configured worker. */
  isReady(): boolean;
  /** The API keys in force (`API_KEYS`, `API_KEYS_FILE`); none: no authentication. */
  apiKeys: readonly string[];
  /** Saved evaluation runs (`RUNS_DIR`, capped by `RUNS_MAX` and `RUNS_MAX_BYTES`). */
  runs: RunsStore;
  /** What an evaluation needs (pool, models, dataset roots). */
  evaluation: EvaluationDeps;
  /** Jobs in the shared KV, and their views; absent where jobs are off (the eval command). */
  jobs?: { store: JobStore; views: JobViews };
  /**
   * Requests for the workers admitted now (from before their body is read
   * until their answer is made) and the most at once (`MAX_INFLIGHT`): what
   * bounds the request bodies held in memory.
   */
  inFlight: { now: number; max: number };
}

/** {@linkcode Services} being started, with their readiness and teardown. */
export interface StartedServices extends Services {
  /** Resolves once the start model is loaded and has run once in every worker. */
  ready: Promise<void>;
  /**
   * Stops: the job runner gives back its shard unless it finishes within
   * `drainMs` (default 0), then the KV closes and the workers stop.
   *
   * @returns What the job runner did with its shard, for the log.
   */
  dispose(drainMs?: number): Promise<string>;
}

/** Options of {@linkcode createServices}. */
export interface CreateServicesOptions {
  /** The model every worker loads first (default: the configured default model). */
  startModel?: string;
  /** Replaces the worker module (fault tests pass fixture workers). */
  workerUrl?: URL;
  /** Overrides of the configured pool size and queue (the eval command). */
  pool?: { size?: number; maxQueue?: number };
  /** Open the jobs KV and work on jobs as a replica (default true; the eval command: false). */
  jobs?: boolean;
}

/**
 * Builds the registry, the model store and the pool, and starts loading the
 * start model in every worker.
 *
 * @param config The settings.
 * @param options Start model, worker module, pool overrides.
 * @returns The services; `ready` settles when the workers have loaded.
 * @throws {TypeError} When `MODELS_CONFIG` names an invalid file, `DEFAULT_MODEL` no
 *   registered model, or `API_KEYS_FILE` an unreadable one.
 */
export async function createServices(
  config: ServiceConfig,
  options: CreateServicesOptions = {},
): Promise<StartedServices> {
  const apiKeys = await loadApiKeys(config.access);
  const registry = await loadRegistry({ configFile: config.models.configFile });
  const defaultModel = config.models.defaultModel;
  if (!registry.list().some((m) => m.id === defaultModel)) {
    throw new TypeError(
      `Cannot start: DEFAULT_MODEL names \`${defaultModel}\`, which is not a registered model (known: ${
        registry.list().map((m) => m.id).join(", ")
      })`,
    );
  }
  const store = new ModelStore(registry, config.models);
  const pool = new WorkerPool({
    ...config.pool,
    size: options.pool?.size ?? config.pool.size,
    maxQueue: options.pool?.maxQueue ?? config.pool.maxQueue,
    workerUrl: options.workerUrl,
  });
  // Resolving the start model (a download, a file that may appear later) is
  // part of loading it: a failure is retried by the pool with its back-off.
  const readyPromise = pool.start(() => store.resolve(options.startModel ?? defaultModel));
  // It may fail before the caller, still awaiting the jobs KV below, can listen: not unhandled.
  readyPromise.catch(() => {});
  const runs = new RunsStore(config.runs.dir, config.runs);
  const evaluation: EvaluationDeps = {
    pool,
    registry,
    resolveModel: (id) => store.resolve(id),
    defaultModel,
    roots: config.datasets,
  };
  const jobs = options.jobs === false ? undefined : await startJobs(config, evaluation, runs);
  return {
    pool,
    registry,
    config,
    defaultModel,
    resolveModel: evaluation.resolveModel,
    // From the pool's counts, not the start: a failed load retried later heals it.
    isReady: () => pool.stats().ready === pool.size,
    apiKeys,
    runs,
    evaluation,
    jobs: jobs && { store: jobs.store, views: jobs.views },
    inFlight: { now: 0, max: config.pool.maxInFlight ?? pool.size + config.pool.maxQueue },
    ready: readyPromise,
    async dispose(drainMs = 0) {
      const outcome = jobs ? await jobs.close(drainMs) : "jobs off";
      await pool.dispose();
      return outcome;
    },
  };
}

/** The host's name where the process may read it (`--allow-sys`), else `replica`. */
function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "replica";
  }
}

/**
 * Opens the jobs KV and starts this replica's runner: each shard is the
 * job's request restricted to shard `i` of `k`, evaluated on this pool.
 */
async function startJobs(config: ServiceConfig, deps: EvaluationDeps, runs: RunsStore) {
  const target = config.jobs.kv;
  if (!/^[a-z]+:\/\//i.test(target) && target !== ":memory:") {
    await Deno.mkdir(dirname(target), { recursive: true });
  }
  const kv = await Deno.openKv(target);
  const store = new JobStore(kv);
  const views = new JobViews(store);
  const owner = config.jobs.replicaId ??
    `${hostname()}-${Deno.pid}-${crypto.randomUUID().slice(0, 4)}`;
  // The split of a job is read once per replica, not once per shard.
  const slices = new Map<string, DatasetSlice>();
  const runner = new JobRunner(store, {
    owner,
    leaseMs: config.jobs.leaseMs,
    pollMs: config.jobs.pollMs,
    async runShard(job, shard, { onProgress, signal }) {
      const request = { ...job.request, shards: shard.count, shard: shard.index, save_run: false };
      const prepared = await prepareEvaluation(request, deps, { slice: slices.get(job.id) });
      slices.set(job.id, prepared.slice);
      while (slices.size > 4) slices.delete(slices.keys().next().value!);
      return await evaluatePrepared(prepared, deps, {
        signal,
        onProgress: (p) => onProgress({ pairs_done: p.done, extractions: p.extractions }),
      });
    },
    isRetryable: (e) =>
      e instanceof PoolSaturatedError || e instanceof WorkerCrashedError ||
      e instanceof WorkersNotReadyError ||
      e instanceof InferenceTimeoutError,
    describeError(e) {
      if (!(e instanceof ServiceError)) console.error("A job shard failed:", e);
      const { code, message } = publicError(e);
      return { code, message };
    },
    async onJobDone(id) {
      const job = await store.get(id);
      if (!job?.request.save_run) return;
      const result = await views.result(id);
      if (result) await store.markSaved(id, basename(await runs.save(result)));
    },
    log: (line) => console.log(line),
  });
  runner.start();
  return {
    store,
    views,
    async close(drainMs: number): Promise<string> {
      const outcome = await runner.stop(drainMs);
      kv.close();
      return outcome;
    },
  };
}
