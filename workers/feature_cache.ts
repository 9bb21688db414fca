/**
 * The features a worker keeps for an evaluation, so that pairs are matched
 * where their features were made instead of copying grids into a worker for
 * every pair. Bounded in bytes: past the bound the least recently used
 * entries go, and a job that names one of them fails with
 * {@linkcode FeaturesNotResidentError} (the evaluation extracts it again).
 *
 * An entry is an image's features plus, once the image has been a target,
 * its grid normalized per cell (the first half of the cost volume, computed
 * once per image instead of once per pair).
 *
 * @example Usage
 * ```ts
 * import { FeatureCache, featureKey } from "./feature_cache.ts";
 * import { BUILTIN_MODELS } from "../models/registry.ts";
 * import { makeFrame } from "../core/frame.ts";
 * import assert from "node:assert/strict";
 *
 * const cache = new FeatureCache({ maxBytes: 1024 });
 * const key = featureKey("run-1/a.png", {
 *   model: { descriptor: BUILTIN_MODELS.dsift },
 *   resolution: 64,
 *   resize: "stretch",
 *   resample: "torch",
 * });
 * const grid = { data: new Float32Array(128), channels: 2, height: 8, width: 8 };
 * const frame = makeFrame({ width: 64, height: 64 }, { size: 64, mode: "stretch" });
 * cache.set(key, { grid, frame, timings: { decode: 0, preprocess: 0, extract: 0 } });
 * assert.equal(cache.require(key).features.grid, grid);
 * assert.equal(cache.bytes, 512);
 * ```
 *
 * @module
 */

import type { ExtractOptions, ImageFeatures } from "./protocol.ts";
import { FeaturesNotResidentError } from "../errors/mod.ts";

/** Resident features a worker keeps by default: 1 GiB. */
export const DEFAULT_FEATURE_CACHE_BYTES = 2 ** 30;

/** One image's resident features. */
export interface ResidentFeatures {
  features: ImageFeatures;
  /** The grid as `[C, cells]` divided by each cell's norm; set once the image is a target. */
  normalizedTarget?: Float32Array;
}

/**
 * The key of an image's features: the image (any id unique to its bytes,
 * e.g. an evaluation's id and the dataset path) and every extraction option.
 *
 * @param image The image's id.
 * @param options Model, resolution and resize mode.
 * @returns The key.
 *
 * @example Usage
 * ```ts
 * import { featureKey } from "./feature_cache.ts";
 * import { BUILTIN_MODELS } from "../models/registry.ts";
 * import assert from "node:assert/strict";
 *
 * const model = { descriptor: BUILTIN_MODELS.dsift };
 * const a = featureKey("a.png", { model, resolution: 64, resize: "stretch", resample: "torch" });
 * assert.notEqual(a, featureKey("a.png", { model, resolution: 128, resize: "stretch", resample: "torch" }));
 * assert.equal(a, featureKey("a.png", { model, resolution: 64, resize: "stretch", resample: "torch" }));
 * assert.notEqual(a, featureKey("a.png", { model, resolution: 64, resize: "stretch", resample: "pil" }));
 * ```
 */
export function featureKey(image: string, options: ExtractOptions): string {
  const m = options.model;
  return [
    image,
    m.descriptor.id,
    m.file ?? m.descriptor.url,
    options.resolution,
    options.resize,
    options.resample,
  ].join("\u0000");
}

/** A worker's resident features, least recently used first. */
export class FeatureCache {
  #entries = new Map<string, ResidentFeatures>();
  #bytes = 0;
  #maxBytes: number;

  /**
   * @param options `maxBytes`: the bound on grids plus normalized copies
   *   (one entry larger than the bound is still kept, alone).
   */
  constructor(options: { maxBytes: number }) {
    if (!(options.maxBytes > 0)) {
      throw new RangeError(`Cannot bound the feature cache at ${options.maxBytes} bytes`);
    }
    this.#maxBytes = options.maxBytes;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Entries held now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Keeps an image's features, replacing any under the same key, then evicts
   * the least recently used others past the bound.
   *
   * @param key From {@linkcode featureKey}.
   * @param features The features (kept, not copied).
   */
  set(key: string, features: ImageFeatures): void {
    this.delete([key]);
    this.#entries.set(key, { features });
    this.#bytes += features.grid.data.byteLength;
    this.#evict(key);
  }

  /**
   * The entry under `key`, now the most recently used.
   *
   * @param key From {@linkcode featureKey}.
   * @returns The entry.
   * @throws {FeaturesNotResidentError} When the key is not held (never
   *   extracted here, evicted, or held by a worker that was replaced).
   */
  require(key: string): ResidentFeatures {
    const entry = this.#entries.get(key);
    if (!entry) {
      throw new FeaturesNotResidentError(
        `Cannot find resident features \`${
          key.split("\u0000")[0]
        }\` in this worker: evicted or never extracted here`,
        { details: { key } },
      );
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  /**
   * Attaches the normalized grid of an entry used as a target.
   *
   * @param key A held key.
   * @param normalized The grid, `[C, cells]`, divided by each cell's norm.
   * @throws {FeaturesNotResidentError} When the key is not held.
   */
  setNormalizedTarget(key: string, normalized: Float32Array): void {
    const entry = this.require(key);
    this.#bytes += normalized.byteLength - (entry.normalizedTarget?.byteLength ?? 0);
    entry.normalizedTarget = normalized;
    this.#evict(key);
  }

  /**
   * Drops entries.
   *
   * @param keys Keys to drop; keys not held are ignored.
   * @returns How many were held.
   */
  delete(keys: readonly string[]): number {
    let n = 0;
    for (const key of keys) {
      const entry = this.#entries.get(key);
      if (!entry) continue;
      this.#bytes -= entry.features.grid.data.byteLength +
        (entry.normalizedTarget?.byteLength ?? 0);
      this.#entries.delete(key);
      n++;
    }
    return n;
  }

  #evict(keep: string): void {
    for (const key of this.#entries.keys()) {
      if (this.#bytes <= this.#maxBytes) return;
      if (key !== keep) this.delete([key]);
    }
  }
}
