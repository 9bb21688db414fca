/**
 * Request body limits: a body over `maxBytes` is refused with
 * `413 payload_too_large` from its `Content-Length` before anything is read,
 * or as soon as a streamed body passes the limit (Hono's `bodyLimit`).
 *
 * @example Usage
 * ```ts
 * import { Hono } from "hono";
 * import { limitBody } from "./body_limit.ts";
 * import { onError } from "../_on_error.ts";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono();
 * app.post("/", limitBody(() => 4), async (c) => c.text(await c.req.text()));
 * app.onError(onError);
 * assert.equal((await app.request("/", { method: "POST", body: "abc" })).status, 200);
 * const res = await app.request("/", { method: "POST", body: "abcdef" });
 * assert.equal(res.status, 413);
 * assert.equal((await res.json()).error.details.limit, 4);
 * ```
 *
 * @module
 */

import type { Context, Env, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { PayloadTooLargeError } from "../../errors/mod.ts";

/**
 * Limits the body of the requests it is mounted on.
 *
 * @param maxBytes The limit, computed from the request's context (settings differ per service).
 * @returns The middleware.
 */
export function limitBody<E extends Env>(
  maxBytes: (c: Context<E>) => number,
): MiddlewareHandler<E> {
  return async function limitBody(c, next) {
    const limit = maxBytes(c);
    return await bodyLimit({
      maxSize: limit,
      onError: () => {
        throw new PayloadTooLargeError(`Cannot read a request body over ${limit} bytes`, {
          details: { limit },
        });
      },
    })(c, next);
  };
}
