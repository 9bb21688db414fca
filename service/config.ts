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
 * | `MAX_INFLIGHT` | `WORKERS` + `QUEUE_MAX` | requests for the workers admitted at once, counted from before their body is read (beyond: 503) |
 * | `WORKER_RETRY_MS` / `WORKER_RETRY_MAX_MS` | `500` / `30000` | a worker whose model load failed is tried again after this, doubling up to the max |
 * | `DEADLINE_MS` | `120000` | per-request deadline before 504 |
 * | `MAX_IMAGE_BYTES` | `20000000` | bytes per image |
 * | `MAX_IMAGE_PIXELS` | `40000000` | pixels per image, checked from the header |
 * | `MAX_DECODED_BYTES` | 200 MiB | decoded bytes per image (width x height x channels x bytes per sample), from the header |
 * | `MAX_POINTS` | `1000` | query points per request |
 * | `FEATURE_CACHE_MB` | `1024` | per worker: features an evaluation keeps where they were extracted |
 * | `DEFAULT_MODEL` | `mnv3-nanodet-coco` | model of requests that name none (and the one `/readyz` waits for) |
 * | `MODEL_CACHE` | `.cache/models` | where downloaded models (and converted TF.js graphs) are kept |
 * | `MODEL_OFFLINE` | `0` | `1`: never touch the network, use the cache or local files |
 * | `MODELS_CONFIG` | none | JSON file with an array of extra model descriptors |
 * | `HF_TOKEN` | none | sent as a bearer token with `hf://` downloads (gated or private repositories) |
 * | `HF_ENDPOINT` | `https://huggingface.co` | where `hf://` URLs resolve |
 * | `MODEL_MAX_BYTES` | 4 GiB | largest model file accepted |
 * | `MODEL_TIMEOUT_MS` | `30000` | longest wait for more bytes of a download |
 * | `DATA_ROOT` | `./data` | folder (or base URL) holding the four datasets |
 * | `DATA_SPAIR`, `DATA_PFPASCAL`, `DATA_PFWILLOW`, `DATA_AP10K` | under `DATA_ROOT` | one dataset's root |
 * | `DATA_TIMEOUT_MS` | `30000` | longest one dataset read may take (a file, a header, a listing; for URL roots a request, body included) before 503 `dataset_unavailable` |
 * | `RUNS_DIR` | `./runs` | where saved evaluation runs are kept |
 * | `RUNS_MAX` / `RUNS_MAX_BYTES` | `1000` / 512 MiB | most saved runs, and their total size |
 * | `CORS_ORIGINS` | `*` | origins browsers may call from (comma separated); credentials are never allowed |
 * | `ACCESS_LOG` | `1` | one JSON line per request on stdout (`0`: off) |
 * | `MAX_CONNECTIONS` | 3/4 of the open-file limit (at most limit - 256) | connections open at once (beyond: the oldest idle one is closed, or 503) |
 * | `HEADER_TIMEOUT_MS` | `10000` | longest wait for a new connection's request headers |
 * | `BODY_TIMEOUT_MS` | `30000` | longest a request body may take to arrive (the connection is cut) |
 * | `IDLE_TIMEOUT_MS` | `5000` | longest a kept-alive connection waits for its next request |
 * | `MALLOC_TRIM_MS` | `5000` | while no worker is busy, freed heap memory goes back to the OS this often (`0`: off) |
 * | `DRAIN_MS` | `20000` | on SIGTERM/SIGINT, how long requests in flight may finish |
 * | `API_KEYS` | none | bearer keys (comma separated); set, every `/v1` route needs one |
 * | `API_KEYS_FILE` | none | file with one key per line (`#` comments), added to `API_KEYS` |
 * | `OPEN_LISTINGS` | `0` | `1`: the read-only listings (`GET /v1/models`, `/v1/datasets`, `/v1/leaderboard`) need no key |
 * | `KV_PATH` | `./data/semcorr.kv` | the Deno KV file jobs live in; replicas sharing it share the work |
 * | `KV_URL` | none | a remote KV instead (Deno Deploy KV or a `denokv` server; `DENO_KV_ACCESS_TOKEN` authenticates) |
 * | `REPLICA_ID` | host, pid and a random suffix | this replica's name in job shards |
 * | `JOB_SHARD_PAIRS` | `60` | pairs per job shard |
 * | `JOB_LEASE_MS` / `JOB_POLL_MS` | `15000` / `500` | how long a shard claim holds without renewal; how often idle replicas look for work |
 * | `EVALUATE_MAX_PAIRS` | `2000` | most pairs a synchronous `/v1/evaluate` takes (beyond: 413, use `/v1/jobs`) |
 * | `RATE_LIMIT` / `RATE_BURST` | `20` / `60` | requests per second per key (per address without keys), and the burst; `RATE_LIMIT=0` turns it off |
 *
 * @example Usage
 * ```ts
 * import { loadConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const config = loadConfig({ PORT: "9000", DATA_ROOT: "/data" });
 * assert.equal(config.port, 9000);
 * assert.equal(config.limits.maxPoints, 1000);
 * assert.equal(loadConfig({ DEFAULT_MODEL: "dsift" }).models.defaultModel, "dsift");
 * assert.deepEqual(config.datasets.pfwillow, { root: "/data/pf-willow", timeoutMs: 30_000 });
 * assert.deepEqual(
 *   loadConfig({ DATA_SPAIR: "/s", DATA_TIMEOUT_MS: "300" }).datasets.spair,
 *   { root: "/s", timeoutMs: 300 },
 * );
 * assert.throws(() => loadConfig({ DATA_TIMEOUT_MS: "0" }), /DATA_TIMEOUT_MS/);
 * assert.throws(() => loadConfig({ PORT: "eighty" }));
 * ```
 *
 * @module
 */

import { z } from "zod";
import { BACKEND_PREFERENCES } from "../workers/backend.ts";
import { datasetRoots } from "../datasets/roots.ts";
import { DATA_SOURCE_DEFAULTS } from "../datasets/data_source.ts";
import { DEFAULT_MODEL_ID } from "../models/registry.ts";
import { DEFAULT_MAX_DECODED_BYTES } from "../workers/image_limits.ts";

const int = (min: number) => z.coerce.number().int().min(min);

/** The default KV file of jobs (`KV_PATH`): beside the datasets' default root. */
export const DEFAULT_KV_PATH = "./data/semcorr.kv";

/** The default folder of saved runs (`RUNS_DIR`). */
export const DEFAULT_RUNS_DIR = "./runs";

/** `API_KEYS`: keys separated by commas or whitespace. */
function keyList(text: string | undefined): string[] {
  return (text ?? "").split(/[\s,]+/).filter(Boolean);
}

/** The environment as settings; parses to a {@linkcode ServiceConfig}. */
const ConfigSchema = z.object({
  HOST: z.string().min(1).default("0.0.0.0"),
  PORT: int(0).max(65535).default(8000),
  WORKERS: int(1).optional(),
  ORT_THREADS: int(1).optional(),
  QUEUE_MAX: int(0).default(32),
  MAX_INFLIGHT: int(1).optional(),
  DEADLINE_MS: int(1).default(120_000),
  WORKER_RETRY_MS: int(1).default(500),
  WORKER_RETRY_MAX_MS: int(1).default(30_000),
  MAX_IMAGE_BYTES: int(1).default(20_000_000),
  MAX_IMAGE_PIXELS: int(1).default(40_000_000),
  MAX_DECODED_BYTES: int(1).default(DEFAULT_MAX_DECODED_BYTES),
  MAX_POINTS: int(1).default(1000),
  FEATURE_CACHE_MB: int(16).default(1024),
  ORT_BACKEND: z.enum(BACKEND_PREFERENCES).default("auto"),
  DEFAULT_MODEL: z.string().min(1).default(DEFAULT_MODEL_ID),
  MODEL_CACHE: z.string().min(1).default(".cache/models"),
  MODEL_OFFLINE: z.enum(["0", "1", "true", "false"]).default("0"),
  MODELS_CONFIG: z.string().min(1).optional(),
  HF_ENDPOINT: z.url().optional(),
  HF_TOKEN: z.string().min(1).optional(),
  MODEL_MAX_BYTES: int(1).optional(),
  MODEL_TIMEOUT_MS: int(1).optional(),
  DATA_ROOT: z.string().optional(),
  DATA_SPAIR: z.string().optional(),
  DATA_PFPASCAL: z.string().optional(),
  DATA_PFWILLOW: z.string().optional(),
  DATA_AP10K: z.string().optional(),
  DATA_TIMEOUT_MS: int(1).default(DATA_SOURCE_DEFAULTS.timeoutMs),
  RUNS_DIR: z.string().optional(),
  RUNS_MAX: int(0).default(1000),
  RUNS_MAX_BYTES: int(0).default(512 * 1024 * 1024),
  MAX_CONNECTIONS: int(1).optional(),
  CORS_ORIGINS: z.string().default("*"),
  ACCESS_LOG: z.enum(["0", "1", "true", "false"]).default("1"),
  HEADER_TIMEOUT_MS: int(1).default(10_000),
  BODY_TIMEOUT_MS: int(1).default(30_000),
  IDLE_TIMEOUT_MS: int(1).default(5_000),
  DRAIN_MS: int(0).default(20_000),
  MALLOC_TRIM_MS: int(0).default(5_000),
  API_KEYS: z.string().optional(),
  API_KEYS_FILE: z.string().min(1).optional(),
  OPEN_LISTINGS: z.enum(["0", "1", "true", "false"]).default("0"),
  RATE_LIMIT: z.coerce.number().min(0).default(20),
  RATE_BURST: int(1).default(60),
  KV_PATH: z.string().min(1).optional(),
  KV_URL: z.url().optional(),
  REPLICA_ID: z.string().min(1).max(100).optional(),
  JOB_SHARD_PAIRS: int(1).default(60),
  JOB_LEASE_MS: int(100).default(15_000),
  JOB_POLL_MS: int(10).default(500),
  EVALUATE_MAX_PAIRS: int(1).default(2000),
}).transform((e) => ({
  host: e.HOST,
  port: e.PORT,
  http: {
    corsOrigins: e.CORS_ORIGINS.split(/[\s,]+/).filter(Boolean),
    accessLog: e.ACCESS_LOG === "1" || e.ACCESS_LOG === "true",
  },
  server: {
    maxConnections: e.MAX_CONNECTIONS,
    headerTimeoutMs: e.HEADER_TIMEOUT_MS,
    bodyTimeoutMs: e.BODY_TIMEOUT_MS,
    idleTimeoutMs: e.IDLE_TIMEOUT_MS,
    drainMs: e.DRAIN_MS,
    mallocTrimMs: e.MALLOC_TRIM_MS,
  },
  access: {
    keys: keyList(e.API_KEYS),
    keysFile: e.API_KEYS_FILE,
    openListings: e.OPEN_LISTINGS === "1" || e.OPEN_LISTINGS === "true",
    ratePerSecond: e.RATE_LIMIT,
    burst: e.RATE_BURST,
  },
  pool: {
    size: e.WORKERS,
    numThreads: e.ORT_THREADS,
    maxQueue: e.QUEUE_MAX,
    /** Unset: the pool's size plus its queue, worked out where the pool is made. */
    maxInFlight: e.MAX_INFLIGHT,
    deadlineMs: e.DEADLINE_MS,
    retryMs: e.WORKER_RETRY_MS,
    retryMaxMs: Math.max(e.WORKER_RETRY_MS, e.WORKER_RETRY_MAX_MS),
    backend: e.ORT_BACKEND,
    // Sent to each worker once, when it loads.
    limits: {
      maxBytes: e.MAX_IMAGE_BYTES,
      maxPixels: e.MAX_IMAGE_PIXELS,
      maxDecodedBytes: e.MAX_DECODED_BYTES,
    },
    featureCacheBytes: e.FEATURE_CACHE_MB * 2 ** 20,
  },
  limits: {
    maxBytes: e.MAX_IMAGE_BYTES,
    maxPixels: e.MAX_IMAGE_PIXELS,
    maxDecodedBytes: e.MAX_DECODED_BYTES,
    maxPoints: e.MAX_POINTS,
  },
  models: {
    defaultModel: e.DEFAULT_MODEL,
    cacheDir: e.MODEL_CACHE,
    offline: e.MODEL_OFFLINE === "1" || e.MODEL_OFFLINE === "true",
    configFile: e.MODELS_CONFIG,
    hfEndpoint: e.HF_ENDPOINT,
    hfToken: e.HF_TOKEN,
    maxBytes: e.MODEL_MAX_BYTES,
    timeoutMs: e.MODEL_TIMEOUT_MS,
  },
  datasets: datasetRoots({
    DATA_ROOT: e.DATA_ROOT,
    DATA_SPAIR: e.DATA_SPAIR,
    DATA_PFPASCAL: e.DATA_PFPASCAL,
    DATA_PFWILLOW: e.DATA_PFWILLOW,
    DATA_AP10K: e.DATA_AP10K,
  }, { timeoutMs: e.DATA_TIMEOUT_MS }),
  runs: { dir: e.RUNS_DIR || DEFAULT_RUNS_DIR, maxCount: e.RUNS_MAX, maxBytes: e.RUNS_MAX_BYTES },
  jobs: {
    /** A remote KV (KV Connect) wins over the file. */
    kv: e.KV_URL ?? e.KV_PATH ?? DEFAULT_KV_PATH,
    replicaId: e.REPLICA_ID,
    shardPairs: e.JOB_SHARD_PAIRS,
    leaseMs: e.JOB_LEASE_MS,
    pollMs: e.JOB_POLL_MS,
    maxSyncPairs: e.EVALUATE_MAX_PAIRS,
  },
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
