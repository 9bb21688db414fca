/**
 * Service settings, read from environment variables once at start-up and
 * validated, so a typo fails loudly instead of running with a default.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `HOST` | `0.0.0.0` | listen address |
 * | `PORT` | `8000` | listen port (0 picks a free one) |
 * | `WORKERS` | cores | inference workers |
 * | `ORT_THREADS` | `1` | onnxruntime threads per worker (raise it when `WORKERS` is below the core count) |
 * | `ORT_BACKEND` | `auto` | `auto` (hardware WebGPU, else native, else WASM), `wasm`, `webgpu`, `native` |
 * | `QUEUE_MAX` | `32` | requests that may wait for a worker before 503 |
 * | `DEADLINE_MS` | `120000` | per-request deadline before 504 |
 * | `MAX_IMAGE_BYTES` | `20000000` | bytes per image |
 * | `MAX_IMAGE_PIXELS` | `40000000` | pixels per image, checked from the header |
 * | `MAX_POINTS` | `1000` | query points per request |
 * | `MODEL_CACHE` | `.cache/models` | where downloaded models are kept |
 * | `MODEL_OFFLINE` | `0` | `1`: never touch the network, use the cache or local files |
 * | `MODELS_CONFIG` | none | JSON file with an array of extra model descriptors |
 * | `HF_ENDPOINT` | `https://huggingface.co` | where `hf://` URLs resolve |
 * | `MODEL_MAX_BYTES` | 4 GiB | largest model file accepted |
 * | `MODEL_TIMEOUT_MS` | `30000` | longest wait for more bytes of a download |
 *
 * @example Usage
 * ```ts
 * import { loadConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const config = loadConfig({ PORT: "9000" });
 * assert.equal(config.port, 9000);
 * assert.equal(config.limits.maxPoints, 1000);
 * assert.throws(() => loadConfig({ PORT: "eighty" }));
 * ```
 *
 * @module
 */

import { z } from "zod";

const int = (min: number) => z.coerce.number().int().min(min);

const EnvSchema = z.object({
  HOST: z.string().min(1).default("0.0.0.0"),
  PORT: int(0).max(65535).default(8000),
  WORKERS: int(1).optional(),
  ORT_THREADS: int(1).optional(),
  QUEUE_MAX: int(0).default(32),
  DEADLINE_MS: int(1).default(120_000),
  MAX_IMAGE_BYTES: int(1).default(20_000_000),
  MAX_IMAGE_PIXELS: int(1).default(40_000_000),
  MAX_POINTS: int(1).default(1000),
  ORT_BACKEND: z.enum(["auto", "wasm", "webgpu", "native"]).default("auto"),
  MODEL_CACHE: z.string().min(1).default(".cache/models"),
  MODEL_OFFLINE: z.enum(["0", "1", "true", "false"]).default("0"),
  MODELS_CONFIG: z.string().min(1).optional(),
  HF_ENDPOINT: z.url().optional(),
  MODEL_MAX_BYTES: int(1).optional(),
  MODEL_TIMEOUT_MS: int(1).optional(),
});

/** Validated settings. */
export interface ServiceConfig {
  host: string;
  port: number;
  pool: {
    size?: number;
    numThreads?: number;
    maxQueue: number;
    deadlineMs: number;
    backend: "auto" | "wasm" | "webgpu" | "native";
  };
  limits: { maxBytes: number; maxPixels: number; maxPoints: number };
  models: {
    cacheDir: string;
    offline: boolean;
    configFile?: string;
    hfEndpoint?: string;
    maxBytes?: number;
    timeoutMs?: number;
  };
}

/**
 * Reads settings from an environment.
 *
 * @param env Variables, e.g. `Deno.env.toObject()`.
 * @returns The settings.
 * @throws {RangeError} Naming each invalid variable.
 */
export function loadConfig(env: Record<string, string | undefined>): ServiceConfig {
  const r = EnvSchema.safeParse(env);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new RangeError(`Cannot start: invalid settings: ${problems.join("; ")}`);
  }
  const e = r.data;
  return {
    host: e.HOST,
    port: e.PORT,
    pool: {
      size: e.WORKERS,
      numThreads: e.ORT_THREADS,
      maxQueue: e.QUEUE_MAX,
      deadlineMs: e.DEADLINE_MS,
      backend: e.ORT_BACKEND,
    },
    limits: {
      maxBytes: e.MAX_IMAGE_BYTES,
      maxPixels: e.MAX_IMAGE_PIXELS,
      maxPoints: e.MAX_POINTS,
    },
    models: {
      cacheDir: e.MODEL_CACHE,
      offline: e.MODEL_OFFLINE === "1" || e.MODEL_OFFLINE === "true",
      configFile: e.MODELS_CONFIG,
      hfEndpoint: e.HF_ENDPOINT,
      maxBytes: e.MODEL_MAX_BYTES,
      timeoutMs: e.MODEL_TIMEOUT_MS,
    },
  };
}
