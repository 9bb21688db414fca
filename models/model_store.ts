/**
 * The one call that turns a model id into what a worker needs: the registry
 * lookup, and for downloaded models the verified local file (cached, fetched
 * at most once at a time). Callers never see URLs, cache keys or sessions.
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

import type { ModelRef } from "../workers/protocol.ts";
import type { ModelRegistry } from "./registry.ts";
import { loadModelFile, type LoadModelFileOptions } from "./loader.ts";

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
   * Finds a model and, unless it is embedded, makes its file available locally.
   *
   * @param id Model id.
   * @returns The descriptor and, for file models, the verified local path.
   * @throws {ModelNotFoundError} When the id is unknown.
   * @throws {ModelLoadError} When the file cannot be fetched or verified.
   */
  async resolve(id: string): Promise<ModelRef> {
    const descriptor = this.#registry.get(id);
    if (descriptor.url.startsWith("embedded:")) return { descriptor };
    const file = await loadModelFile(descriptor, this.#options);
    return { descriptor, file };
  }
}
