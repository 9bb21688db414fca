/**
 * A token-bucket rate limit per caller: each caller (its API key, or its
 * address when keys are off) may send `burst` requests at once and
 * `ratePerSecond` on average; beyond that a request is answered
 * `429 rate_limited` with `Retry-After`. Buckets of callers not seen for a
 * while are dropped, and at most `maxCallers` are kept, so the table itself
 * cannot grow without bound.
 *
 * @example Usage
 * ```ts
 * import { Hono } from "hono";
 * import { rateLimit } from "./rate_limit.ts";
 * import { onError } from "../_on_error.ts";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono();
 * app.use(rateLimit({ ratePerSecond: 1, burst: 2 }));
 * app.get("/", (c) => c.text("ok"));
 * app.onError(onError);
 * const statuses = [];
 * for (let i = 0; i < 3; i++) statuses.push((await app.request("/")).status);
 * assert.deepEqual(statuses, [200, 200, 429]);
 * ```
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { RateLimitedError } from "../../errors/mod.ts";

/** Options of {@linkcode rateLimit}. */
export interface RateLimitOptions {
  /** Average requests per second per caller; 0 turns the limit off. */
  ratePerSecond: number;
  /** Requests a caller may send at once. */
  burst: number;
  /** Callers tracked at most (the least recently seen are dropped first). */
  maxCallers?: number;
  /** The monotonic clock in ms (tests pass their own). */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Who is calling: the key set by the `apiKey` middleware, else the address.
 *
 * @param c The request context.
 * @returns A caller id.
 */
export function callerOf(c: Context): string {
  const key = c.get("caller" as never) as string | undefined;
  if (key) return key;
  const addr = (c.env as { remoteAddr?: { hostname?: string } } | undefined)?.remoteAddr;
  return `addr:${addr?.hostname ?? "unknown"}`;
}

/**
 * Limits each caller's request rate.
 *
 * @param options Rate, burst and table size.
 * @returns The middleware.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const { ratePerSecond, burst } = options;
  const maxCallers = options.maxCallers ?? 10_000;
  const now = options.now ?? (() => performance.now());
  const buckets = new Map<string, Bucket>();
  return async function rateLimit(c, next) {
    if (ratePerSecond <= 0) return await next();
    const id = callerOf(c);
    const t = now();
    const b = buckets.get(id) ?? { tokens: burst, at: t };
    b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * ratePerSecond);
    b.at = t;
    // Re-insert so the Map's order is least recently seen first.
    buckets.delete(id);
    buckets.set(id, b);
    if (buckets.size > maxCallers) buckets.delete(buckets.keys().next().value!);
    if (b.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - b.tokens) / ratePerSecond));
      throw new RateLimitedError(
        `Cannot accept the request: more than ${ratePerSecond} requests per second (burst ${burst})`,
        { retryAfter, details: { rate_per_second: ratePerSecond, burst } },
      );
    }
    b.tokens -= 1;
    await next();
  };
}
