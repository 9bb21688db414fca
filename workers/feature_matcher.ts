/**
 * Matching two images' features: each query point is sampled on the source
 * grid, compared with every target cell (the ONNX cost volume), localized,
 * and mapped back to target pixels. All of it in one worker call, with one
 * session call per pair when the target's grid was normalized beforehand.
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
 * import { FeatureMatcher } from "./feature_matcher.ts";
 * import { ModelSessions } from "./model_sessions.ts";
 * import { DEFAULT_LOCALIZER } from "../core/localizer_options.ts";
 * import { makeFrame } from "../core/frame.ts";
 * import assert from "node:assert/strict";
 *
 * const sessions = new ModelSessions();
 * const matcher = new FeatureMatcher(sessions);
 * // Two 2-channel 2x2 grids, the same: each point finds its own cell.
 * const grid = { data: Float32Array.of(1, 0, 1, 0, 0, 1, 0, 1), channels: 2, height: 2, width: 2 };
 * const frame = makeFrame({ width: 2, height: 2 }, { size: 2, mode: "stretch" });
 * const features = { grid, frame, timings: { decode: 0, preprocess: 0, extract: 0 } };
 * const r = await matcher.match(features, features, {
 *   points: Float32Array.of(0, 0),
 *   localizer: { ...DEFAULT_LOCALIZER, method: "nn" },
 * });
 * assert.deepEqual(Array.from(r.matches.subarray(0, 2)), [0, 0]);
 * await sessions.dispose();
 * ```
 *
 * @module
 */

import type { ImageFeatures, MatchFeaturesResult } from "./protocol.ts";
import type { ModelSessions } from "./model_sessions.ts";
import { PointOutOfBoundsError, ResolutionError } from "../errors/mod.ts";
import type { FeatureGrid } from "../core/feature_grid.ts";
import type { LocalizerName, LocalizerOptions } from "../core/localizer_options.ts";
import { sampleRows } from "../core/sample_rows.ts";
import { COST_VOLUME_IO } from "../core/cost_volume_graph.ts";
import { imageToFrame } from "../core/image_to_frame.ts";
import { frameToImage } from "../core/frame_to_image.ts";
import { frameToGrid } from "../core/frame_to_grid.ts";
import { gridToFrame } from "../core/grid_to_frame.ts";
import { sampleFeatures } from "../core/sample_features.ts";
import { localize } from "../core/localize.ts";
import { localizerProbes } from "../core/localizer_probes.ts";

/**
 * Largest dense cost volume a refiner is run on: 2^24 scores (64 MiB of
 * float32), 64 x 64 cells against 64 x 64 cells; the refiner's own
 * intermediates come on top.
 */
export const MAX_REFINED_SCORES = 2 ** 24;

/** What to match, and how. */
export interface MatchOptions {
  /** Query points in source-image pixels, x,y pairs. */
  points: Float32Array;
  localizer: LocalizerOptions;
  /**
   * The target's grid as `[C, cells]`, already divided by each cell's norm
   * ({@linkcode FeatureMatcher.normalizeTarget}); without it the full
   * cost-volume graph normalizes the target for this pair alone.
   */
  normalizedTarget?: Float32Array;
}

/** Matches features with a worker's sessions. */
export class FeatureMatcher {
  #sessions: ModelSessions;

  /** @param sessions The worker's sessions (cost volumes, refiners). */
  constructor(sessions: ModelSessions) {
    this.#sessions = sessions;
  }

  /**
   * Divides each cell of a grid by its norm: the target half of the cost
   * volume, done once for a target matched many times.
   *
   * @param grid A CHW grid.
   * @returns `[C, cells]`, each cell of unit norm (zero cells stay zero).
   */
  async normalizeTarget(grid: FeatureGrid): Promise<Float32Array> {
    const session = await this.#sessions.costVolume("target");
    const out = await session.run({
      [COST_VOLUME_IO.target]: { data: grid.data, dims: [grid.channels, grid.height * grid.width] },
    });
    return out[COST_VOLUME_IO.normalizedTarget].data;
  }

  /**
   * Matches query points of the source image on the target image.
   *
   * @param source The source image's features.
   * @param target The target image's features. When the features carry a
   *   refiner, the scores come from the refined dense cost volume (see the
   *   module doc).
   * @param options Points, localizer and the target's normalized grid if known.
   * @returns x, y (target pixels) and score per point.
   * @throws {PointOutOfBoundsError} When a point lies outside the source image.
   * @throws {TypeError} When the two images' features carry different refiners.
   * @throws {ResolutionError} When the dense cost volume to refine exceeds
   *   {@linkcode MAX_REFINED_SCORES}.
   */
  async match(
    source: ImageFeatures,
    target: ImageFeatures,
    options: MatchOptions,
  ): Promise<MatchFeaturesResult> {
    const t0 = performance.now();
    const [matches] = await this.matchMany([source], target, {
      ...options,
      points: [options.points],
    });
    return { matches, timings: { match: performance.now() - t0 } };
  }

  /**
   * Matches several sources' query points on one target. Without a refiner
   * the queries of every source with at least two query rows meet the target
   * in one cost-volume session call: the scores of a row do not depend on
   * the other rows of a product of two rows or more, so each source gets
   * what {@linkcode FeatureMatcher.match} computes for it alone, bit for
   * bit. A source with a single query row (one point, not `bilinear`) gets a
   * call of its own.
   *
   * @param sources The sources' features.
   * @param target The target's features.
   * @param options Each source's points (in the order of `sources`), the
   *   localizer and the target's normalized grid if known.
   * @returns Per source: x, y (target pixels, clamped into the target image) and score per point.
   * @throws {PointOutOfBoundsError} When a point lies outside its source image.
   * @throws {TypeError} When a source and the target carry different refiners.
   * @throws {ResolutionError} When a dense cost volume to refine exceeds
   *   {@linkcode MAX_REFINED_SCORES}.
   */
  async matchMany(
    sources: readonly ImageFeatures[],
    target: ImageFeatures,
    options: Omit<MatchOptions, "points"> & { points: readonly Float32Array[] },
  ): Promise<Float32Array[]> {
    const { localizer, normalizedTarget } = options;
    const gridB = { width: target.grid.width, height: target.grid.height };
    const cells = gridB.width * gridB.height;
    const probes = sources.map((a, i) => queryProbes(a, options.points[i], localizer.method));
    const scores: Float32Array[] = [];
    if (sources.some((a) => a.refiner) || target.refiner) {
      for (const [i, a] of sources.entries()) {
        scores.push(await this.#refinedScores(a, target, probes[i].probes, normalizedTarget));
      }
    } else {
      const channels = sources[0].grid.channels;
      const rows = sources.map((a, i) => sampleFeatures(a.grid.data, a.grid, probes[i].probes));
      // onnxruntime computes a one-row product on another kernel (a matrix-vector
      // product) whose sums round differently: a one-row source runs alone, so
      // every source gets the scores a call of its own would give.
      const together = rows.flatMap((r, i) => r.length > channels ? [i] : []);
      const all = together.length
        ? await this.#scores(
          concat(together.map((i) => rows[i])),
          channels,
          target.grid,
          normalizedTarget,
        )
        : new Float32Array(0);
      let offset = 0;
      for (const [i, r] of rows.entries()) {
        const n = (r.length / channels) * cells;
        if (r.length > channels) {
          scores[i] = all.subarray(offset, offset + n);
          offset += n;
        } else scores[i] = await this.#scores(r, channels, target.grid, normalizedTarget);
      }
    }
    return sources.map((_, i) => {
      const located = localize(scores[i], gridB, probes[i], localizer);
      const n = options.points[i].length / 2;
      const xy = new Float32Array(n * 2);
      for (let k = 0; k < n; k++) {
        xy[2 * k] = located[3 * k];
        xy[2 * k + 1] = located[3 * k + 1];
      }
      const inTarget = frameToImage(
        target.frame,
        gridToFrame(xy, { size: target.frame.size, grid: gridB }),
      );
      const matches = new Float32Array(n * 3);
      // A peak in letterbox padding (or at a grid edge past the last pixel)
      // maps outside the picture: a match always names a target pixel.
      const maxX = target.frame.imageWidth - 1;
      const maxY = target.frame.imageHeight - 1;
      for (let k = 0; k < n; k++) {
        matches[3 * k] = Math.min(Math.max(inTarget[2 * k], 0), maxX);
        matches[3 * k + 1] = Math.min(Math.max(inTarget[2 * k + 1], 0), maxY);
        matches[3 * k + 2] = located[3 * k + 2];
      }
      return matches;
    });
  }

  /**
   * One query's score map on the target grid: the similarity of its feature
   * with every target cell, as the localizer sees it (the maps of its probes
   * blended with their weights: the four corner maps for `bilinear`; refined
   * when the features carry a refiner).
   *
   * @param source The source image's features.
   * @param target The target image's features.
   * @param options `point`: one x, y in source pixels; the localizer.
   * @returns `[target height * target width]` scores, row-major.
   * @throws {PointOutOfBoundsError} When the point lies outside the source image.
   * @throws {ResolutionError} When a dense cost volume to refine exceeds
   *   {@linkcode MAX_REFINED_SCORES}.
   */
  async scoreMap(
    source: ImageFeatures,
    target: ImageFeatures,
    options: { point: Float32Array; localizer: LocalizerOptions },
  ): Promise<Float32Array> {
    const { probes, weights } = queryProbes(
      source,
      options.point.subarray(0, 2),
      options.localizer.method,
    );
    const scores = source.refiner || target.refiner
      ? await this.#refinedScores(source, target, probes)
      : await this.#scores(
        sampleFeatures(source.grid.data, source.grid, probes),
        source.grid.channels,
        target.grid,
      );
    const cells = target.grid.width * target.grid.height;
    const map = new Float32Array(cells);
    for (let p = 0; p < weights.length; p++) {
      for (let i = 0; i < cells; i++) map[i] += weights[p] * scores[p * cells + i];
    }
    return map;
  }

  /** Cosine scores of `[Q, channels]` query features against every cell of `target`. */
  async #scores(
    queries: Float32Array,
    channels: number,
    target: FeatureGrid,
    normalized?: Float32Array,
  ): Promise<Float32Array> {
    const cells = target.height * target.width;
    const cv = await this.#sessions.costVolume(normalized ? "scores" : "full");
    const out = await cv.run({
      [COST_VOLUME_IO.queries]: { data: queries, dims: [queries.length / channels, channels] },
      [COST_VOLUME_IO.target]: { data: normalized ?? target.data, dims: [target.channels, cells] },
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
    normalized?: Float32Array,
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
    const dense = await this.#scores(cellRows(a.grid), a.grid.channels, b.grid, normalized);
    const refiner = await this.#sessions.refiner(ref);
    const refined = await refiner.refine(dense, { source, target });
    return sampleRows(
      refined,
      { height: a.grid.height, width: a.grid.width, columns: target },
      probes,
    );
  }
}

/**
 * Checks that query points lie on the source image (within half a pixel of
 * its edge pixels' centres).
 *
 * @param points x, y pairs in image pixels.
 * @param image The source image's size.
 * @throws {PointOutOfBoundsError} Listing (up to 100 of) the indices outside.
 *
 * @example Usage
 * ```ts
 * import { checkPoints } from "./feature_matcher.ts";
 * import { PointOutOfBoundsError } from "../errors/mod.ts";
 * import assert from "node:assert/strict";
 *
 * checkPoints(Float32Array.of(-0.5, 9.5), { width: 10, height: 10 });
 * assert.throws(() => checkPoints(Float32Array.of(10, 0), { width: 10, height: 10 }), PointOutOfBoundsError);
 * ```
 */
export function checkPoints(
  points: Float32Array,
  image: { width: number; height: number },
): void {
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

/** The probes of query points (source pixels) on the source grid, checked and clamped to it. */
function queryProbes(a: ImageFeatures, points: Float32Array, method: LocalizerName) {
  checkPoints(points, { width: a.frame.imageWidth, height: a.frame.imageHeight });
  const gridA = { width: a.grid.width, height: a.grid.height };
  const queries = frameToGrid(imageToFrame(a.frame, points), { size: a.frame.size, grid: gridA });
  clampToGrid(queries, gridA);
  return localizerProbes(queries, gridA, method);
}

/** The arrays end to end (the one array itself when there is one). */
function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
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

// Points within half a pixel of the border map slightly outside the grid;
// sampling them at the border cell is what a user clicking there means.
function clampToGrid(points: Float32Array, grid: { width: number; height: number }): void {
  for (let i = 0; i < points.length; i += 2) {
    points[i] = Math.min(Math.max(points[i], 0), grid.width - 1);
    points[i + 1] = Math.min(Math.max(points[i + 1], 0), grid.height - 1);
  }
}
