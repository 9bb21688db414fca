/**
 * `GET /demo`: a page to try the service in a browser (pick or upload two
 * images, click points on the source, see the matches and the heatmap on
 * the target, switch model and localizer). Its files are plain HTML, CSS
 * and JavaScript in `web/demo/`, served as they are (no build step, no CDN),
 * and it calls only the public API.
 *
 * @module
 */

import { Hono } from "hono";
import { fileURLToPath } from "node:url";
import type { AppEnv } from "./app_env.ts";
import { serveFile } from "./_static_files.ts";

/** The page's files, in the repo. */
const PAGE = new URL("../web/demo/", import.meta.url);

const FILES: Readonly<Record<string, string>> = Object.fromEntries(
  ["index.html", "demo.js", "demo.css"].map((name) => [name, fileURLToPath(new URL(name, PAGE))]),
);

const app = new Hono<AppEnv>();

app.get("/demo", (c) => serveFile(c, FILES, "index.html"));

app.get("/demo/:file", (c) => serveFile(c, FILES, c.req.param("file")));

export default app;
