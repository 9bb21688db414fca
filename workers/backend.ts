/**
 * Which runtime runs the models: `ORT_BACKEND=auto|wasm|webgpu|native`.
 * `auto` takes WebGPU when a hardware adapter exists, else onnxruntime-node
 * when it loads, else WASM. Software adapters (llvmpipe, SwiftShader, any
 * fallback adapter) count as no GPU: they run 11-15x slower than WASM here.
 *
 * @example Usage
 * ```ts
 * import { createSession, resolveBackend } from "./backend.ts";
 * import { buildCostVolumeGraph } from "../core/cost_volume_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const backend = await resolveBackend("wasm");
 * const s = await createSession(buildCostVolumeGraph(), { label: "cv", backend });
 * assert.equal(s.backend, "wasm");
 * await s.release();
 * ```
 *
 * @module
 */

import { BACKEND_NAMES, type BackendName, type InferenceSession } from "./session.ts";
import { configuredThreads, createWebSession } from "./ort.ts";
import { createNativeSession, loadNativeRuntime } from "./ort_native.ts";

/** What a deployment asks for. */
export type BackendPreference = typeof BACKEND_PREFERENCES[number];

/** The backend preferences (`ORT_BACKEND`): `auto` or a backend. */
export const BACKEND_PREFERENCES = Object.freeze(["auto", ...BACKEND_NAMES] as const);

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|softpipe/i;

/**
 * Finds a hardware WebGPU adapter.
 *
 * @returns Its description, or null when there is none (or only a software one).
 */
export async function hardwareGpuAdapter(): Promise<{ description: string } | null> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu || !mayHaveGpuDevice()) return null;
  try {
    const adapter = await gpu.requestAdapter() as {
      isFallbackAdapter?: boolean;
      info?: {
        description?: string;
        device?: string;
        vendor?: string;
        isFallbackAdapter?: boolean;
      };
    } | null;
    if (!adapter) return null;
    const info = adapter.info ?? {};
    const description = [info.vendor, info.device, info.description].filter(Boolean).join(" ");
    if (adapter.isFallbackAdapter || info.isFallbackAdapter || SOFTWARE.test(description)) {
      return null;
    }
    return { description };
  } catch {
    return null;
  }
}

/**
 * On Linux, a hardware adapter needs a device node (`/dev/dri/*` for DRM
 * drivers, `/dev/nvidia*` for NVIDIA's). Without one, asking for an adapter
 * can only find a software one, and the graphics stack prints display
 * warnings (`XDG_RUNTIME_DIR is invalid`, from libwayland while Mesa's
 * Vulkan driver looks) while it looks, so it is not asked.
 */
function mayHaveGpuDevice(): boolean {
  if (Deno.build.os !== "linux") return true;
  try {
    for (const e of Deno.readDirSync("/dev")) {
      if (e.name === "dri" || e.name.startsWith("nvidia")) return true;
    }
    return false;
  } catch {
    // Deno lets only --allow-all read /dev; under `deno task start`'s
    // permissions libc's access() (--allow-ffi) still tells whether the nodes exist.
    return devicesByAccess() ?? true;
  }
}

/** Whether a GPU device node exists, by libc's `access()`; null where libc cannot be called. */
function devicesByAccess(): boolean | null {
  try {
    const libc = Deno.dlopen("libc.so.6", {
      access: { parameters: ["buffer", "i32"], result: "i32" },
    });
    try {
      const exists = (path: string) =>
        libc.symbols.access(new TextEncoder().encode(`${path}\0`), 0 /* F_OK */) === 0;
      return ["/dev/dri", "/dev/nvidiactl", "/dev/nvidia0"].some(exists);
    } finally {
      libc.close();
    }
  } catch {
    return null;
  }
}

/**
 * Turns a preference into the backend to use on this machine.
 *
 * @param preference `auto` or a backend name.
 * @returns The backend.
 * @throws {TypeError} When an explicitly requested backend is not available here.
 */
export async function resolveBackend(preference: BackendPreference): Promise<BackendName> {
  if (preference === "wasm") return "wasm";
  if (preference === "webgpu" || preference === "auto") {
    if (await hardwareGpuAdapter()) return "webgpu";
    if (preference === "webgpu") {
      throw new TypeError("Cannot use ORT_BACKEND=webgpu: no hardware WebGPU adapter");
    }
  }
  try {
    await loadNativeRuntime();
    return "native";
  } catch (e) {
    if (preference === "native") {
      throw new TypeError(
        `Cannot use ORT_BACKEND=native: onnxruntime-node does not load (${(e as Error).message})`,
      );
    }
    return "wasm";
  }
}

/**
 * Creates a session on a backend.
 *
 * @param model ONNX model bytes.
 * @param options `label` for errors; `backend` from {@linkcode resolveBackend}.
 * @returns The session.
 * @throws {TypeError} When the backend rejects the model.
 */
export function createSession(
  model: Uint8Array,
  options: { label: string; backend: BackendName },
): Promise<InferenceSession> {
  if (options.backend === "native") {
    return createNativeSession(model, { label: options.label, numThreads: configuredThreads() });
  }
  return createWebSession(model, { label: options.label, backend: options.backend });
}
