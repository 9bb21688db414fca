/**
 * Messages between the pool and its inference workers: two discriminated
 * unions on `type`. Every request carries an `id` that its reply repeats;
 * image bytes and feature grids travel in the transfer list. An evaluation's
 * features stay in the worker that extracted them (the `*_resident`
 * operations): jobs name them by key instead of carrying them.
 *
 * @example Usage
 * ```ts
 * import type { WorkerReply } from "./protocol.ts";
 * import assert from "node:assert/strict";
 *
 * const reply: WorkerReply = { type: "ready", id: "1", backend: "wasm" };
 * assert.equal(reply.type, "ready");
 * ```
 *
 * @module
 */

import type { ModelRef } from "../models/model_ref.ts";
import type { PictureBox } from "../pictures/match_picture.ts";
import type { LocalizerOptions } from "../core/localizer_options.ts";
import type { Frame, ResizeMode } from "../core/frame.ts";
import type { ResampleMode } from "../core/model_input.ts";
import type { FeatureGrid } from "../core/feature_grid.ts";
import type { ImageLimits } from "./image_limits.ts";
import type { SerializedError } from "../errors/mod.ts";
import type { BackendPreference } from "./backend.ts";

/**
 * The cost-volume refiner of the model that produced some features: it
 * travels with them, so matching applies it whoever asks for the match.
 */
export interface RefinerRef {
  /** Id of the model whose refiner it is (for messages). */
  model: string;
  /** Local path of the refiner's ONNX file. */
  file: string;
  /** Name of the `[1, source cells, target cells]` input. */
  input: string;
  /** Name of the refined output, same shape. */
  output: string;
}

/** Per-request options of feature extraction. */
export interface ExtractOptions {
  model: ModelRef;
  /** Side of the square model input. */
  resolution: number;
  resize: ResizeMode;
  resample: ResampleMode;
}

/** One `/v1/match` request, as the worker runs it (within the limits it was loaded with). */
export interface MatchJob extends ExtractOptions {
  source: Uint8Array;
  target: Uint8Array;
  /** Query points in source-image pixels, x,y pairs. */
  points: Float32Array;
  localizer: LocalizerOptions;
  /** Also return the first query's score map on the target grid (`/v1/visualize` heatmaps). */
  score_map?: boolean;
}

/**
 * One query's similarity with every target cell, row-major on the target
 * grid (the maps of its probes blended with the localizer's weights).
 */
export interface ScoreMap {
  data: Float32Array;
  width: number;
  height: number;
}

/** Milliseconds spent in each stage. */
export interface StageTimings {
  decode: number;
  preprocess: number;
  extract: number;
  match: number;
}

/** What a match job returns. */
export interface MatchResult {
  /** x, y (target pixels) and score per query. */
  matches: Float32Array;
  grid: { height: number; width: number };
  source_size: { width: number; height: number };
  target_size: { width: number; height: number };
  backend: string;
  timings: StageTimings;
  /** The first query's score map, when the job asked for it. */
  score_map?: ScoreMap;
}

/** One `/v1/visualize` request: a match, drawn as a PNG in the worker that ran it. */
export interface PictureJob extends MatchJob {
  /** Overlay the target with the first query's score map. */
  heatmap: boolean;
}

/** What a picture job returns. */
export interface PictureResult {
  /** The encoded picture. */
  png: Uint8Array;
  /** Where each image lies in the picture. */
  source: PictureBox;
  target: PictureBox;
  backend: string;
}

/** One encoded image to extract features from. */
export interface ExtractJob extends ExtractOptions {
  image: Uint8Array;
}

/** One image's features, with the frame that maps its pixels to the grid. */
export interface ImageFeatures {
  grid: FeatureGrid;
  frame: Frame;
  timings: { decode: number; preprocess: number; extract: number };
  /** The model's cost-volume refiner, when it has one. */
  refiner?: RefinerRef;
}

/** Matches points between two images whose features are already known. */
export interface MatchFeaturesJob {
  source: ImageFeatures;
  target: ImageFeatures;
  /** Query points in source-image pixels, x,y pairs. */
  points: Float32Array;
  localizer: LocalizerOptions;
}

/** x, y (target pixels) and score per query. */
export interface MatchFeaturesResult {
  matches: Float32Array;
  timings: { match: number };
}

/**
 * Extracts an image's features and keeps them in the worker under `key`
 * (see `featureKey` in `./feature_cache.ts`): only a summary comes back.
 */
export interface ExtractResidentJob extends ExtractJob {
  key: string;
}

/** What stays behind in the worker, described: the grid's shape, not its data. */
export interface ResidentSummary {
  key: string;
  grid: { channels: number; height: number; width: number };
  frame: Frame;
  timings: { decode: number; preprocess: number; extract: number };
}

/**
 * Matches pairs of one target whose features all rest in the worker that
 * runs the job: their queries meet the target's cells in one cost-volume
 * session call.
 */
export interface MatchResidentJob {
  /** Key of the target image's features. */
  target: string;
  /** Each pair's source: the key of its features and its query points (source pixels, x,y pairs). */
  sources: { key: string; points: Float32Array }[];
  localizer: LocalizerOptions;
}

/** Per source of a {@linkcode MatchResidentJob}, in its order: x, y (target pixels) and score per point. */
export interface MatchResidentResult {
  matches: Float32Array[];
  timings: { match: number };
}

/** Names resident features. */
export interface ResidentKeyJob {
  key: string;
}

/** Features to keep under `key`, moved from another worker (the grid's buffer is transferred). */
export interface AdoptResidentJob {
  key: string;
  features: ImageFeatures;
}

/** Resident features to drop. */
export interface ForgetResidentJob {
  keys: string[];
}

/** Jobs and results of each operation a worker runs. */
export interface Operations {
  match: { job: MatchJob; result: MatchResult };
  /** A match drawn as a PNG (`POST /v1/visualize`). */
  picture: { job: PictureJob; result: PictureResult };
  /** One image's features, returned to the caller (`POST /v1/features`). */
  extract: { job: ExtractJob; result: ImageFeatures };
  extract_resident: { job: ExtractResidentJob; result: ResidentSummary };
  match_resident: { job: MatchResidentJob; result: MatchResidentResult };
  /** A copy of resident features, to adopt in another worker. */
  copy_resident: { job: ResidentKeyJob; result: ImageFeatures };
  adopt_resident: { job: AdoptResidentJob; result: ResidentKeyJob };
  forget_resident: { job: ForgetResidentJob; result: { forgotten: number } };
}

/** Name of an operation. */
export type Operation = keyof Operations;

/** Settings a worker applies before loading anything: sent once, with its first load. */
export interface WorkerSettings {
  numThreads: number;
  /** `ORT_BACKEND`: resolved by each worker on its machine. */
  backend: BackendPreference;
  /** Byte and pixel limits of every image the worker decodes. */
  limits: ImageLimits;
  /** Bytes of resident features the worker keeps before evicting the least recently used. */
  featureCacheBytes: number;
}

/** Pool -> worker. */
export type WorkerRequest =
  | { type: "load"; id: string; model: ModelRef; settings: WorkerSettings }
  | { [K in Operation]: { type: "run"; id: string; op: K; job: Operations[K]["job"] } }[Operation]
  | { type: "dispose"; id: string };

/** Worker -> pool. */
export type WorkerReply =
  | { type: "ready"; id: string; backend: string }
  | { type: "result"; id: string; result: Operations[Operation]["result"] }
  | { type: "error"; id: string; error: SerializedError };
