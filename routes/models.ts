/**
 * `GET /v1/models`: the models this service can run, with what a client needs
 * to call them (patch size, feature dim, allowed input sides, source).
 *
 * @module
 */

import { Hono } from "hono";
import type { AppEnv } from "./app_env.ts";
import { DEFAULT_MODEL_ID } from "../models/registry.ts";

const app = new Hono<AppEnv>();

app.get("/", (c) => {
  const { registry, pool } = c.var.services;
  const backend = pool.stats().backend;
  const models = registry.list().map((m) => ({
    id: m.id,
    description: m.description ?? null,
    default: m.id === DEFAULT_MODEL_ID,
    source: m.url,
    patch_size: m.patch_size,
    feature_dim: m.feature_dim,
    layout: m.layout,
    prefix_tokens: m.prefix_tokens,
    default_resolution: m.default_resolution,
    resolutions: { ...m.resolutions, multiple_of: m.patch_size },
    normalization: { mean: m.mean, std: m.std },
    license: m.license ?? null,
    backend,
  }));
  return c.json({ models });
});

export default app;
