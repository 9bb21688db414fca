/**
 * The `/v1/match` pipeline as one worker runs it: decode both images, extract
 * their features, compare each query with every target cell (an ONNX cost
 * volume), localize, and map back to target pixels.
 *
 * Models are opened from their descriptors: a backbone is one session; a
 * composite fuses its components' extractors (`CompositeExtractor`); a
 * `head` runs on the grid after either. Sessions are shared: a component
 * used alone and inside a composite is opened once.
 *
 * With a `refiner`, matching computes the dense correlation of every source
 * cell with every target cell (the same cost-volume graph, fed all source
 * cells), runs the refiner on it, and gives each query the bilinear blend of
 * the refined rows of the (up to) four source cells around it (`sampleRows`,
 * the weights `sampleFeatures` uses for query features). The `bilinear`
 * localizer's probes are the four corner cells themselves, so it reads
 * their refined rows directly. With an identity refiner this equals the
 * plain path for `bilinear` and for queries on cells; between cells the
 * plain path compares the blended feature, the refined path blends scores.
 *
 * Coordinates: points are in image pixels with integer values at pixel
 * centres ((0, 0) is the centre of the top-left pixel), the convention of the
 * datasets' keypoints and of the official code.
 *
 * @example Usage
 * ```ts
 * import { MatchPipeline } from "./match_pipeline.ts";
 * import { BUILTIN_MODELS } from "../models/registry.ts";
 * import { DEFAULT_LOCALIZER } from "../core/localizer_options.ts";
 * import { DEFAULT_IMAGE_LIMITS } from "./decode_image.ts";
 * import { encode } from "fast-png";
 * import assert from "node:assert/strict";
 *
 * const data = new Uint8Array(64 * 64 * 3).map((_, i) => (i * 37) % 251);
 * const png = encode({ width: 64, height: 64, data, channels: 3 });
 * const pipeline = new MatchPipeline();
 * const result = await pipeline.run({
 *   source: png, target: png, points: new Float32Array([32, 32]),
 *   model: { descriptor: BUILTIN_MODELS.dsift }, resolution: 64, resize: "stretch", resample: "torch",
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
  RefinerRef,
} from "./protocol.ts";
import type { ModelRef } from "../models/model_ref.ts";
import { decodeImage } from "./decode_image.ts";
import { FeatureExtractor, type GridExtractor } from "./feature_extractor.ts";
import { CompositeExtractor } from "./composite_extractor.ts";
import { FeatureHead } from "./feature_head.ts";
import { CostVolumeRefiner } from "./cost_volume_refiner.ts";
import { ModelLoadError, PointOutOfBoundsError, ResolutionError } from "../errors/mod.ts";
import { createSession } from "./backend.ts";
import type { BackendName, InferenceSession } from "./session.ts";
import type { FeatureGrid } from "../core/feature_grid.ts";
import { sampleRows } from "../core/sample_rows.ts";
import { buildCostVolumeGraph, COST_VOLUME_IO } from "../core/cost_volume_graph.ts";
import { imageToFrame } from "../core/image_to_frame.ts";
import { frameToImage } from "../core/frame_to_image.ts";
import { frameToGrid } from "../core/frame_to_grid.ts";
import { gridToFrame } from "../core/grid_to_frame.ts";
import { sampleFeatures } from "../core/sample_features.ts";
import { localize } from "../core/localize.ts";
import { localizerProbes } from "../core/localizer_probes.ts";
import { DEFAULT_RESAMPLE } from "../core/model_input.ts";

/**
 * Largest dense cost volume a refiner is run on: 2^24 scores (64 MiB of
 * float32), 64 x 64 cells against 64 x 64 cells; the refiner's own
 * intermediates come on top.
 */
export const MAX_REFINED_SCORES = 2 ** 24;

/** Owns a worker's sessions (per backbone, head and refiner; one cost volume) and runs jobs. */
export class MatchPipeline {
  #extractors = new Map<string, Promise<FeatureExtractor>>();
  #models = new Map<string, Promise<GridExtractor>>();
  #heads = new Map<string, Promise<FeatureHead>>();
  #refiners = new Map<string, Promise<CostVolumeRefiner>>();
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
   * Opens (once) the session of a backbone; a failed load is forgotten so a
   * later request can retry it.
   *
   * @param ref The model (a backbone, not a composite).
   * @returns Its extractor, without the model's head.
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

  #refiner(ref: RefinerRef): Promise<CostVolumeRefiner> {
    return once(
      this.#refiners,
      JSON.stringify(ref),
      () => CostVolumeRefiner.create(ref, { backend: this.#backend }),
    );
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
    const fx = await this.model(ref);
    const side = ref.descriptor.resolutions.min;
    const image = { width: side, height: side, data: new Uint8Array(side * side * 3) };
    await fx.extract(image, { resolution: side, resize: "stretch", resample: DEFAULT_RESAMPLE });
    await this.#costVolumeSession();
    const refiner = refinerOf(ref);
    if (refiner) await this.#refiner(refiner);
    return fx.backend;
  }

  /**
   * Decodes one image and extracts its features.
   *
   * @param job The encoded image, model and input options.
   * @returns The feature grid, the frame, stage timings and the model's refiner (if any).
   */
  async extract(job: ExtractJob): Promise<ImageFeatures> {
    const t0 = performance.now();
    const image = await decodeImage(job.image, job.limits);
    const decode = performance.now() - t0;
    const fx = await this.model(job.model);
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
   * Matches query points of the source image on the target image.
   *
   * @param job Both images' features, the points and the localizer. When
   *   the features carry a refiner, the scores come from the refined dense
   *   cost volume (see the module doc).
   * @returns x, y (target pixels) and score per point.
   * @throws {PointOutOfBoundsError} When a point lies outside the source image.
   * @throws {TypeError} When the two images' features carry different refiners.
   * @throws {ResolutionError} When the dense cost volume to refine exceeds
   *   {@linkcode MAX_REFINED_SCORES}.
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
    const scores = a.refiner || b.refiner
      ? await this.#refinedScores(a, b, probes.probes)
      : await this.#scores(
        sampleFeatures(a.grid.data, a.grid, probes.probes),
        a.grid.channels,
        b.grid,
      );
    const located = localize(scores, gridB, probes, job.localizer);
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

  /** Cosine scores of `[Q, channels]` query features against every cell of `target`. */
  async #scores(
    queries: Float32Array,
    channels: number,
    target: FeatureGrid,
  ): Promise<Float32Array> {
    const cells = target.height * target.width;
    const cv = await this.#costVolumeSession();
    const out = await cv.run({
      [COST_VOLUME_IO.queries]: { data: queries, dims: [queries.length / channels, channels] },
      [COST_VOLUME_IO.target]: { data: target.data, dims: [target.channels, cells] },
    });
    return out[COST_VOLUME_IO.output].data;
  }

  /**
   * Score maps of the probes from the refined dense cost volume: every source
   * cell against every target cell, refined, then the rows around each probe
   * blended bilinearly.
   */
  async #refinedScores(
    a: ImageFeatures,
    b: ImageFeatures,
    probes: Float32Array,
  ): Promise<Float32Array> {
    const ref = a.refiner ?? b.refiner!;
    if (a.refiner?.file !== b.refiner?.file) {
      throw new TypeError(
        `Cannot match features with different refiners: source ${
          a.refiner?.model ?? "none"
        }, target ${b.refiner?.model ?? "none"}`,
      );
    }
    const source = a.grid.height * a.grid.width;
    const target = b.grid.height * b.grid.width;
    if (source * target > MAX_REFINED_SCORES) {
      throw new ResolutionError(
        `Cannot refine the cost volume of model \`${ref.model}\`: ${a.grid.height}x${a.grid.width} source cells by ${b.grid.height}x${b.grid.width} target cells make ${
          source * target
        } scores, over the limit of ${MAX_REFINED_SCORES}; use a lower resolution`,
        { details: { scores: source * target, max_scores: MAX_REFINED_SCORES } },
      );
    }
    const dense = await this.#scores(cellRows(a.grid), a.grid.channels, b.grid);
    const refiner = await this.#refiner(ref);
    const refined = await refiner.refine(dense, { source, target });
    return sampleRows(
      refined,
      { height: a.grid.height, width: a.grid.width, columns: target },
      probes,
    );
  }

  /**
   * Runs one `/v1/match` job: both images, then the match.
   *
   * @param job Images, points and options.
   * @returns One x, y, score per point in target pixels, plus timings.
   * @throws {PointOutOfBoundsError} When a point lies outside the source image.
   */
  async run(job: MatchJob): Promise<MatchResult> {
    const options = {
      model: job.model,
      resolution: job.resolution,
      resize: job.resize,
      resample: job.resample,
    };
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
    const fx = await this.model(job.model);
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
    const all = [
      ...this.#extractors.values(),
      ...this.#heads.values(),
      ...this.#refiners.values(),
    ];
    this.#extractors.clear();
    this.#heads.clear();
    this.#refiners.clear();
    this.#models.clear();
    for (const p of all) await (await p.catch(() => undefined))?.release();
    if (this.#costVolume) await (await this.#costVolume).release();
    this.#costVolume = undefined;
  }
}

/** The cached promise of `key`, created by `open` on first use and forgotten if it fails. */
function once<T>(cache: Map<string, Promise<T>>, key: string, open: () => Promise<T>): Promise<T> {
  let p = cache.get(key);
  if (!p) {
    p = open();
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

/** The refiner a model's features carry, from its resolved reference. */
function refinerOf(ref: ModelRef): RefinerRef | undefined {
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

/** A CHW grid as `[cells, C]` rows: the feature of every cell, row-major cells. */
function cellRows(grid: FeatureGrid): Float32Array {
  const cells = grid.height * grid.width;
  const out = new Float32Array(cells * grid.channels);
  for (let c = 0; c < grid.channels; c++) {
    const plane = c * cells;
    for (let i = 0; i < cells; i++) out[i * grid.channels + c] = grid.data[plane + i];
  }
  return out;
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
