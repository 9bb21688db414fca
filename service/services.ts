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
import { DEFAULT_MODEL_ID, loadRegistry, type ModelRegistry } from "../models/registry.ts";
import { ModelStore } from "../models/model_store.ts";
import type { ModelRef } from "../models/model_ref.ts";
import { loadApiKeys } from "./api_keys.ts";
import { RunsStore } from "../evaluation/runs_store.ts";

/** The service's moving parts, shared by every route and the eval command. */
export interface Services {
  pool: WorkerPool;
  registry: ModelRegistry;
  config: ServiceConfig;
  /** Turns a model id into what a worker needs (downloading and verifying it if needed). */
  resolveModel(id: string): Promise<ModelRef>;
  /** True once the start model is loaded and has run once in every worker. */
  isReady(): boolean;
  /** The API keys in force (`API_KEYS`, `API_KEYS_FILE`); none: no authentication. */
  apiKeys: readonly string[];
  /** Saved evaluation runs (`RUNS_DIR`, capped by `RUNS_MAX` and `RUNS_MAX_BYTES`). */
  runs: RunsStore;
}

/** {@linkcode Services} being started, with their readiness and teardown. */
export interface StartedServices extends Services {
  /** Resolves once the start model is loaded and has run once in every worker. */
  ready: Promise<void>;
  /** Stops the workers. */
  dispose(): Promise<void>;
}

/** Options of {@linkcode createServices}. */
export interface CreateServicesOptions {
  /** The model every worker loads first (default: the default model). */
  startModel?: string;
  /** Replaces the worker module (fault tests pass fixture workers). */
  workerUrl?: URL;
  /** Overrides of the configured pool size and queue (the eval command). */
  pool?: { size?: number; maxQueue?: number };
}

/**
 * Builds the registry, the model store and the pool, and starts loading the
 * start model in every worker.
 *
 * @param config The settings.
 * @param options Start model, worker module, pool overrides.
 * @returns The services; `ready` settles when the workers have loaded.
 * @throws {TypeError} When `MODELS_CONFIG` names an invalid file, or `API_KEYS_FILE` an
 *   unreadable one.
 */
export async function createServices(
  config: ServiceConfig,
  options: CreateServicesOptions = {},
): Promise<StartedServices> {
  const apiKeys = await loadApiKeys(config.access);
  const registry = await loadRegistry({ configFile: config.models.configFile });
  const store = new ModelStore(registry, config.models);
  const pool = new WorkerPool({
    ...config.pool,
    size: options.pool?.size ?? config.pool.size,
    maxQueue: options.pool?.maxQueue ?? config.pool.maxQueue,
    workerUrl: options.workerUrl,
  });
  let ready = false;
  const readyPromise = store.resolve(options.startModel ?? DEFAULT_MODEL_ID)
    .then((model) => pool.start(model))
    .then(() => {
      ready = true;
    });
  return {
    pool,
    registry,
    config,
    resolveModel: (id) => store.resolve(id),
    isReady: () => ready,
    apiKeys,
    runs: new RunsStore(config.runs.dir, config.runs),
    ready: readyPromise,
    dispose: () => pool.dispose(),
  };
}
