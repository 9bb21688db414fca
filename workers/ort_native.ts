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
import { type InferenceSession, wrapSession } from "./session.ts";

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
  return wrapSession(session, {
    backend: "native",
    label: options.label,
    tensor: (data, dims) => new ort.Tensor("float32", data, dims),
  });
}
