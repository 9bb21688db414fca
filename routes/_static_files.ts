/**
 * Static files of the pages (`/docs`, `/demo`): a fixed set of files from a
 * folder, each answered with its content type. Names are checked against
 * the set the route lists, so no request can name another file.
 *
 * @example Usage
 * ```ts
 * import { contentTypeOf } from "./_static_files.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(contentTypeOf("demo.js"), "text/javascript; charset=utf-8");
 * assert.equal(contentTypeOf("x.unknown"), "application/octet-stream");
 * ```
 *
 * @module
 */

import type { Context } from "hono";
import { RouteNotFoundError } from "../errors/mod.ts";

const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  png: "image/png",
  svg: "image/svg+xml",
};

/**
 * The content type of a file name.
 *
 * @param name The file name.
 * @returns Its type by extension (`application/octet-stream` when unknown).
 */
export function contentTypeOf(name: string): string {
  return TYPES[name.slice(name.lastIndexOf(".") + 1).toLowerCase()] ?? "application/octet-stream";
}

/**
 * Answers one of the listed files.
 *
 * @param c The request context.
 * @param files The files served: name to local path.
 * @param name The name asked for.
 * @returns The file, cached by the browser for an hour.
 * @throws {RouteNotFoundError} When the name is not listed.
 */
export async function serveFile(
  c: Context,
  files: Readonly<Record<string, string>>,
  name: string,
): Promise<Response> {
  const path = Object.hasOwn(files, name) ? files[name] : undefined;
  if (path === undefined) throw new RouteNotFoundError(`No route for GET ${c.req.path}`);
  const bytes = await Deno.readFile(path);
  return c.body(bytes, 200, {
    "content-type": contentTypeOf(name),
    "cache-control": "public, max-age=3600",
  });
}
