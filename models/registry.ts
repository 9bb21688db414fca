/**
 * The built-in model descriptors, and lookup by id.
 *
 * @example Usage
 * ```ts
 * import { BUILTIN_MODELS, DEFAULT_MODEL_ID, ModelRegistry } from "./registry.ts";
 * import assert from "node:assert/strict";
 *
 * const registry = new ModelRegistry(Object.values(BUILTIN_MODELS));
 * assert.equal(registry.get(DEFAULT_MODEL_ID).patch_size, 8);
 * assert.throws(() => registry.get("nope"));
 * ```
 *
 * @module
 */

import type { ModelDescriptor } from "./descriptor.ts";
import { ModelNotFoundError, ResolutionError } from "./errors.ts";
import { HUB_MODELS } from "./hub_models.ts";
import { loadModelsConfig } from "./descriptor_schema.ts";

/** Id of the model used when a request names none. */
export const DEFAULT_MODEL_ID = "dsift";

/** Descriptors shipped with the service. */
export const BUILTIN_MODELS = Object.freeze(
  {
    dsift: {
      id: "dsift",
      description:
        "Dense SIFT-like descriptor (8 orientations x 4x4 cells of 32 px, RootSIFT) built as an ONNX graph at start-up",
      url: "embedded:dsift",
      input: "pixel_values",
      output: "features",
      layout: "chw",
      patch_size: 8,
      prefix_tokens: 0,
      feature_dim: 128,
      mean: [0, 0, 0],
      std: [1, 1, 1],
      default_resolution: 256,
      resolutions: { min: 64, max: 1024 },
      license: "MIT (this project's code)",
    },
  } satisfies Record<string, ModelDescriptor>,
);

/** Ids of the built-in models. */
export type BuiltinModelId = keyof typeof BUILTIN_MODELS;

/** A set of descriptors addressable by id. */
export class ModelRegistry {
  #models = new Map<string, ModelDescriptor>();

  /**
   * @param models Descriptors; a later one replaces an earlier one of the same id.
   */
  constructor(models: Iterable<ModelDescriptor>) {
    for (const m of models) this.#models.set(m.id, m);
  }

  /** All descriptors, in registration order. */
  list(): ModelDescriptor[] {
    return [...this.#models.values()];
  }

  /**
   * Finds a descriptor.
   *
   * @param id Model id.
   * @returns Its descriptor.
   * @throws {ModelNotFoundError} When no model has that id.
   */
  get(id: string): ModelDescriptor {
    const m = this.#models.get(id);
    if (!m) {
      throw new ModelNotFoundError(`Cannot find model \`${id}\``, {
        details: { known: [...this.#models.keys()] },
      });
    }
    return m;
  }

  /**
   * Resolves the input side for a request, checking it against the model.
   *
   * @param model The descriptor.
   * @param resolution The requested side, or undefined for the model default.
   * @returns The side to use.
   * @throws {ResolutionError} When the side is out of range or not a multiple of the patch.
   */
  resolution(model: ModelDescriptor, resolution?: number): number {
    const side = resolution ?? model.default_resolution;
    const { min, max } = model.resolutions;
    if (side % model.patch_size !== 0 || side < min || side > max) {
      throw new ResolutionError(
        `Cannot use resolution ${side} with model \`${model.id}\`: it takes multiples of ${model.patch_size} from ${min} to ${max}`,
        { details: { patch_size: model.patch_size, min, max } },
      );
    }
    return side;
  }
}

/**
 * The service's registry: the built-in models, the hub DINOv2 exports, then
 * the descriptors of `MODELS_CONFIG` (which may replace any of them by id).
 *
 * @param options `configFile`: path of the JSON array of extra descriptors.
 * @returns The registry.
 * @throws {TypeError} When the config file is invalid (see `loadModelsConfig`).
 */
export async function loadRegistry(options: { configFile?: string } = {}): Promise<ModelRegistry> {
  const extra = options.configFile ? await loadModelsConfig(options.configFile) : [];
  return new ModelRegistry([
    ...Object.values(BUILTIN_MODELS),
    ...Object.values(HUB_MODELS),
    ...extra,
  ]);
}
