/**
 * What every route can reach: the services, set once per request by the app.
 *
 * @example Usage
 * ```ts
 * import type { AppEnv } from "./app_env.ts";
 * import { Hono } from "hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono<AppEnv>();
 * assert.ok(app);
 * ```
 *
 * @module
 */

import type { RequestIdVariables } from "hono/request-id";
import type { WorkerPool } from "../workers/pool.ts";
import type { ModelRegistry } from "../models/registry.ts";
import type { ModelRef } from "../workers/protocol.ts";
import type { ServiceConfig } from "./config.ts";

/** The service's moving parts, shared by every route. */
export interface Services {
  pool: WorkerPool;
  registry: ModelRegistry;
  config: ServiceConfig;
  /** Turns a model id into what a worker needs (downloading and verifying it if needed). */
  resolveModel(id: string): Promise<ModelRef>;
  /** True once the default model is loaded and has run once in every worker. */
  isReady(): boolean;
}

/** Hono environment of every route. */
export type AppEnv = { Variables: RequestIdVariables & { services: Services } };
