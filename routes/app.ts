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
import { cors } from "hono/cors";
import type { AppEnv, Services } from "./app_env.ts";
import { onError } from "./_on_error.ts";
import { MethodNotAllowedError, RouteNotFoundError } from "../errors/mod.ts";
import { accessLog } from "./middleware/access_log.ts";
import { allowedMethods } from "./_method_not_allowed.ts";
import { apiKey } from "./middleware/api_key.ts";
import { rateLimit } from "./middleware/rate_limit.ts";
import health from "./health.ts";
import models from "./models.ts";
import match from "./match.ts";
import visualize from "./visualize.ts";
import features from "./features.ts";
import evaluate from "./evaluate.ts";
import leaderboard from "./leaderboard.ts";
import datasets from "./datasets.ts";
import jobs from "./jobs.ts";
import docs from "./docs.ts";
import demo from "./demo.ts";

/** The read-only listings `OPEN_LISTINGS=1` leaves open. */
const LISTINGS = /^\/v1\/(models|datasets|leaderboard)(\/|$)/;

/**
 * Builds the app.
 *
 * @param services Pool, registry, config and model resolution.
 * @returns The Hono app.
 */
export function createApp(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { access, http } = services.config;
  // First, so a browser's preflight is answered before keys are asked for.
  app.use(cors({
    origin: http.corsOrigins.includes("*") ? "*" : [...http.corsOrigins],
    allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
    allowHeaders: ["Authorization", "Content-Type", "Accept"],
    exposeHeaders: [
      "Retry-After",
      "X-Request-Id",
      "Location",
      "WWW-Authenticate",
      "X-Source-Box",
      "X-Target-Box",
    ],
    credentials: false,
    maxAge: 600,
  }));
  app.use(requestId());
  if (http.accessLog) app.use(accessLog());
  app.use(async function provideServices(c, next) {
    c.set("services", services);
    await next();
  });
  app.use(
    "/v1/*",
    apiKey({
      keys: services.apiKeys,
      isOpen: (method, path) => access.openListings && method === "GET" && LISTINGS.test(path),
    }),
  );
  app.use("/v1/*", rateLimit({ ratePerSecond: access.ratePerSecond, burst: access.burst }));
  app.route("/", health);
  app.route("/v1/models", models);
  app.route("/v1/match", match);
  app.route("/v1/visualize", visualize);
  app.route("/v1/features", features);
  app.route("/v1/evaluate", evaluate);
  app.route("/v1/leaderboard", leaderboard);
  app.route("/v1/datasets", datasets);
  app.route("/v1/jobs", jobs);
  app.route("/", docs);
  app.route("/", demo);
  const allowed = allowedMethods(app.routes);
  app.notFound((c) => {
    const methods = allowed(c.req.path);
    if (methods.length === 0) {
      return onError(new RouteNotFoundError(`No route for ${c.req.method} ${c.req.path}`), c);
    }
    c.header("Allow", methods.join(", "));
    return onError(
      new MethodNotAllowedError(
        `Cannot ${c.req.method} ${c.req.path}: it takes ${methods.join(", ")}`,
        {
          details: { allow: methods },
        },
      ),
      c,
    );
  });
  app.onError(onError);
  return app;
}
