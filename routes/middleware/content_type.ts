/**
 * The body types a route reads: a request with another `Content-Type` is
 * answered `415 unsupported_media_type` naming the accepted ones, before
 * the body is read.
 *
 * @example Usage
 * ```ts
 * import { Hono } from "hono";
 * import { requireContentType } from "./content_type.ts";
 * import { onError } from "../_on_error.ts";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono();
 * app.post("/", requireContentType(["application/json"]), (c) => c.text("ok"));
 * app.onError(onError);
 * const json = { "content-type": "application/json; charset=utf-8" };
 * assert.equal((await app.request("/", { method: "POST", body: "{}", headers: json })).status, 200);
 * const res = await app.request("/", { method: "POST", body: "x", headers: { "content-type": "text/plain" } });
 * assert.equal(res.status, 415);
 * ```
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { UnsupportedMediaTypeError } from "../../errors/mod.ts";

/**
 * Refuses bodies of other media types.
 *
 * @param accepted Media types without parameters, lower case.
 * @returns The middleware.
 */
export function requireContentType(accepted: readonly string[]): MiddlewareHandler {
  return async function requireContentType(c, next) {
    const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (!accepted.includes(type)) {
      throw new UnsupportedMediaTypeError(
        `Cannot read a ${type || "body without Content-Type"}: send ${accepted.join(" or ")}`,
        { details: { accepted } },
      );
    }
    await next();
  };
}
