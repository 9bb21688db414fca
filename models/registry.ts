/**
 * The built-in model descriptors, and lookup by id.
 *
 * @example Usage
 * ```ts
 * import { BUILTIN_MODELS, DEFAULT_MODEL_ID, ModelRegistry } from "./registry.ts";
 * import assert from "node:assert/strict";
 *
 * const registry = new ModelRegistry(Object.values(BUILTIN_MODELS));
 * assert.equal(registry.get("dsift").patch_size, 8);
 * assert.equal(registry.get(DEFAULT_MODEL_ID).patch_size, 16);
 * assert.throws(() => registry.get("nope"));
 *
 * const fused = {
 *   id: "fused",
 *   url: "composite:" as const,
 *   components: [{ model: "dsift", weight: 1 }, { model: "sift2", weight: 1 }],
 *   patch_size: 8,
 *   feature_dim: 256,
 *   default_resolution: 256,
 *   resolutions: { min: 64, max: 512 },
 * };
 * assert.throws(
 *   () => new ModelRegistry([BUILTIN_MODELS.dsift, fused]),
 *   /composite model `fused`: component `sift2` is not a registered model/,
 * );
 * ```
 *
 * @module
 */

import type { CompositeDescriptor, ModelDescriptor } from "./descriptor.ts";
import { ModelNotFoundError, ResolutionError } from "../errors/mod.ts";
import { HUB_MODELS } from "./hub_models.ts";
import { NPM_MODELS } from "./npm_models.ts";
import { loadModelsConfig } from "./models_config.ts";

/**
 * Id of the model a request that names none gets, unless the `DEFAULT_MODEL`
 * setting picks another: the best built-in model on the shared PF-WILLOW
 * data (README "Learned models"). Only `service/config.ts` reads it; the
 * configured default then flows down as a value.
 */
export const DEFAULT_MODEL_ID = "mnv3-nanodet-coco";

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
      origin: "built at start-up by this project's models/dsift_graph.ts (handcrafted, no weights)",
    },
    ...NPM_MODELS,
  } satisfies Record<string, ModelDescriptor>,
);

/** Ids of the built-in models. */
export type BuiltinModelId = keyof typeof BUILTIN_MODELS;

/** A set of descriptors addressable by id. */
export class ModelRegistry {
  #models = new Map<string, ModelDescriptor>();

  /**
   * Registers descriptors and checks every composite against the others:
   * each component must be registered, its `resolution` (or default) must be
   * one it accepts, the composite's `feature_dim` must be the sum of the
   * components' output channels (a component's `head.feature_dim` when it
   * has a head), and components must not lead back to the composite.
   *
   * @param models Descriptors; a later one replaces an earlier one of the same id.
   * @throws {TypeError} When a composite fails a check; the message names the
   *   composite and the offending component.
   */
  constructor(models: Iterable<ModelDescriptor>) {
    for (const m of models) this.#models.set(m.id, m);
    checkComposites(this.#models);
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

/** Channels a model's features have once its head (if any) has run. */
function outputDim(d: ModelDescriptor): number {
  return d.head?.feature_dim ?? d.feature_dim;
}

function checkComposites(models: Map<string, ModelDescriptor>): void {
  const composites = [...models.values()].filter((d): d is CompositeDescriptor =>
    d.components !== undefined
  );
  // Depth-first walk: a component already on the path closes a cycle.
  const done = new Set<string>();
  const visit = (id: string, path: string[]): void => {
    if (done.has(id)) return;
    const at = path.indexOf(id);
    if (at >= 0) {
      const cycle = [...path.slice(at), id];
      throw new TypeError(
        `Cannot register composite model \`${cycle[0]}\`: its components form a cycle: ${
          cycle.join(" -> ")
        }`,
      );
    }
    const d = models.get(id);
    if (d?.components) {
      for (const c of d.components) visit(c.model, [...path, id]);
    }
    done.add(id);
  };
  for (const d of composites) visit(d.id, []);
  for (const d of composites) {
    const fail = (reason: string) =>
      new TypeError(`Cannot register composite model \`${d.id}\`: ${reason}`);
    const dims: number[] = [];
    for (const c of d.components) {
      const m = models.get(c.model);
      if (!m) {
        throw fail(
          `component \`${c.model}\` is not a registered model (known: ${
            [...models.keys()].join(", ")
          })`,
        );
      }
      const side = c.resolution ?? m.default_resolution;
      const { min, max } = m.resolutions;
      if (side % m.patch_size !== 0 || side < min || side > max) {
        throw fail(
          `component \`${c.model}\` cannot run at resolution ${side}: it takes multiples of ${m.patch_size} from ${min} to ${max}`,
        );
      }
      dims.push(outputDim(m));
    }
    const sum = dims.reduce((a, b) => a + b, 0);
    if (d.feature_dim !== sum) {
      throw fail(
        `feature_dim is ${d.feature_dim}, but its components give ${dims.join(" + ")} = ${sum}`,
      );
    }
  }
}

/**
 * The service's registry: the built-in models, the hub DINOv2 exports, then
 * the descriptors of `MODELS_CONFIG` (which may replace any of them by id).
 *
 * @param options `configFile`: path of the JSON array of extra descriptors.
 * @returns The registry.
 * @throws {TypeError} When the config file is invalid (see `loadModelsConfig`)
 *   or a composite names a missing component or forms a cycle (see {@linkcode ModelRegistry}).
 */
export async function loadRegistry(options: { configFile?: string } = {}): Promise<ModelRegistry> {
  const extra = options.configFile ? await loadModelsConfig(options.configFile) : [];
  const models = [...Object.values(BUILTIN_MODELS), ...Object.values(HUB_MODELS), ...extra];
  try {
    return new ModelRegistry(models);
  } catch (e) {
    if (!(e instanceof TypeError) || !options.configFile) throw e;
    throw new TypeError(`${e.message} (models config ${options.configFile}, MODELS_CONFIG)`, {
      cause: e,
    });
  }
}
