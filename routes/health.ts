/**
 * Liveness and readiness: `GET /healthz` answers while the process serves;
 * `GET /readyz` answers 200 only once the default model's session is loaded
 * and has run once in every worker (a load balancer's cue to send traffic).
 *
 * @module
 */

import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "./app_env.ts";

/** The answer of `GET /healthz`. */
export const HealthSchema = z.object({ status: z.literal("ok") });

/** The answer of `GET /readyz` (200 ready, 503 starting). */
export const ReadinessSchema = z.object({
  status: z.enum(["ready", "starting"]),
  pool: z.object({
    size: z.int(),
    ready: z.int(),
    busy: z.int(),
    queued: z.int(),
    restarts: z.int(),
    completed: z.int(),
    backend: z.string().nullable(),
  }).describe("the worker pool: workers, ready and busy ones, queued requests, restarts"),
});

const app = new Hono<AppEnv>();

app.get("/healthz", (c) => c.json({ status: "ok" } satisfies z.input<typeof HealthSchema>));

app.get("/readyz", (c) => {
  const { pool, isReady } = c.var.services;
  const stats = pool.stats();
  const ready = isReady();
  const answer: z.input<typeof ReadinessSchema> = {
    status: ready ? "ready" : "starting",
    pool: stats,
  };
  return c.json(answer, ready ? 200 : 503);
});

export default app;
