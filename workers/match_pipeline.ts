/**
 * The jobs one worker runs, on its sessions (`./model_sessions.ts`), its
 * matcher (`./feature_matcher.ts`) and its resident features
 * (`./feature_cache.ts`):
 *
 * - `run`: one `/v1/match` request: decode both images, extract, match
 *   (and, when asked, the first query's score map on the target grid);
 * - `extractResident`, `matchResident`: an evaluation's images are
 *   extracted once and stay here; a pair is matched where its features are;
 * - `copyResident`, `adoptResident`: features move to another worker once,
 *   when a pair's two images were extracted in different workers;
 * - `forgetResident`: an evaluation drops what it no longer needs.
 *
 * The image limits are the worker's, given once when it is created.
 *
 * @example Usage
 * ```ts
 * import { MatchPipeline } from "./match_pipeline.ts";
 * import { BUILTIN_MODELS } from "../models/registry.ts";
 * import { DEFAULT_LOCALIZER } from "../core/localizer_options.ts";
 * import { encode } from "fast-png";
 * import assert from "node:assert/strict";
 *
 * const data = new Uint8Array(64 * 64 * 3).map((_, i) => (i * 37) % 251);
 * const png = encode({ width: 64, height: 64, data, channels: 3 });
 * const pipeline = new MatchPipeline();
 * const result = await pipeline.run({
 *   source: png, target: png, points: new Float32Array([32, 32]),
 *   model: { descriptor: BUILTIN_MODELS.dsift }, resolution: 64, resize: "stretch", resample: "torch",
 *   localizer: { ...DEFAULT_LOCALIZER, method: "nn" }, score_map: true,
 * });
 * assert.equal(result.matches.length, 3);
 * const map = result.score_map!;
 * assert.equal(map.data.length, map.width * map.height);
 * // The point's own cell is the best match of an image with itself.
 * assert.ok(Math.max(...map.data) <= 1 + 1e-6);
 * await pipeline.dispose();
 * ```
 *
 * @module
 */

import type {
  AdoptResidentJob,
  ExtractJob,
  ExtractResidentJob,
  ForgetResidentJob,
  ImageFeatures,
  MatchFeaturesJob,
  MatchFeaturesResult,
  MatchJob,
  MatchResidentJob,
  MatchResidentResult,
  MatchResult,
  PictureJob,
  PictureResult,
  ResidentKeyJob,
  ResidentSummary,
} from "./protocol.ts";
import type { ModelRef } from "../models/model_ref.ts";
import { decodeImage } from "./decode_image.ts";
import type { DecodedImage } from "./decoded_image.ts";
import { matchPicture } from "../pictures/match_picture.ts";
import { encodePng } from "../pictures/encode_png.ts";
import { makeFrame } from "../core/frame.ts";
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from "./image_limits.ts";
import { ModelSessions, refinerOf } from "./model_sessions.ts";
import { checkPoints, FeatureMatcher } from "./feature_matcher.ts";
import { DEFAULT_FEATURE_CACHE_BYTES, FeatureCache } from "./feature_cache.ts";
import type { BackendName } from "./session.ts";

export { MAX_REFINED_SCORES } from "./feature_matcher.ts";

/** Options of a {@linkcode MatchPipeline}. */
export interface MatchPipelineOptions {
  /** Runs every session (default `wasm`). */
  backend?: BackendName;
  /** Limits of every image decoded (default `DEFAULT_IMAGE_LIMITS`). */
  limits?: ImageLimits;
  /** Bound of the resident features (default {@linkcode DEFAULT_FEATURE_CACHE_BYTES}). */
  featureCacheBytes?: number;
}

/** Runs a worker's jobs. */
export class MatchPipeline {
  #sessions: ModelSessions;
  #matcher: FeatureMatcher;
  #cache: FeatureCache;
  #limits: ImageLimits;

  /** @param options Backend, image limits and the bound of resident features. */
  constructor(options: MatchPipelineOptions = {}) {
    this.#sessions = new ModelSessions({ backend: options.backend });
    this.#matcher = new FeatureMatcher(this.#sessions);
    this.#cache = new FeatureCache({
      maxBytes: options.featureCacheBytes ?? DEFAULT_FEATURE_CACHE_BYTES,
    });
    this.#limits = options.limits ?? DEFAULT_IMAGE_LIMITS;
  }

  /** The backend that runs this pipeline's sessions. */
  get backend(): BackendName {
    return this.#sessions.backend;
  }

  /**
   * Loads a model and runs it once, so the first request does not pay for it.
   *
   * @param ref The model.
   * @returns The backend name.
   * @throws {ModelLoadError} When the model cannot be loaded.
   */
  warm(ref: ModelRef): Promise<string> {
    return this.#sessions.warm(ref);
  }

  /**
   * Decodes one image and extracts its features.
   *
   * @param job The encoded image, model and input options.
   * @returns The feature grid, the frame, stage timings and the model's refiner (if any).
   * @throws {ImageTooLargeError} When the image exceeds the worker's limits.
   * @throws {ImageDecodeError} When the image does not decode.
   */
  async extract(job: ExtractJob): Promise<ImageFeatures> {
    const { image, ms } = await this.#decode(job.image);
    return await this.#features(image, ms, job);
  }

  async #decode(bytes: Uint8Array): Promise<{ image: DecodedImage; ms: number }> {
    const t0 = performance.now();
    const image = await decodeImage(bytes, this.#limits);
    return { image, ms: performance.now() - t0 };
  }

  /** The features of a decoded image (`decode`: the ms its decoding took, for the timings). */
  async #features(
    image: DecodedImage,
    decode: number,
    job: Omit<ExtractJob, "image">,
  ): Promise<ImageFeatures> {
    const fx = await this.#sessions.model(job.model);
    const out = await fx.extract(image, {
      resolution: job.resolution,
      resize: job.resize,
      resample: job.resample,
    });
    const features: ImageFeatures = {
      grid: out.grid,
      frame: out.frame,
      timings: { decode, ...out.timings },
    };
    const refiner = refinerOf(job.model);
    if (refiner) features.refiner = refiner;
    return features;
  }

  /**
   * Matches query points of the source image on the target image, both
   * given (see `FeatureMatcher.match`).
   *
   * @param job Both images' features, the points and the localizer.
   * @returns x, y (target pixels) and score per point.
   * @throws {PointOutOfBoundsError} When a point lies outside the source image.
   */
  matchFeatures(job: MatchFeaturesJob): Promise<MatchFeaturesResult> {
    return this.#matcher.match(job.source, job.target, job);
  }

  /**
   * Runs one `/v1/match` job: both images, then the match.
   *
   * @param job Images, points and options.
   * @returns One x, y, score per point in target pixels, plus timings, and
   *   the first query's score map when `job.score_map` is set.
   * @throws {PointOutOfBoundsError} When a point lies outside the source image.
   */
  async run(job: MatchJob): Promise<MatchResult> {
    // Check the points before paying for the target's features.
    const a = await this.extract({ ...job, image: job.source });
    checkPoints(job.points, { width: a.frame.imageWidth, height: a.frame.imageHeight });
    const b = await this.extract({ ...job, image: job.target });
    return await this.#match(job, a, b);
  }

  /**
   * Runs one `/v1/visualize` job: the match of {@linkcode run}, drawn here
   * (where both images are decoded anyway) and encoded as a PNG, so the
   * server's thread never decodes or draws an image.
   *
   * @param job Images, points, options and whether to overlay the score map.
   * @returns The PNG and where each image lies in it.
   * @throws {PointOutOfBoundsError} When a point lies outside the source image.
   */
  async picture(job: PictureJob): Promise<PictureResult> {
    const source = await this.#decode(job.source);
    const target = await this.#decode(job.target);
    const a = await this.#features(source.image, source.ms, job);
    checkPoints(job.points, { width: a.frame.imageWidth, height: a.frame.imageHeight });
    const b = await this.#features(target.image, target.ms, job);
    const m = await this.#match({ ...job, score_map: job.heatmap }, a, b);
    const picture = matchPicture(source.image, target.image, {
      points: job.points,
      matches: m.matches,
      heatmap: m.score_map && {
        map: m.score_map,
        frame: makeFrame(m.target_size, { size: job.resolution, mode: job.resize }),
      },
    });
    return {
      png: encodePng(picture),
      source: picture.source,
      target: picture.target,
      backend: m.backend,
    };
  }

  async #match(job: MatchJob, a: ImageFeatures, b: ImageFeatures): Promise<MatchResult> {
    const m = await this.#matcher.match(a, b, job);
    const fx = await this.#sessions.model(job.model);
    const result: MatchResult = {
      matches: m.matches,
      grid: { width: b.grid.width, height: b.grid.height },
      source_size: { width: a.frame.imageWidth, height: a.frame.imageHeight },
      target_size: { width: b.frame.imageWidth, height: b.frame.imageHeight },
      backend: fx.backend,
      timings: {
        decode: a.timings.decode + b.timings.decode,
        preprocess: a.timings.preprocess + b.timings.preprocess,
        extract: a.timings.extract + b.timings.extract,
        match: m.timings.match,
      },
    };
    if (job.score_map) {
      const point = job.points.subarray(0, 2);
      const data = await this.#matcher.scoreMap(a, b, { point, localizer: job.localizer });
      result.score_map = { data, width: b.grid.width, height: b.grid.height };
    }
    return result;
  }

  /**
   * Extracts an image's features and keeps them here under `job.key`.
   *
   * @param job The image, model, input options and key.
   * @returns The key, the grid's shape, the frame and the stage timings.
   * @throws {ImageTooLargeError} When the image exceeds the worker's limits.
   * @throws {ImageDecodeError} When the image does not decode.
   */
  async extractResident(job: ExtractResidentJob): Promise<ResidentSummary> {
    const features = await this.extract(job);
    this.#cache.set(job.key, features);
    return summary(job.key, features);
  }

  /**
   * Matches pairs of one target whose features are all resident here, in one
   * cost-volume session call. The target's grid is normalized the first time
   * the image is a target, then kept with it.
   *
   * @param job The target's key, each source's key and points, the localizer.
   * @returns Per source, x, y (target pixels) and score per point.
   * @throws {FeaturesNotResidentError} When a key is not held here.
   * @throws {PointOutOfBoundsError} When a point lies outside its source image.
   */
  async matchResident(job: MatchResidentJob): Promise<MatchResidentResult> {
    const t0 = performance.now();
    const target = this.#cache.require(job.target);
    const sources = job.sources.map((s) => this.#cache.require(s.key).features);
    let normalizedTarget = target.normalizedTarget;
    if (!normalizedTarget) {
      normalizedTarget = await this.#matcher.normalizeTarget(target.features.grid);
      this.#cache.setNormalizedTarget(job.target, normalizedTarget);
    }
    const matches = await this.#matcher.matchMany(sources, target.features, {
      points: job.sources.map((s) => s.points),
      localizer: job.localizer,
      normalizedTarget,
    });
    return { matches, timings: { match: performance.now() - t0 } };
  }

  /**
   * A copy of resident features, for another worker to adopt (the copy's
   * buffer can then be transferred; the features stay here too).
   *
   * @param job The key.
   * @returns The features, their grid copied.
   * @throws {FeaturesNotResidentError} When the key is not held here.
   */
  copyResident(job: ResidentKeyJob): ImageFeatures {
    const { features } = this.#cache.require(job.key);
    return { ...features, grid: { ...features.grid, data: features.grid.data.slice() } };
  }

  /**
   * Keeps features made by another worker.
   *
   * @param job The key and the features.
   * @returns The key.
   */
  adoptResident(job: AdoptResidentJob): ResidentKeyJob {
    this.#cache.set(job.key, job.features);
    return { key: job.key };
  }

  /**
   * Drops resident features.
   *
   * @param job The keys.
   * @returns How many were held.
   */
  forgetResident(job: ForgetResidentJob): { forgotten: number } {
    return { forgotten: this.#cache.delete(job.keys) };
  }

  /** Releases every session and resident feature. */
  async dispose(): Promise<void> {
    this.#cache = new FeatureCache({ maxBytes: 1 });
    await this.#sessions.dispose();
  }
}

function summary(key: string, f: ImageFeatures): ResidentSummary {
  const { channels, height, width } = f.grid;
  return { key, grid: { channels, height, width }, frame: f.frame, timings: f.timings };
}
