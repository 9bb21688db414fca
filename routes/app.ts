/**
 * The HTTP application: middleware, routes and the one error handler. It takes
 * its services as an argument, so tests and `main.ts` build it the same way.
 *
 * @example Usage
 * ```ts ignore
 * import { createApp } from "./app.ts";
 * const app = createApp(services);
 * Deno.serve(app.fetch);
 * ```
 *
 * @module
 */

import { Hono } from "hono";
import { requestId } from "hono/request-id";
import type { AppEnv, Services } from "./app_env.ts";
import { onError } from "./_on_error.ts";
import { RouteNotFoundError } from "../errors/mod.ts";
import health from "./health.ts";
import models from "./models.ts";
import match from "./match.ts";
import features from "./features.ts";
import evaluate from "./evaluate.ts";
import leaderboard from "./leaderboard.ts";
import datasets from "./datasets.ts";

/**
 * Builds the app.
 *
 * @param services Pool, registry, config and model resolution.
 * @returns The Hono app.
 */
export function createApp(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.use(async function provideServices(c, next) {
    c.set("services", services);
    await next();
  });
  app.route("/", health);
  app.route("/v1/models", models);
  app.route("/v1/match", match);
  app.route("/v1/features", features);
  app.route("/v1/evaluate", evaluate);
  app.route("/v1/leaderboard", leaderboard);
  app.route("/v1/datasets", datasets);
  app.notFound((c) =>
    onError(new RouteNotFoundError(`No route for ${c.req.method} ${c.req.path}`), c)
  );
  app.onError(onError);
  return app;
}
