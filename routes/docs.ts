/**
 * The API described: `GET /openapi.json` (the OpenAPI 3.1 document built by
 * `./_openapi.ts` from the routes' zod schemas) and `GET /docs`, a Swagger UI
 * page of it whose scripts and styles come from the installed npm package
 * `swagger-ui-dist` (no CDN: the page works offline).
 *
 * @module
 */

import { Hono } from "hono";
import { fileURLToPath } from "node:url";
import type { AppEnv } from "./app_env.ts";
import { openApiDocument } from "./_openapi.ts";
import { serveFile } from "./_static_files.ts";
import { resolveNpmFile } from "../models/npm_file.ts";

/** The Swagger UI package, as `deno.json` installs it. */
const SWAGGER_UI = "npm:swagger-ui-dist@5.35.0";

/** The page's own files, in the repo. */
const PAGE = new URL("../web/docs/", import.meta.url);

/** What `/docs/{file}` serves: the page's script and the package's assets. */
function docsFiles(): Record<string, string> {
  const files: Record<string, string> = { "docs.js": fileURLToPath(new URL("docs.js", PAGE)) };
  for (const name of ["swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"]) {
    files[name] = resolveNpmFile(`${SWAGGER_UI}/${name}`);
  }
  return files;
}

const app = new Hono<AppEnv>();

let document: string | undefined;
let files: Record<string, string> | undefined;

app.get("/openapi.json", (c) => {
  document ??= JSON.stringify(openApiDocument());
  return c.body(document, 200, { "content-type": "application/json" });
});

app.get(
  "/docs",
  (c) => serveFile(c, { "index.html": fileURLToPath(new URL("index.html", PAGE)) }, "index.html"),
);

app.get("/docs/:file", (c) => serveFile(c, files ??= docsFiles(), c.req.param("file")));

export default app;
