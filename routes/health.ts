/**
 * Liveness and readiness: `GET /healthz` answers while the process serves;
 * `GET /readyz` answers 200 only once the default model's session is loaded
 * and has run once in every worker (a load balancer's cue to send traffic).
 *
 * @module
 */

import { Hono } from "hono";
import type { AppEnv } from "./app_env.ts";

const app = new Hono<AppEnv>();

app.get("/healthz", (c) => c.json({ status: "ok" }));

app.get("/readyz", (c) => {
  const { pool, isReady } = c.var.services;
  const stats = pool.stats();
  const ready = isReady();
  return c.json({ status: ready ? "ready" : "starting", pool: stats }, ready ? 200 : 503);
});

export default app;
