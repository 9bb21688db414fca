/**
 * Refuses work early when the worker pool cannot take it: with every worker
 * busy and the queue full, or with `MAX_INFLIGHT` requests for the workers
 * already admitted (still reading their bodies, queued or running), a request
 * that would dispatch to the pool is answered `503 overloaded` (with
 * `Retry-After`) before its body is read, so a flood of large uploads costs
 * no memory or parsing: at most `MAX_INFLIGHT` bodies are held at once.
 *
 * @example Usage
 * ```ts ignore
 * app.post("/v1/match", overloadGuard(), handler);
 * ```
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { PoolSaturatedError } from "../../errors/mod.ts";

/**
 * Fails fast while the pool is saturated.
 *
 * @returns The middleware.
 */
export function overloadGuard(): MiddlewareHandler<AppEnv> {
  return async function overloadGuard(c, next) {
    const { pool, config, inFlight } = c.var.services;
    const s = pool.stats();
    if (s.busy >= s.ready && s.queued >= config.pool.maxQueue) {
      throw new PoolSaturatedError(
        `Cannot accept the request: ${s.queued} requests are already waiting`,
        { details: { queued: s.queued, max_queue: config.pool.maxQueue } },
      );
    }
    if (inFlight.now >= inFlight.max) {
      throw new PoolSaturatedError(
        `Cannot accept the request: ${inFlight.now} requests are already in flight`,
        { details: { in_flight: inFlight.now, max_in_flight: inFlight.max } },
      );
    }
    inFlight.now++;
    try {
      await next();
    } finally {
      inFlight.now--;
    }
  };
}
