/**
 * Which methods a path has: a request for a known path with another method
 * is answered `405 method_not_allowed` with `Allow`, not `404`. The table
 * is built once from the app's own routes, so it cannot drift from them.
 *
 * @example Usage
 * ```ts
 * import { allowedMethods } from "./_method_not_allowed.ts";
 * import assert from "node:assert/strict";
 *
 * const allowed = allowedMethods([
 *   { method: "POST", path: "/v1/match" },
 *   { method: "GET", path: "/v1/jobs/:id" },
 *   { method: "DELETE", path: "/v1/jobs/:id" },
 *   { method: "ALL", path: "/v1/*" },
 * ]);
 * assert.deepEqual(allowed("/v1/match"), ["POST"]);
 * assert.deepEqual(allowed("/v1/jobs/abc"), ["GET", "DELETE", "HEAD"]);
 * assert.deepEqual(allowed("/v1/nothing"), []);
 * ```
 *
 * @module
 */

/**
 * Builds the lookup from the app's routes.
 *
 * @param routes The app's `routes` (middleware, registered for `ALL`, is left out).
 * @returns A function from a path to the methods it is served for (with `HEAD` for `GET`).
 */
export function allowedMethods(
  routes: readonly { method: string; path: string }[],
): (path: string) => string[] {
  const table: { pattern: RegExp; method: string }[] = [];
  for (const r of routes) {
    if (r.method === "ALL") continue;
    const source = r.path.split("/").map((part) =>
      part.startsWith(":")
        ? "[^/]+"
        : part === "*"
        ? ".*"
        : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    ).join("/");
    table.push({ pattern: new RegExp(`^${source}/?$`), method: r.method });
  }
  return (path) => {
    const methods: string[] = [];
    for (const { pattern, method } of table) {
      if (pattern.test(path) && !methods.includes(method)) methods.push(method);
    }
    if (methods.includes("GET") && !methods.includes("HEAD")) methods.push("HEAD");
    return methods;
  };
}
