/**
 * Service settings: the one module that reads environment variables. Entry
 * points (`main.ts`, `eval.ts`) call {@linkcode loadConfig} once with the
 * environment and pass the result on; everything below takes its part of
 * it as arguments. Every value is validated, so a typo fails at start-up
 * instead of running with a default.
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
 * | `FEATURE_CACHE_MB` | `1024` | per worker: features an evaluation keeps where they were extracted |
 * | `MODEL_CACHE` | `.cache/models` | where downloaded models are kept |
 * | `MODEL_OFFLINE` | `0` | `1`: never touch the network, use the cache or local files |
 * | `MODELS_CONFIG` | none | JSON file with an array of extra model descriptors |
 * | `HF_ENDPOINT` | `https://huggingface.co` | where `hf://` URLs resolve |
 * | `MODEL_MAX_BYTES` | 4 GiB | largest model file accepted |
 * | `MODEL_TIMEOUT_MS` | `30000` | longest wait for more bytes of a download |
 * | `DATA_ROOT` | `./data` | folder (or base URL) holding the four datasets |
 * | `DATA_SPAIR`, `DATA_PFPASCAL`, `DATA_PFWILLOW`, `DATA_AP10K` | under `DATA_ROOT` | one dataset's root |
 * | `RUNS_DIR` | `./runs` | where saved evaluation runs are kept |
 *
 * @example Usage
 * ```ts
 * import { loadConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const config = loadConfig({ PORT: "9000", DATA_ROOT: "/data" });
 * assert.equal(config.port, 9000);
 * assert.equal(config.limits.maxPoints, 1000);
 * assert.deepEqual(config.datasets.pfwillow, { root: "/data/pf-willow" });
 * assert.throws(() => loadConfig({ PORT: "eighty" }));
 * ```
 *
 * @module
 */

import { z } from "zod";
import { BACKEND_PREFERENCES } from "../workers/backend.ts";
import { datasetRoots } from "../datasets/roots.ts";

const int = (min: number) => z.coerce.number().int().min(min);

/** The default folder of saved runs (`RUNS_DIR`). */
export const DEFAULT_RUNS_DIR = "./runs";

/** The environment as settings; parses to a {@linkcode ServiceConfig}. */
const ConfigSchema = z.object({
  HOST: z.string().min(1).default("0.0.0.0"),
  PORT: int(0).max(65535).default(8000),
  WORKERS: int(1).optional(),
  ORT_THREADS: int(1).optional(),
  QUEUE_MAX: int(0).default(32),
  DEADLINE_MS: int(1).default(120_000),
  MAX_IMAGE_BYTES: int(1).default(20_000_000),
  MAX_IMAGE_PIXELS: int(1).default(40_000_000),
  MAX_POINTS: int(1).default(1000),
  FEATURE_CACHE_MB: int(16).default(1024),
  ORT_BACKEND: z.enum(BACKEND_PREFERENCES).default("auto"),
  MODEL_CACHE: z.string().min(1).default(".cache/models"),
  MODEL_OFFLINE: z.enum(["0", "1", "true", "false"]).default("0"),
  MODELS_CONFIG: z.string().min(1).optional(),
  HF_ENDPOINT: z.url().optional(),
  MODEL_MAX_BYTES: int(1).optional(),
  MODEL_TIMEOUT_MS: int(1).optional(),
  DATA_ROOT: z.string().optional(),
  DATA_SPAIR: z.string().optional(),
  DATA_PFPASCAL: z.string().optional(),
  DATA_PFWILLOW: z.string().optional(),
  DATA_AP10K: z.string().optional(),
  RUNS_DIR: z.string().optional(),
}).transform((e) => ({
  host: e.HOST,
  port: e.PORT,
  pool: {
    size: e.WORKERS,
    numThreads: e.ORT_THREADS,
    maxQueue: e.QUEUE_MAX,
    deadlineMs: e.DEADLINE_MS,
    backend: e.ORT_BACKEND,
    // Sent to each worker once, when it loads.
    limits: { maxBytes: e.MAX_IMAGE_BYTES, maxPixels: e.MAX_IMAGE_PIXELS },
    featureCacheBytes: e.FEATURE_CACHE_MB * 2 ** 20,
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
  datasets: datasetRoots({
    DATA_ROOT: e.DATA_ROOT,
    DATA_SPAIR: e.DATA_SPAIR,
    DATA_PFPASCAL: e.DATA_PFPASCAL,
    DATA_PFWILLOW: e.DATA_PFWILLOW,
    DATA_AP10K: e.DATA_AP10K,
  }),
  runs: { dir: e.RUNS_DIR || DEFAULT_RUNS_DIR },
}));

/** Validated settings. */
export type ServiceConfig = z.output<typeof ConfigSchema>;

/**
 * Reads settings from an environment.
 *
 * @param env Variables, e.g. `Deno.env.toObject()`.
 * @returns The settings.
 * @throws {RangeError} Naming each invalid variable.
 */
export function loadConfig(env: Record<string, string | undefined>): ServiceConfig {
  const r = ConfigSchema.safeParse(env);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new RangeError(`Cannot start: invalid settings: ${problems.join("; ")}`);
  }
  return r.data;
}
