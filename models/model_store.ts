/**
 * The one call that turns a model id into what a worker needs: the registry
 * lookup, and for downloaded models the verified local file (cached, fetched
 * at most once at a time). Callers never see URLs, cache keys or sessions.
 * A composite's components are resolved the same way, and a `head` or
 * `refiner` file goes through the same loader (sha256, cache, offline mode)
 * as a backbone's. A backbone with a `tfjs` source is imported (converted
 * once, then served from the cache) and its file is the converted ONNX graph.
 * A backbone with `quantize` is served the variant derived from its file
 * (`./quantized_file.ts`: derived once, cached).
 *
 * @example Usage
 * ```ts
 * import { ModelStore } from "./model_store.ts";
 * import { BUILTIN_MODELS, ModelRegistry } from "./registry.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new ModelStore(new ModelRegistry(Object.values(BUILTIN_MODELS)), {
 *   cacheDir: ".cache/models",
 * });
 * const ref = await store.resolve("dsift");
 * assert.equal(ref.descriptor.id, "dsift");
 * assert.equal(ref.file, undefined);
 * ```
 *
 * @module
 */

import type { ModelRef } from "./model_ref.ts";
import type { ModelRegistry } from "./registry.ts";
import { loadModelFile, type LoadModelFileOptions } from "./loader.ts";
import { importTfjsModel } from "./tfjs_import.ts";
import { quantizedModelFile } from "./quantized_file.ts";

/** Download and cache settings. */
export type ModelStoreOptions = Omit<LoadModelFileOptions, "fetch">;

/** Resolves model ids to loadable references. */
export class ModelStore {
  #registry: ModelRegistry;
  #options: ModelStoreOptions;

  /**
   * @param registry The known models.
   * @param options Cache directory, offline mode, limits, hub endpoint.
   */
  constructor(registry: ModelRegistry, options: ModelStoreOptions) {
    this.#registry = registry;
    this.#options = options;
  }

  /**
   * Finds a model and makes every file it runs available locally: its own
   * (unless it is embedded or a composite), its components' (recursively;
   * the registry rules out cycles), its head's and its refiner's.
   *
   * @param id Model id.
   * @returns The descriptor and the verified local paths.
   * @throws {ModelNotFoundError} When the id (or a component's) is unknown.
   * @throws {ModelLoadError} When a file cannot be fetched or verified.
   * @throws {UnsupportedModelError} When a TF.js source cannot be converted.
   */
  async resolve(id: string): Promise<ModelRef> {
    const descriptor = this.#registry.get(id);
    const options = this.#options;
    const [own, components, headFile, refinerFile] = await Promise.all([
      descriptor.components !== undefined || descriptor.url.startsWith("embedded:")
        ? undefined
        : (descriptor.tfjs
          ? importTfjsModel({ ...descriptor, tfjs: descriptor.tfjs }, options).then((r) => r.path)
          : loadModelFile(descriptor, options)).then((path) =>
            descriptor.quantize
              ? quantizedModelFile(path, descriptor.quantize, { id, cacheDir: options.cacheDir })
                .then((q) => q.path)
              : path
          ),
      descriptor.components !== undefined
        ? Promise.all(descriptor.components.map((c) => this.resolve(c.model)))
        : undefined,
      descriptor.head
        ? loadModelFile({ id, part: "head", ...descriptor.head }, options)
        : undefined,
      descriptor.refiner
        ? loadModelFile({ id, part: "refiner", ...descriptor.refiner }, options)
        : undefined,
    ]);
    const ref: ModelRef = { descriptor };
    if (own !== undefined) ref.file = own;
    if (components !== undefined) ref.components = components;
    if (headFile !== undefined) ref.headFile = headFile;
    if (refinerFile !== undefined) ref.refinerFile = refinerFile;
    return ref;
  }
}
