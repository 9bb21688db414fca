/**
 * The session interface every backend implements, and the checks they share:
 * feeds are compared with the model's input names before a run, and a failed
 * run reports each input's name and dims.
 *
 * @example Usage
 * ```ts
 * import { checkFeeds } from "./session.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => checkFeeds("m", ["a"], { b: { data: new Float32Array(1), dims: [1] } }), /missing inputs \[a\]/);
 * ```
 *
 * @module
 */

/** A float32 tensor as plain data. */
export interface TensorData {
  data: Float32Array;
  dims: number[];
}

/** The backends: onnxruntime-web on WASM or WebGPU, or onnxruntime-node (native). */
export type BackendName = "wasm" | "webgpu" | "native";

/** A loaded model, ready to run. */
export interface InferenceSession {
  /** Which backend runs it. */
  readonly backend: BackendName;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the model; feeds are checked against `inputNames` first. */
  run(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>>;
  /** Frees the session's memory. */
  release(): Promise<void>;
}

/**
 * Checks that feeds name exactly the model's inputs.
 *
 * @param label The model, for the message.
 * @param inputNames The model's inputs.
 * @param feeds The feeds.
 * @throws {TypeError} Naming missing and unknown inputs.
 */
export function checkFeeds(
  label: string,
  inputNames: readonly string[],
  feeds: Record<string, TensorData>,
): void {
  const missing = inputNames.filter((n) => !(n in feeds));
  const unknown = Object.keys(feeds).filter((n) => !inputNames.includes(n));
  if (missing.length || unknown.length) {
    throw new TypeError(
      `Cannot run ${label}: missing inputs [${missing}], unknown inputs [${unknown}]; the model takes [${inputNames}]`,
    );
  }
}

/**
 * The error of a failed run, with each input's name and dims.
 *
 * @param label The model.
 * @param feeds What was fed.
 * @param cause What the runtime threw.
 * @returns A `TypeError` to throw.
 */
export function runError(
  label: string,
  feeds: Record<string, TensorData>,
  cause: unknown,
): TypeError {
  const described = Object.entries(feeds).map(([n, t]) => `${n} float32[${t.dims}]`);
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new TypeError(`Cannot run ${label} on ${described.join(", ")}: ${reason}`, { cause });
}
