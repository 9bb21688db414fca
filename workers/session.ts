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
export type BackendName = typeof BACKEND_NAMES[number];

/** The backends, in a stable order: the one declaration of {@linkcode BackendName}. */
export const BACKEND_NAMES = Object.freeze(["wasm", "webgpu", "native"] as const);

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

/** What the wrapper needs of an onnxruntime (web or node) output tensor. */
interface RuntimeTensor {
  type: string;
  dims: readonly number[];
  data: unknown;
  location?: string;
  getData?(): Promise<unknown>;
}

/** What the wrapper needs of an onnxruntime (web or node) session. */
export interface RuntimeSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, never>): Promise<Record<string, unknown>>;
  release(): Promise<void>;
}

/**
 * Wraps a runtime's session in the service's {@linkcode InferenceSession}:
 * feeds checked first, failures described, float32 outputs read back to the
 * CPU (WebGPU outputs may live on the GPU).
 *
 * @param session The runtime's session.
 * @param options `backend` and `label` for reports; `tensor` builds the runtime's input tensors.
 * @returns The wrapped session.
 */
export function wrapSession(
  session: RuntimeSession,
  options: {
    backend: BackendName;
    label: string;
    tensor: (data: Float32Array, dims: number[]) => unknown;
  },
): InferenceSession {
  const { label } = options;
  return {
    backend: options.backend,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      checkFeeds(label, session.inputNames, feeds);
      const tensors: Record<string, unknown> = {};
      for (const [name, t] of Object.entries(feeds)) tensors[name] = options.tensor(t.data, t.dims);
      let out: Record<string, unknown>;
      try {
        out = await session.run(tensors as Record<string, never>);
      } catch (e) {
        throw runError(label, feeds, e);
      }
      const result: Record<string, TensorData> = {};
      for (const name of session.outputNames) {
        const v = out[name] as RuntimeTensor;
        if (v.type !== "float32") {
          throw new TypeError(`Cannot read ${label} output ${name}: type ${v.type}`);
        }
        const data = v.location && v.location !== "cpu" && v.getData ? await v.getData() : v.data;
        result[name] = { data: data as Float32Array, dims: [...v.dims] };
      }
      return result;
    },
    release: () => session.release(),
  };
}
