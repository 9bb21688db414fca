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
import type { Services } from "../service/services.ts";

export type { Services };

/** Hono environment of every route. */
export type AppEnv = {
  Variables: RequestIdVariables & {
    services: Services;
    /** The model a request ran, for the access log. */
    model?: string;
    /** Who is calling (`key:<digest prefix>`), set by the API key check. */
    caller?: string;
  };
};
