/**
 * The `/v1/match` pipeline as one worker runs it: decode both images, extract
 * their features, compare each query with every target cell (an ONNX cost
 * volume), localize, and map back to target pixels.
 *
 * Coordinates: points are in image pixels with integer values at pixel
 * centres ((0, 0) is the centre of the top-left pixel), the convention of the
 * datasets' keypoints and of the official code.
 *
 * @example Usage
 * ```ts
 * import { MatchPipeline } from "./match_pipeline.ts";
 * import { BUILTIN_MODELS } from "../models/registry.ts";
 * import { DEFAULT_LOCALIZER } from "../core/localize.ts";
 * import { DEFAULT_IMAGE_LIMITS } from "./decode_image.ts";
 * import { encode } from "fast-png";
 * import assert from "node:assert/strict";
 *
 * const data = new Uint8Array(64 * 64 * 3).map((_, i) => (i * 37) % 251);
 * const png = encode({ width: 64, height: 64, data, channels: 3 });
 * const pipeline = new MatchPipeline();
 * const result = await pipeline.run({
 *   source: png, target: png, points: new Float32Array([32, 32]),
 *   model: { descriptor: BUILTIN_MODELS.dsift }, resolution: 64, resize: "stretch",
 *   localizer: { ...DEFAULT_LOCALIZER, method: "nn" }, limits: DEFAULT_IMAGE_LIMITS,
 * });
 * assert.equal(result.matches.length, 3);
 * await pipeline.dispose();
 * ```
 *
 * @module
 */

import type {
  ExtractJob,
  ImageFeatures,
  MatchFeaturesJob,
  MatchFeaturesResult,
  MatchJob,
  MatchResult,
  ModelRef,
} from "./protocol.ts";
import { decodeImage } from "./decode_image.ts";
import { FeatureExtractor } from "./feature_extractor.ts";
import { PointOutOfBoundsError } from "./errors.ts";
import { createSession } from "./backend.ts";
import type { BackendName, InferenceSession } from "./session.ts";
import { buildCostVolumeGraph, COST_VOLUME_IO } from "../core/cost_volume_graph.ts";
import { imageToFrame } from "../core/image_to_frame.ts";
import { frameToImage } from "../core/frame_to_image.ts";
import { frameToGrid } from "../core/frame_to_grid.ts";
import { gridToFrame } from "../core/grid_to_frame.ts";
import { sampleFeatures } from "../core/sample_features.ts";
import { localize } from "../core/localize.ts";
import { localizerProbes } from "../core/localizer_probes.ts";

/** Owns a worker's sessions (one per model, one cost volume) and runs jobs. */
export class MatchPipeline {
  #extractors = new Map<string, Promise<FeatureExtractor>>();
  #costVolume?: Promise<InferenceSession>;
  #backend: BackendName;

  /** @param options `backend` runs every session (default `wasm`). */
  constructor(options: { backend?: BackendName } = {}) {
    this.#backend = options.backend ?? "wasm";
  }

  /** The backend that runs this pipeline's sessions. */
  get backend(): BackendName {
    return this.#backend;
  }

  /**
   * Opens (once) the session of a model; a failed load is forgotten so a later
   * request can retry it.
   *
   * @param ref The model.
   * @returns Its extractor.
   */
  extractor(ref: ModelRef): Promise<FeatureExtractor> {
    const key = `${ref.descriptor.id}\u0000${ref.file ?? ref.descriptor.url}`;
    let p = this.#extractors.get(key);
    if (!p) {
      p = FeatureExtractor.create(ref, { backend: this.#backend });
      p.catch(() => this.#extractors.delete(key));
      this.#extractors.set(key, p);
    }
    return p;
  }

  #costVolumeSession(): Promise<InferenceSession> {
    this.#costVolume ??= createSession(buildCostVolumeGraph(), {
      label: "cost volume",
      backend: this.#backend,
    });
    return this.#costVolume;
  }

  /**
   * Loads a model and runs it once on a blank image, so the first request
   * does not pay for session creation and WASM warm-up.
   *
   * @param ref The model.
   * @returns The backend name.
   */
  async warm(ref: ModelRef): Promise<string> {
    const fx = await this.extractor(ref);
    const side = ref.descriptor.resolutions.min;
    const image = { width: side, height: side, data: new Uint8Array(side * side * 3) };
    await fx.extract(image, { resolution: side, resize: "stretch" });
    await this.#costVolumeSession();
    return fx.backend;
  }

  /**
   * Decodes one image and extracts its features.
   *
   * @param job The encoded image, model and input options.
   * @returns The feature grid, the frame and stage timings.
   */
  async extract(job: ExtractJob): Promise<ImageFeatures> {
    const t0 = performance.now();
    const image = await decodeImage(job.image, job.limits);
    const decode = performance.now() - t0;
    const fx = await this.extractor(job.model);
    const out = await fx.extract(image, { resolution: job.resolution, resize: job.resize });
    return { grid: out.grid, frame: out.frame, timings: { decode, ...out.timings } };
  }

  /**
   * Matches query points of the source image on the target image.
   *
   * @param job Both images' features, the points and the localizer.
   * @returns x, y (target pixels) and score per point.
   * @throws {PointOutOfBoundsError} When a point lies outside the source image.
   */
  async matchFeatures(job: MatchFeaturesJob): Promise<MatchFeaturesResult> {
    const t0 = performance.now();
    const a = job.source;
    const b = job.target;
    checkPoints(job.points, { width: a.frame.imageWidth, height: a.frame.imageHeight });
    const gridA = { width: a.grid.width, height: a.grid.height };
    const gridB = { width: b.grid.width, height: b.grid.height };
    const queries = frameToGrid(imageToFrame(a.frame, job.points), {
      size: a.frame.size,
      grid: gridA,
    });
    clampToGrid(queries, gridA);
    const probes = localizerProbes(queries, gridA, job.localizer.method);
    const probeFeatures = sampleFeatures(a.grid.data, a.grid, probes.probes);
    const nProbes = probes.probes.length / 2;
    const cells = b.grid.height * b.grid.width;
    const cv = await this.#costVolumeSession();
    const out = await cv.run({
      [COST_VOLUME_IO.queries]: { data: probeFeatures, dims: [nProbes, a.grid.channels] },
      [COST_VOLUME_IO.target]: { data: b.grid.data, dims: [b.grid.channels, cells] },
    });
    const located = localize(out[COST_VOLUME_IO.output].data, gridB, probes, job.localizer);
    const n = job.points.length / 2;
    const xy = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      xy[2 * i] = located[3 * i];
      xy[2 * i + 1] = located[3 * i + 1];
    }
    const inTarget = frameToImage(b.frame, gridToFrame(xy, { size: b.frame.size, grid: gridB }));
    const matches = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      matches[3 * i] = inTarget[2 * i];
      matches[3 * i + 1] = inTarget[2 * i + 1];
      matches[3 * i + 2] = located[3 * i + 2];
    }
    return { matches, timings: { match: performance.now() - t0 } };
  }

  /**
   * Runs one `/v1/match` job: both images, then the match.
   *
   * @param job Images, points and options.
   * @returns One x, y, score per point in target pixels, plus timings.
   * @throws {PointOutOfBoundsError} When a point lies outside the source image.
   */
  async run(job: MatchJob): Promise<MatchResult> {
    const options = { model: job.model, resolution: job.resolution, resize: job.resize };
    // Check the points before paying for the target's features.
    const a = await this.extract({ ...options, image: job.source, limits: job.limits });
    checkPoints(job.points, { width: a.frame.imageWidth, height: a.frame.imageHeight });
    const b = await this.extract({ ...options, image: job.target, limits: job.limits });
    const m = await this.matchFeatures({
      source: a,
      target: b,
      points: job.points,
      localizer: job.localizer,
    });
    const fx = await this.extractor(job.model);
    return {
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
  }

  /** Releases every session. */
  async dispose(): Promise<void> {
    const all = [...this.#extractors.values()];
    this.#extractors.clear();
    for (const p of all) await (await p.catch(() => undefined))?.release();
    if (this.#costVolume) await (await this.#costVolume).release();
    this.#costVolume = undefined;
  }
}

function checkPoints(points: Float32Array, image: { width: number; height: number }): void {
  const bad: number[] = [];
  for (let i = 0; i < points.length / 2; i++) {
    const x = points[2 * i];
    const y = points[2 * i + 1];
    if (!(x >= -0.5 && x <= image.width - 0.5 && y >= -0.5 && y <= image.height - 0.5)) {
      bad.push(i);
    }
  }
  if (bad.length) {
    throw new PointOutOfBoundsError(
      `Cannot match ${bad.length} point(s) outside the ${image.width}x${image.height} source image (valid: -0.5 <= x <= width - 0.5, -0.5 <= y <= height - 0.5)`,
      { details: { indices: bad.slice(0, 100), width: image.width, height: image.height } },
    );
  }
}

// Points within half a pixel of the border map slightly outside the grid;
// sampling them at the border cell is what a user clicking there means.
function clampToGrid(points: Float32Array, grid: { width: number; height: number }): void {
  for (let i = 0; i < points.length; i += 2) {
    points[i] = Math.min(Math.max(points[i], 0), grid.width - 1);
    points[i + 1] = Math.min(Math.max(points[i + 1], 0), grid.height - 1);
  }
}
