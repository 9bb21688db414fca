/**
 * Imports a TF.js graph model as a backbone: fetches (or finds) its
 * `model.json` and weight shards through the model loader (the same
 * sources, checksums, cache and offline rules as ONNX files), converts them
 * with {@linkcode buildTfjsBackbone}, and caches the converted ONNX graph
 * like a download, so a restart converts nothing.
 *
 * Shards are named relative to `model.json` (its `weightsManifest` paths):
 * beside the file for a local path or an `npm:` package file, relative to the
 * URL for `https://` and `hf://`. `tfjs.shard_sha256` pins them; the
 * descriptor's `sha256` / `bytes` pin `model.json`.
 *
 * Cache layout (under the loader's `cacheDir`):
 * ```
 * <cacheDir>/converted/<key>/model.onnx        the converted graph
 * <cacheDir>/converted/<key>/model.onnx.json   sidecar: sources and their sha256, outputs, converter
 * ```
 * `key` is the sha256 of the converter version, the source files' sha256
 * (model.json, then each shard) and every descriptor field the graph depends
 * on (outputs, weights, layout, channel order, pixel scale, input and output
 * names, patch size, feature dim, resolutions). A changed upstream file or
 * descriptor is a new key; an entry counts only when its sidecar exists and
 * the graph has the size it records. Files are written under a temporary
 * name and renamed into place, so an interrupted conversion never counts.
 *
 * @example Usage
 * ```ts
 * import { importTfjsModel } from "./tfjs_import.ts";
 * import { BUILTIN_MODELS } from "./registry.ts";
 * import assert from "node:assert/strict";
 *
 * const cacheDir = await Deno.makeTempDir();
 * const first = await importTfjsModel(BUILTIN_MODELS["mnv3-coco"], { cacheDir });
 * const again = await importTfjsModel(BUILTIN_MODELS["mnv3-coco"], { cacheDir });
 * assert.equal(first.converted, true);
 * assert.equal(again.converted, false);
 * assert.equal(again.path, first.path);
 * await Deno.remove(cacheDir, { recursive: true });
 * ```
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { ModelLoadError, ServiceError } from "../errors/mod.ts";
import { sha256File } from "./file_sha256.ts";
import { deriveOnce, isDerivedFile, writeDerivedFile } from "./derived_file.ts";
import { loadModelFile, type LoadModelFileOptions } from "./loader.ts";
import { parseTfjsModel, type TfjsModel } from "./tfjs_model.ts";
import { decodeTfjsWeights } from "./tfjs_weights.ts";
import { buildTfjsBackbone, type TfjsBackboneDescriptor } from "./tfjs_backbone.ts";

/** Bump when the converter's output changes for the same inputs: old cache entries stop matching. */
export const TFJS_CONVERTER_VERSION = 1;

/** What {@linkcode importTfjsModel} did. */
export interface TfjsImport {
  /** Absolute path of the converted ONNX graph. */
  path: string;
  /** True when this call converted; false when the cache already held the graph. */
  converted: boolean;
  /** Milliseconds spent (conversion, or only hashing the sources on a hit). */
  ms: number;
}

/** The sidecar of a converted graph. */
export interface ConvertedSidecar {
  converter: number;
  model: string;
  sources: { url: string; sha256: string; bytes: number }[];
  outputs: { node: string; channels: number; grid: [number, number] }[];
  dynamic: boolean;
  ops: Record<string, number>;
  bytes: number;
  converted_at: string;
}

const pending = new Map<string, Promise<TfjsImport>>();

/**
 * Returns the converted ONNX graph of a TF.js backbone, converting it once.
 *
 * @param d The descriptor; its `url` names the `model.json`.
 * @param options The loader's options (cache directory, offline mode, limits, fetch, hub endpoint).
 * @returns The graph's path, and whether it was converted now.
 * @throws {ModelLoadError} When a source file cannot be fetched or verified,
 *   `model.json` is not a TF.js graph model, or its shards do not hold the
 *   weights it lists.
 * @throws {UnsupportedModelError} When the graph cannot be converted as the
 *   descriptor asks (an op the importer does not know, named with its node;
 *   a `patch_size` or `feature_dim` that does not fit).
 */
export async function importTfjsModel(
  d: TfjsBackboneDescriptor,
  options: LoadModelFileOptions,
): Promise<TfjsImport> {
  const t0 = performance.now();
  const fail = (reason: string, cause?: unknown) =>
    new ModelLoadError(`Cannot load model \`${d.id}\`: ${reason}`, {
      details: { url: d.url },
      cause,
    });
  const jsonPath = await loadModelFile(d, options);
  let model: TfjsModel;
  let jsonBytes: Uint8Array;
  try {
    jsonBytes = await Deno.readFile(jsonPath);
    model = parseTfjsModel(JSON.parse(new TextDecoder().decode(jsonBytes)));
  } catch (e) {
    throw fail(`${d.url} is not a TF.js graph model: ${(e as Error).message}`, e);
  }
  const shardPaths = await Promise.all(model.shardPaths.map((p) =>
    loadModelFile({
      id: d.id,
      part: `weights shard ${p}`,
      url: siblingUrl(d.url, p),
      sha256: d.tfjs.shard_sha256?.[p],
    }, options)
  ));
  const sources = [
    { url: d.url, ...await sha256File(jsonPath) },
    ...await Promise.all(shardPaths.map(async (path, i) => ({
      url: siblingUrl(d.url, model.shardPaths[i]),
      ...await sha256File(path),
    }))),
  ];
  const key = createHash("sha256").update(JSON.stringify({
    converter: TFJS_CONVERTER_VERSION,
    sources: sources.map((s) => s.sha256),
    graph: {
      tfjs: { ...d.tfjs, shard_sha256: undefined },
      input: d.input,
      output: d.output,
      patch_size: d.patch_size,
      feature_dim: d.feature_dim,
      default_resolution: d.default_resolution,
      resolutions: d.resolutions,
    },
  })).digest("hex");
  const dir = join(resolve(options.cacheDir), "converted", key);
  const dest = join(dir, "model.onnx");
  if (await isDerivedFile(dest, (m) => m.converter === TFJS_CONVERTER_VERSION)) {
    return { path: dest, converted: false, ms: performance.now() - t0 };
  }

  return await deriveOnce(pending, dest, async (): Promise<TfjsImport> => {
    const shards = await Promise.all(shardPaths.map((p) => Deno.readFile(p)));
    let weights;
    try {
      weights = decodeTfjsWeights(model.weightGroups, shards);
    } catch (e) {
      throw fail(`its weight shards do not match model.json: ${(e as Error).message}`, e);
    }
    let built;
    try {
      built = buildTfjsBackbone(d, model, weights);
    } catch (e) {
      if (e instanceof ServiceError) throw e;
      throw fail(`cannot convert its graph: ${(e as Error).message}`, e);
    }
    const sidecar: ConvertedSidecar = {
      converter: TFJS_CONVERTER_VERSION,
      model: d.id,
      sources,
      outputs: built.outputs,
      dynamic: built.dynamic,
      ops: built.ops,
      bytes: built.bytes.length,
      converted_at: new Date().toISOString(),
    };
    try {
      await writeDerivedFile(dest, built.bytes, { ...sidecar });
    } catch (e) {
      // The cache path is the server's: the log names it, the answer does not.
      console.error(`model \`${d.id}\`: cannot write the converted graph in ${dir}:`, e);
      throw fail(`cannot write the converted graph in the model cache (MODEL_CACHE)`, e);
    }
    return { path: dest, converted: true, ms: performance.now() - t0 };
  });
}

/** The URL of a file `path` beside the file `url` names (any source form). */
export function siblingUrl(url: string, path: string): string {
  if (/^https?:/i.test(url)) return new URL(path, url).href;
  return url.slice(0, url.lastIndexOf("/") + 1) + path;
}
