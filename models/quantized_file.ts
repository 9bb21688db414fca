/**
 * The quantized variant of a model file, derived once and cached like a
 * download: a descriptor with `quantize: "int8"` is served from
 *
 * ```
 * <cacheDir>/quantized/<key>/model.onnx        the rewritten graph
 * <cacheDir>/quantized/<key>/model.onnx.json   sidecar: mode, quantizer, source sha256, counts
 * ```
 *
 * where `key` is the sha256 of the mode, {@linkcode QUANTIZER_VERSION} and the
 * source file's sha256: a changed source or quantizer is a new entry. An
 * entry counts only when its sidecar exists and the file has the size it
 * records; files are written under temporary names and renamed into place,
 * so an interrupted derivation never counts. Concurrent calls for one entry
 * share one derivation.
 *
 * @example Usage
 * ```ts
 * import { quantizedModelFile } from "./quantized_file.ts";
 * import { OnnxGraph } from "../core/onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const g = new OnnxGraph("mm");
 * g.input("x", [1, 2]);
 * g.output(g.node("MatMul", ["x", g.constFloat("w", [2, 2], [1, 2, 3, 4])]), [1, 2]);
 * await Deno.writeFile(`${dir}/mm.onnx`, g.toBytes());
 * const first = await quantizedModelFile(`${dir}/mm.onnx`, "int8", { id: "mm", cacheDir: dir });
 * const again = await quantizedModelFile(`${dir}/mm.onnx`, "int8", { id: "mm", cacheDir: dir });
 * assert.equal(first.derived, true);
 * assert.equal(again.derived, false);
 * assert.equal(again.path, first.path);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { ModelLoadError } from "../errors/mod.ts";
import type { QuantizeMode } from "./descriptor.ts";
import { sha256File } from "./file_sha256.ts";
import { quantizeMatMulsInt8, QUANTIZER_VERSION } from "./onnx_quantize.ts";
import { deriveOnce, isDerivedFile, writeDerivedFile } from "./derived_file.ts";

/** What {@linkcode quantizedModelFile} did. */
export interface QuantizedFile {
  /** Absolute path of the quantized graph. */
  path: string;
  /** True when this call derived it; false when the cache held it. */
  derived: boolean;
}

/** The sidecar of a quantized graph. */
export interface QuantizedSidecar {
  mode: QuantizeMode;
  quantizer: number;
  model: string;
  source_sha256: string;
  matmuls_quantized: number;
  matmuls_kept: number;
  bytes: number;
  derived_at: string;
}

const pending = new Map<string, Promise<QuantizedFile>>();

/**
 * Returns the quantized variant of `source`, deriving and caching it once.
 *
 * @param source Local path of the fp32 ONNX file (as the loader returns it).
 * @param mode The variant.
 * @param options `id` of the model (for messages) and the cache root.
 * @returns The variant's path and whether it was derived now.
 * @throws {ModelLoadError} When the source is not a quantizable ONNX model
 *   or the cache cannot be written.
 */
export async function quantizedModelFile(
  source: string,
  mode: QuantizeMode,
  options: { id: string; cacheDir: string },
): Promise<QuantizedFile> {
  const fail = (reason: string, cause?: unknown) =>
    new ModelLoadError(`Cannot load model \`${options.id}\` as ${mode}: ${reason}`, {
      details: { quantize: mode },
      cause,
    });
  const { sha256 } = await sha256File(source);
  const key = createHash("sha256").update(
    JSON.stringify({ mode, quantizer: QUANTIZER_VERSION, source: sha256 }),
  ).digest("hex");
  const dir = join(resolve(options.cacheDir), "quantized", key);
  const dest = join(dir, "model.onnx");
  if (await isDerivedFile(dest, (m) => m.quantizer === QUANTIZER_VERSION)) {
    return { path: dest, derived: false };
  }
  return await deriveOnce(pending, dest, async (): Promise<QuantizedFile> => {
    let result;
    try {
      result = quantizeMatMulsInt8(await Deno.readFile(source));
    } catch (e) {
      throw fail(`its graph cannot be rewritten: ${(e as Error).message}`, e);
    }
    const sidecar: QuantizedSidecar = {
      mode,
      quantizer: QUANTIZER_VERSION,
      model: options.id,
      source_sha256: sha256,
      matmuls_quantized: result.quantized,
      matmuls_kept: result.kept,
      bytes: result.bytes.length,
      derived_at: new Date().toISOString(),
    };
    try {
      await writeDerivedFile(dest, result.bytes, { ...sidecar });
    } catch (e) {
      // The cache path is the server's: the log names it, the answer does not.
      console.error(`model \`${options.id}\`: cannot write the quantized graph ${dest}:`, e);
      throw fail("cannot write the quantized graph in the model cache (MODEL_CACHE)", e);
    }
    return { path: dest, derived: true };
  });
}
