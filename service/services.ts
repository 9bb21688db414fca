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

/** The service's moving parts, shared by every route and the eval command. */
export interface Services {
  pool: WorkerPool;
  registry: ModelRegistry;
  config: ServiceConfig;
  /** Id of the model of requests that name none (the `DEFAULT_MODEL` setting). */
  defaultModel: string;
  /** Turns a model id into what a worker needs (downloading and verifying it if needed). */
  resolveModel(id: string): Promise<ModelRef>;
  /** True once the start model is loaded and has run once in every worker. */
  isReady(): boolean;
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
  /** The model every worker loads first (default: the configured default model). */
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
 * @throws {TypeError} When `MODELS_CONFIG` names an invalid file, or
 *   `DEFAULT_MODEL` names no registered model.
 */
export async function createServices(
  config: ServiceConfig,
  options: CreateServicesOptions = {},
): Promise<StartedServices> {
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
  let ready = false;
  const readyPromise = store.resolve(options.startModel ?? defaultModel)
    .then((model) => pool.start(model))
    .then(() => {
      ready = true;
    });
  return {
    pool,
    registry,
    config,
    defaultModel,
    resolveModel: (id) => store.resolve(id),
    isReady: () => ready,
    ready: readyPromise,
    dispose: () => pool.dispose(),
  };
}
