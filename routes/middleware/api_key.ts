/**
 * Bearer-key authentication for the `/v1` routes: with keys configured, a
 * request needs `Authorization: Bearer <key>` for one of them, else it is
 * answered `401 unauthorized` with `WWW-Authenticate`. Keys are compared as
 * SHA-256 digests in constant time, so timing does not tell how much of a
 * guess was right. The key (its digest's prefix, never the key) names the
 * caller for the rate limit and the access log.
 *
 * @example Usage
 * ```ts
 * import { Hono } from "hono";
 * import { apiKey } from "./api_key.ts";
 * import { onError } from "../_on_error.ts";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono();
 * app.use("/v1/*", apiKey({ keys: ["s3cret"], isOpen: (_m, path) => path === "/v1/models" }));
 * app.get("/v1/match", (c) => c.text("matched"));
 * app.get("/v1/models", (c) => c.text("models"));
 * app.onError(onError);
 * assert.equal((await app.request("/v1/match")).status, 401);
 * assert.equal((await app.request("/v1/models")).status, 200);
 * const ok = await app.request("/v1/match", { headers: { authorization: "Bearer s3cret" } });
 * assert.equal(await ok.text(), "matched");
 * ```
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { createHash, timingSafeEqual } from "node:crypto";
import { UnauthorizedError } from "../../errors/mod.ts";

/** Options of {@linkcode apiKey}. */
export interface ApiKeyOptions {
  /** The accepted keys; none turns authentication off. */
  keys: readonly string[];
  /** Requests that need no key (e.g. the read-only listings). */
  isOpen?: (method: string, path: string) => boolean;
}

function digest(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}

/**
 * Requires a bearer key on the routes it is mounted on.
 *
 * @param options The keys and the open requests.
 * @returns The middleware; it sets `caller` (`key:<digest prefix>`) for later middleware.
 */
export function apiKey(options: ApiKeyOptions): MiddlewareHandler {
  const digests = options.keys.map(digest);
  return async function apiKey(c, next) {
    if (digests.length === 0 || options.isOpen?.(c.req.method, c.req.path)) return await next();
    const header = c.req.header("authorization") ?? "";
    const m = header.match(/^Bearer\s+(\S+)\s*$/i);
    if (!m) {
      throw new UnauthorizedError(
        "Cannot serve this route without an API key: send `Authorization: Bearer <key>`",
      );
    }
    const given = digest(m[1]);
    // Compare with every key, always: the time spent does not depend on which matched.
    let match = -1;
    digests.forEach((d, i) => {
      if (timingSafeEqual(d, given) && match < 0) match = i;
    });
    if (match < 0) throw new UnauthorizedError("Cannot serve this route: the API key is not valid");
    c.set("caller" as never, `key:${given.toString("hex").slice(0, 12)}` as never);
    await next();
  };
}
