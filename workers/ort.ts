/**
 * The one door to onnxruntime: the only module that imports `onnxruntime-web`.
 *
 * It points the WASM loader at the package's own files (never a CDN), sets the
 * thread count, checks feeds against the session's input names, and when a run
 * fails reports each input's name, dims and type. Later backends (WebGPU,
 * native onnxruntime-node) implement the same {@linkcode InferenceSession}.
 *
 * @example Usage
 * ```ts
 * import { createSession } from "./ort.ts";
 * import { buildCostVolumeGraph } from "../core/cost_volume_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const s = await createSession(buildCostVolumeGraph(), { label: "cost volume" });
 * const out = await s.run({
 *   queries: { data: new Float32Array([1, 0]), dims: [1, 2] },
 *   target: { data: new Float32Array([2, 0, 0, 3]), dims: [2, 2] },
 * });
 * assert.deepEqual(Array.from(out.scores.data), [1, 0]);
 * await s.release();
 * ```
 *
 * @module
 */

import * as ort from "onnxruntime-web";

/** A float32 tensor as plain data. */
export interface TensorData {
  data: Float32Array;
  dims: number[];
}

/** A loaded model, ready to run. */
export interface InferenceSession {
  /** Which backend runs it, e.g. `wasm`. */
  readonly backend: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the model; feeds are checked against `inputNames` first. */
  run(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>>;
  /** Frees the session's memory. */
  release(): Promise<void>;
}

/** Settings applied once per worker before the first session is created. */
export interface OrtSettings {
  /** WASM threads for one session (default: 1). */
  numThreads?: number;
}

let configured = false;

/**
 * Applies process-wide onnxruntime settings; later calls are ignored because
 * the WASM module is instantiated once with the first settings.
 *
 * @param settings Thread count.
 */
export function configureOrt(settings: OrtSettings = {}): void {
  if (configured) return;
  configured = true;
  const dist = new URL("./", import.meta.resolve("onnxruntime-web")).href;
  ort.env.wasm.wasmPaths = dist;
  ort.env.wasm.numThreads = Math.max(1, settings.numThreads ?? 1);
  ort.env.wasm.proxy = false;
  ort.env.logLevel = "error";
}

/**
 * Creates a session on the WASM backend from ONNX bytes.
 *
 * @param model ONNX model bytes.
 * @param options `label` names the model in error messages.
 * @returns A session.
 * @throws {TypeError} When onnxruntime rejects the model.
 */
export async function createSession(
  model: Uint8Array,
  options: { label: string },
): Promise<InferenceSession> {
  configureOrt();
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, {
      executionProviders: ["wasm"],
      graphOptimizationLevel: "all",
    });
  } catch (e) {
    throw new TypeError(`Cannot create a session for ${options.label}: ${message(e)}`);
  }
  return {
    backend: "wasm",
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      const missing = session.inputNames.filter((n) => !(n in feeds));
      const unknown = Object.keys(feeds).filter((n) => !session.inputNames.includes(n));
      if (missing.length || unknown.length) {
        throw new TypeError(
          `Cannot run ${options.label}: missing inputs [${missing}], unknown inputs [${unknown}]; the model takes [${session.inputNames}]`,
        );
      }
      const tensors: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) {
        tensors[name] = new ort.Tensor("float32", t.data, t.dims);
      }
      let out: ort.InferenceSession.OnnxValueMapType;
      try {
        out = await session.run(tensors);
      } catch (e) {
        const described = Object.entries(feeds).map(([n, t]) => `${n} float32[${t.dims}]`);
        throw new TypeError(
          `Cannot run ${options.label} on ${described.join(", ")}: ${message(e)}`,
        );
      }
      const result: Record<string, TensorData> = {};
      for (const name of session.outputNames) {
        const v = out[name] as ort.Tensor;
        if (v.type !== "float32") {
          throw new TypeError(`Cannot read ${options.label} output ${name}: type ${v.type}`);
        }
        result[name] = { data: v.data as Float32Array, dims: [...v.dims] };
        v.dispose?.();
      }
      return result;
    },
    release: () => session.release(),
  };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
