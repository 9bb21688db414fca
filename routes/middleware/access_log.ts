/**
 * One JSON line per request, written when the answer is ready: method,
 * path, status, milliseconds, the request id and, where a route sets it,
 * the model. The lines go to a sink (stdout by default) so an operator can
 * ship them as they are.
 *
 * @example Usage
 * ```ts
 * import { Hono } from "hono";
 * import { accessLog } from "./access_log.ts";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const app = new Hono();
 * app.use(accessLog({ write: (line) => lines.push(line) }));
 * app.get("/x", (c) => c.text("ok"));
 * await app.request("/x?secret=1");
 * const entry = JSON.parse(lines[0]);
 * assert.equal(entry.path, "/x");
 * assert.equal(entry.status, 200);
 * ```
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";

/** Options of {@linkcode accessLog}. */
export interface AccessLogOptions {
  /** Where each line goes (default `console.log`). */
  write?: (line: string) => void;
}

/**
 * Logs each request once it is answered.
 *
 * @param options The sink.
 * @returns The middleware. Routes may `c.set("model", id)` for the line.
 */
export function accessLog(options: AccessLogOptions = {}): MiddlewareHandler {
  const write = options.write ?? ((line: string) => console.log(line));
  return async function accessLog(c, next) {
    const t0 = performance.now();
    await next();
    write(JSON.stringify({
      time: new Date().toISOString(),
      method: c.req.method,
      // The path only: query strings may carry what does not belong in logs.
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - t0) * 10) / 10,
      request_id: c.get("requestId" as never) ?? null,
      model: c.get("model" as never) ?? null,
    }));
  };
}
