/**
 * The door to onnxruntime-node (native, needs `--allow-ffi`): the only module
 * that imports it, lazily, so machines that never use it never load it. It
 * runs the same `.onnx` files as onnxruntime-web, about 4x faster than WASM on
 * ViT-B here.
 *
 * @example Usage
 * ```ts ignore
 * const s = await createNativeSession(bytes, { label: "dinov2-base", numThreads: 2 });
 * ```
 *
 * @module
 */

import type * as OrtNode from "onnxruntime-node";
import { checkFeeds, type InferenceSession, runError, type TensorData } from "./session.ts";

let runtime: Promise<typeof OrtNode> | undefined;

/**
 * Loads onnxruntime-node, once; a failed load is retried on the next call.
 *
 * @returns The module.
 * @throws {Error} When the native library cannot be loaded (no FFI permission, no binary).
 */
export function loadNativeRuntime(): Promise<typeof OrtNode> {
  if (!runtime) {
    runtime = import("onnxruntime-node");
    runtime.catch(() => runtime = undefined);
  }
  return runtime;
}

/**
 * Creates a session on the native CPU runtime.
 *
 * @param model ONNX model bytes.
 * @param options `label` for errors; `numThreads` for intra-op parallelism.
 * @returns A session.
 * @throws {TypeError} When the model is rejected or the runtime cannot load.
 */
export async function createNativeSession(
  model: Uint8Array,
  options: { label: string; numThreads?: number },
): Promise<InferenceSession> {
  let ort: typeof OrtNode;
  try {
    ort = await loadNativeRuntime();
  } catch (e) {
    throw new TypeError(`Cannot load onnxruntime-node: ${(e as Error).message}`);
  }
  let session: OrtNode.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, {
      executionProviders: ["cpu"],
      graphOptimizationLevel: "all",
      intraOpNumThreads: options.numThreads ?? 1,
    });
  } catch (e) {
    throw new TypeError(
      `Cannot create a native session for ${options.label}: ${(e as Error).message}`,
    );
  }
  const label = options.label;
  return {
    backend: "native",
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      checkFeeds(label, session.inputNames, feeds);
      const tensors: Record<string, OrtNode.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) {
        tensors[name] = new ort.Tensor("float32", t.data, t.dims);
      }
      let out: OrtNode.InferenceSession.OnnxValueMapType;
      try {
        out = await session.run(tensors);
      } catch (e) {
        throw runError(label, feeds, e);
      }
      const result: Record<string, TensorData> = {};
      for (const name of session.outputNames) {
        const v = out[name] as OrtNode.Tensor;
        if (v.type !== "float32") {
          throw new TypeError(`Cannot read ${label} output ${name}: type ${v.type}`);
        }
        result[name] = { data: v.data as Float32Array, dims: [...v.dims] };
      }
      return result;
    },
    release: () => session.release(),
  };
}
