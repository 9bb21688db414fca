/**
 * A worker's onnxruntime sessions, each opened once and shared: backbones,
 * composites built from them, feature heads, cost-volume refiners, and the
 * three cost-volume graphs. Models are opened from their descriptors: a
 * backbone is one session; a composite fuses its components' extractors
 * (`CompositeExtractor`); a `head` runs on the grid after either. A
 * component used alone and inside a composite is opened once. A failed open
 * is forgotten, so a later request can retry it.
 *
 * @example Usage
 * ```ts
 * import { ModelSessions } from "./model_sessions.ts";
 * import { BUILTIN_MODELS } from "../models/registry.ts";
 * import assert from "node:assert/strict";
 *
 * const sessions = new ModelSessions();
 * const ref = { descriptor: BUILTIN_MODELS.dsift };
 * assert.equal(await sessions.model(ref), await sessions.model(ref));
 * await sessions.dispose();
 * ```
 *
 * @module
 */

import type { RefinerRef } from "./protocol.ts";
import type { ModelRef } from "../models/model_ref.ts";
import { FeatureExtractor, type GridExtractor } from "./feature_extractor.ts";
import { CompositeExtractor } from "./composite_extractor.ts";
import { FeatureHead } from "./feature_head.ts";
import { CostVolumeRefiner } from "./cost_volume_refiner.ts";
import { ModelLoadError } from "../errors/mod.ts";
import { createSession } from "./backend.ts";
import { DEFAULT_RESAMPLE } from "../core/model_input.ts";
import type { BackendName, InferenceSession } from "./session.ts";
import { buildCostVolumeGraph, type CostVolumePart } from "../core/cost_volume_graph.ts";

/** Owns a worker's sessions. */
export class ModelSessions {
  #extractors = new Map<string, Promise<FeatureExtractor>>();
  #models = new Map<string, Promise<GridExtractor>>();
  #heads = new Map<string, Promise<FeatureHead>>();
  #refiners = new Map<string, Promise<CostVolumeRefiner>>();
  #costVolumes = new Map<CostVolumePart, Promise<InferenceSession>>();
  #backend: BackendName;

  /** @param options `backend` runs every session (default `wasm`). */
  constructor(options: { backend?: BackendName } = {}) {
    this.#backend = options.backend ?? "wasm";
  }

  /** The backend that runs the sessions. */
  get backend(): BackendName {
    return this.#backend;
  }

  /**
   * Opens (once) the session of a backbone.
   *
   * @param ref The model (a backbone, not a composite).
   * @returns Its extractor, without the model's head.
   * @throws {ModelLoadError} When the file is missing or onnxruntime rejects it.
   */
  extractor(ref: ModelRef): Promise<FeatureExtractor> {
    const key = `${ref.descriptor.id}\u0000${ref.file ?? ref.descriptor.url}`;
    return once(
      this.#extractors,
      key,
      () => FeatureExtractor.create(ref, { backend: this.#backend }),
    );
  }

  /**
   * Opens (once) everything a model's features need: its backbone or its
   * components, then its head.
   *
   * @param ref The model, as `ModelStore.resolve` returns it.
   * @returns Its extractor.
   * @throws {ModelLoadError} When a file is missing or onnxruntime rejects it.
   * @throws {TypeError} When a composite's components are not resolved.
   */
  model(ref: ModelRef): Promise<GridExtractor> {
    return once(this.#models, JSON.stringify(ref), () => this.#open(ref));
  }

  async #open(ref: ModelRef): Promise<GridExtractor> {
    const d = ref.descriptor;
    let base: GridExtractor;
    if (d.components !== undefined) {
      const refs = ref.components ?? [];
      if (refs.length !== d.components.length) {
        throw new TypeError(
          `Cannot open composite model \`${d.id}\`: ${refs.length} of its ${d.components.length} components are resolved`,
        );
      }
      const parts = [];
      for (const [i, c] of d.components.entries()) {
        const m = refs[i].descriptor;
        parts.push({
          model: c.model,
          extractor: await this.model(refs[i]),
          weight: c.weight,
          resolution: c.resolution ?? m.default_resolution,
          channels: m.head?.feature_dim ?? m.feature_dim,
        });
      }
      base = new CompositeExtractor(d, parts);
    } else {
      base = await this.extractor(ref);
    }
    if (!d.head) return base;
    const head = await once(
      this.#heads,
      `${d.id}\u0000${ref.headFile}`,
      () => FeatureHead.create(ref, { backend: this.#backend }),
    );
    return head.on(base);
  }

  /**
   * Opens (once) a cost-volume refiner.
   *
   * @param ref The refiner, as features carry it.
   * @returns The refiner.
   * @throws {ModelLoadError} When its file is missing or onnxruntime rejects it.
   */
  refiner(ref: RefinerRef): Promise<CostVolumeRefiner> {
    return once(
      this.#refiners,
      JSON.stringify(ref),
      () => CostVolumeRefiner.create(ref, { backend: this.#backend }),
    );
  }

  /**
   * Opens (once) one of the cost-volume graphs.
   *
   * @param part `"full"`, `"target"` or `"scores"` (see `buildCostVolumeGraph`).
   * @returns Its session.
   */
  costVolume(part: CostVolumePart): Promise<InferenceSession> {
    return once(
      this.#costVolumes,
      part,
      () =>
        createSession(buildCostVolumeGraph({ part }), {
          label: `cost volume (${part})`,
          backend: this.#backend,
        }),
    );
  }

  /**
   * Loads a model and runs it once on a blank image, with the cost-volume
   * sessions and the refiner, so the first request does not pay for session
   * creation and WASM warm-up.
   *
   * @param ref The model.
   * @returns The backend name.
   * @throws {ModelLoadError} When the model cannot be loaded.
   */
  async warm(ref: ModelRef): Promise<string> {
    const fx = await this.model(ref);
    const side = ref.descriptor.resolutions.min;
    const image = { width: side, height: side, data: new Uint8Array(side * side * 3) };
    await fx.extract(image, { resolution: side, resize: "stretch", resample: DEFAULT_RESAMPLE });
    for (const part of ["full", "target", "scores"] as const) await this.costVolume(part);
    const refiner = refinerOf(ref);
    if (refiner) await this.refiner(refiner);
    return fx.backend;
  }

  /** Releases every session. */
  async dispose(): Promise<void> {
    const all: Promise<{ release(): Promise<void> }>[] = [
      ...this.#extractors.values(),
      ...this.#heads.values(),
      ...this.#refiners.values(),
      ...this.#costVolumes.values(),
    ];
    this.#extractors.clear();
    this.#heads.clear();
    this.#refiners.clear();
    this.#models.clear();
    this.#costVolumes.clear();
    for (const p of all) await (await p.catch(() => undefined))?.release();
  }
}

/**
 * The refiner a model's features carry, from its resolved reference.
 *
 * @param ref The model.
 * @returns The refiner, or undefined when the model has none.
 * @throws {ModelLoadError} When the descriptor has a refiner whose file was not resolved.
 *
 * @example Usage
 * ```ts
 * import { refinerOf } from "./model_sessions.ts";
 * import { BUILTIN_MODELS } from "../models/registry.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(refinerOf({ descriptor: BUILTIN_MODELS.dsift }), undefined);
 * ```
 */
export function refinerOf(ref: ModelRef): RefinerRef | undefined {
  const spec = ref.descriptor.refiner;
  if (!spec) return undefined;
  if (ref.refinerFile === undefined) {
    throw new ModelLoadError(
      `Cannot load the refiner of model \`${ref.descriptor.id}\`: its file was not resolved (ModelStore.resolve)`,
    );
  }
  return {
    model: ref.descriptor.id,
    file: ref.refinerFile,
    input: spec.input,
    output: spec.output,
  };
}

/** The cached promise of `key`, created by `open` on first use and forgotten if it fails. */
function once<K, T>(cache: Map<K, Promise<T>>, key: K, open: () => Promise<T>): Promise<T> {
  let p = cache.get(key);
  if (!p) {
    p = open();
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}
