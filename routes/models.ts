/**
 * `GET /v1/models`: the models this service can run, with what a client needs
 * to call them (patch size, feature dim, allowed input sides, source), and
 * for composites, heads and refiners what they are built from.
 * `GET /v1/models/{id}`: one of them (`404 unknown_model` naming the known ids).
 *
 * @module
 */

import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv, Services } from "./app_env.ts";
import { FEATURE_LAYOUTS, type ModelDescriptor, TfjsSourceSchema } from "../models/descriptor.ts";
import { DEFAULT_FEATURE_RESIZE } from "../core/resize_feature_map.ts";

const OnnxPart = z.object({ source: z.string(), input: z.string(), output: z.string() });

/** What clients see of one model (`GET /v1/models/{id}`, each of `GET /v1/models`). */
export const ModelInfoSchema = z.object({
  id: z.string(),
  description: z.string().nullable(),
  default: z.boolean().describe("whether requests that name no model run this one"),
  kind: z.enum(["backbone", "composite"]),
  source: z.string().describe("where the weights come from (hf://, npm:, embedded:, a path...)"),
  origin: z.string().nullable(),
  tfjs: TfjsSourceSchema.nullable(),
  patch_size: z.int(),
  feature_dim: z.int(),
  output_dim: z.int().describe("channels of the features matched (after a head)"),
  layout: z.enum(FEATURE_LAYOUTS).nullable(),
  prefix_tokens: z.int().nullable(),
  default_resolution: z.int(),
  resolutions: z.object({ min: z.int(), max: z.int(), multiple_of: z.int() }),
  normalization: z.object({ mean: z.array(z.number()), std: z.array(z.number()) }).nullable(),
  fuse: z.object({
    components: z.array(z.object({ model: z.string(), weight: z.number(), resolution: z.int() })),
    align_corners: z.boolean(),
    grid: z.string(),
  }).nullable(),
  head: OnnxPart.extend({ feature_dim: z.int() }).nullable(),
  refiner: OnnxPart.nullable(),
  license: z.string().nullable(),
  backend: z.string().nullable().describe(
    "the onnxruntime backend of the workers (null before one loaded)",
  ),
});

/** What clients see of one model. */
export type ModelInfo = z.output<typeof ModelInfoSchema>;

/** The answer of `GET /v1/models`. */
export const ModelListSchema = z.object({ models: z.array(ModelInfoSchema) });

const app = new Hono<AppEnv>();

/** What clients see of one model. */
function describe(m: ModelDescriptor, services: Services): ModelInfo {
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
