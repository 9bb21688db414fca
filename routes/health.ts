/**
 * Liveness and readiness: `GET /healthz` answers while the process serves;
 * `GET /readyz` answers 200 only while the default model's session is loaded
 * and has run once in every configured worker (a load balancer's cue to send
 * traffic), and 503 otherwise: `starting` before any worker is ready,
 * `degraded` while some are, `failing` while none is and failed loads wait
 * for their retry.
 *
 * @module
 */

import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "./app_env.ts";
import type { PoolStats } from "../workers/pool.ts";

/** The answer of `GET /healthz`. */
export const HealthSchema = z.object({ status: z.literal("ok") });

/** The states `/readyz` reports; only `ready` is 200. */
export const READINESS_STATES = ["ready", "degraded", "starting", "failing"] as const;

/** The answer of `GET /readyz` (200 ready, 503 otherwise). */
export const ReadinessSchema = z.object({
  status: z.enum(READINESS_STATES),
  pool: z.object({
    size: z.int(),
    ready: z.int(),
    busy: z.int(),
    queued: z.int(),
    retrying: z.int().describe("workers whose model load failed, waiting to try again"),
    restarts: z.int(),
    completed: z.int(),
    backend: z.string().nullable(),
    load_error: z.string().nullable().describe(
      "code of the last failed load, while a worker has not loaded since",
    ),
  }).describe("the worker pool: configured workers, ready, busy, retrying ones, queued requests"),
});

/**
 * The readiness state of a pool's counts.
 *
 * @param stats The pool's counts.
 * @param ready Whether every configured worker is ready.
 * @returns The state.
 */
export function readinessState(
  stats: PoolStats,
  ready: boolean,
): (typeof READINESS_STATES)[number] {
  if (ready) return "ready";
  if (stats.ready > 0) return "degraded";
  return stats.retrying > 0 ? "failing" : "starting";
}

const app = new Hono<AppEnv>();

app.get("/healthz", (c) => c.json({ status: "ok" } satisfies z.input<typeof HealthSchema>));

app.get("/readyz", (c) => {
  const { pool, isReady } = c.var.services;
  const stats = pool.stats();
  const ready = isReady();
  const answer: z.input<typeof ReadinessSchema> = {
    status: readinessState(stats, ready),
    pool: stats,
  };
  return c.json(answer, ready ? 200 : 503);
});

export default app;
