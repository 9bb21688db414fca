/**
 * `GET /v1/models`: the models this service can run, with what a client needs
 * to call them (patch size, feature dim, allowed input sides, source), and
 * for composites, heads and refiners what they are built from.
 * `GET /v1/models/{id}`: one of them (`404 unknown_model` naming the known ids).
 *
 * @module
 */

import { Hono } from "hono";
import type { AppEnv, Services } from "./app_env.ts";
import type { ModelDescriptor } from "../models/descriptor.ts";
import { DEFAULT_FEATURE_RESIZE } from "../core/resize_feature_map.ts";

const app = new Hono<AppEnv>();

/** What clients see of one model. */
function describe(m: ModelDescriptor, services: Services) {
  const { registry, pool, defaultModel } = services;
  const backend = pool.stats().backend;
  const composite = m.components !== undefined;
  return {
    id: m.id,
    description: m.description ?? null,
    default: m.id === defaultModel,
    kind: composite ? "composite" : "backbone",
    source: m.url,
    origin: m.origin ?? null,
    tfjs: composite || !m.tfjs ? null : m.tfjs,
    patch_size: m.patch_size,
    feature_dim: m.feature_dim,
    output_dim: m.head?.feature_dim ?? m.feature_dim,
    layout: composite ? null : m.layout,
    prefix_tokens: composite ? null : m.prefix_tokens,
    default_resolution: m.default_resolution,
    resolutions: { ...m.resolutions, multiple_of: m.patch_size },
    normalization: composite ? null : { mean: m.mean, std: m.std },
    fuse: composite
      ? {
        components: m.components.map((p) => ({
          model: p.model,
          weight: p.weight,
          resolution: p.resolution ?? registry.get(p.model).default_resolution,
        })),
        align_corners: m.align_corners ?? DEFAULT_FEATURE_RESIZE.alignCorners,
        grid: "resolution / patch_size cells per side; each component runs at its own resolution",
      }
      : null,
    head: m.head
      ? {
        source: m.head.url,
        input: m.head.input,
        output: m.head.output,
        feature_dim: m.head.feature_dim,
      }
      : null,
    refiner: m.refiner
      ? { source: m.refiner.url, input: m.refiner.input, output: m.refiner.output }
      : null,
    license: m.license ?? null,
    backend,
  };
}

app.get("/", (c) => {
  const services = c.var.services;
  return c.json({ models: services.registry.list().map((m) => describe(m, services)) });
});

app.get("/:id", (c) => {
  const services = c.var.services;
  return c.json(describe(services.registry.get(c.req.param("id")), services));
});

export default app;
