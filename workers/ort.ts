/**
 * The door to onnxruntime-web: the only module that imports it. WASM runs
 * everywhere; WebGPU runs where a hardware adapter exists (the WebGPU build is
 * loaded only then).
 *
 * It points the WASM loader at the package's own files (never a CDN) and sets
 * the thread count once per worker.
 *
 * @example Usage
 * ```ts
 * import { createWebSession } from "./ort.ts";
 * import { buildCostVolumeGraph } from "../core/cost_volume_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const s = await createWebSession(buildCostVolumeGraph(), { label: "cost volume" });
 * const out = await s.run({
 *   queries: { data: new Float32Array([1, 0]), dims: [1, 2] },
 *   target: { data: new Float32Array([2, 0, 0, 3]), dims: [2, 2] },
 * });
 * assert.deepEqual(Array.from(out.scores.data), [1, 0]);
 * assert.equal(s.backend, "wasm");
 * await s.release();
 * ```
 *
 * @module
 */

import * as ort from "onnxruntime-web";
import { type InferenceSession, wrapSession } from "./session.ts";

/** Settings applied once per worker before the first session is created. */
export interface OrtSettings {
  /** WASM threads for one session (default: 1). */
  numThreads?: number;
}

let configured = false;
let threads = 1;

/**
 * Applies process-wide onnxruntime-web settings; later calls are ignored
 * because the WASM module is instantiated once with the first settings.
 *
 * @param settings Thread count.
 */
export function configureOrt(settings: OrtSettings = {}): void {
  if (configured) return;
  configured = true;
  threads = Math.max(1, settings.numThreads ?? 1);
  const dist = new URL("./", import.meta.resolve("onnxruntime-web")).href;
  ort.env.wasm.wasmPaths = dist;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = "error";
}

/** The configured WASM thread count (for the native backend to match). */
export function configuredThreads(): number {
  return threads;
}

type OrtModule = typeof ort;
let webgpu: Promise<OrtModule> | undefined;

/**
 * Creates a session on onnxruntime-web.
 *
 * @param model ONNX model bytes.
 * @param options `label` names the model in errors; `backend` is `wasm` (default) or `webgpu`.
 * @returns A session.
 * @throws {TypeError} When onnxruntime rejects the model.
 */
export async function createWebSession(
  model: Uint8Array,
  options: { label: string; backend?: "wasm" | "webgpu" },
): Promise<InferenceSession> {
  configureOrt();
  const backend = options.backend ?? "wasm";
  let runtime: OrtModule = ort;
  if (backend === "webgpu") {
    webgpu ??= import("onnxruntime-web/webgpu").then((m) => {
      m.env.wasm.wasmPaths = ort.env.wasm.wasmPaths;
      // The browser build fetches a threaded loader into a blob: URL, which Deno
      // refuses to import; the GPU does the work, so one thread loses nothing.
      m.env.wasm.numThreads = 1;
      m.env.logLevel = "error";
      return m as unknown as OrtModule;
    });
    runtime = await webgpu;
  }
  let session: ort.InferenceSession;
  // The WASM loader swaps globalThis.Worker for Node's class when it starts its
  // threads; Deno workers spawned later (a pool in this thread) need the original.
  const DenoWorker = globalThis.Worker;
  try {
    session = await runtime.InferenceSession.create(model, {
      executionProviders: [backend],
      graphOptimizationLevel: "all",
    });
  } catch (e) {
    throw new TypeError(`Cannot create a ${backend} session for ${options.label}: ${message(e)}`);
  } finally {
    globalThis.Worker = DenoWorker;
  }
  return wrapSession(session, {
    backend,
    label: options.label,
    tensor: (data, dims) => new runtime.Tensor("float32", data, dims),
  });
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
