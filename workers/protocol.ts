/**
 * Messages between the pool and its inference workers: two discriminated
 * unions on `type`. Every request carries an `id` that its reply repeats;
 * image bytes travel in the transfer list.
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
import type { LocalizerOptions } from "../core/localizer_options.ts";
import type { Frame, ResizeMode } from "../core/frame.ts";
import type { ResampleMode } from "../core/model_input.ts";
import type { FeatureGrid } from "../core/feature_grid.ts";
import type { ImageLimits } from "./decode_image.ts";
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

/** One `/v1/match` request, as the worker runs it. */
export interface MatchJob extends ExtractOptions {
  source: Uint8Array;
  target: Uint8Array;
  /** Query points in source-image pixels, x,y pairs. */
  points: Float32Array;
  localizer: LocalizerOptions;
  limits: ImageLimits;
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
}

/** Features of one encoded image, kept by the caller to match many pairs. */
export interface ExtractJob extends ExtractOptions {
  image: Uint8Array;
  limits: ImageLimits;
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

/** Jobs and results of each operation a worker runs. */
export interface Operations {
  match: { job: MatchJob; result: MatchResult };
  extract: { job: ExtractJob; result: ImageFeatures };
  match_features: { job: MatchFeaturesJob; result: MatchFeaturesResult };
}

/** Name of an operation. */
export type Operation = keyof Operations;

/** Settings a worker applies before loading anything. */
export interface WorkerSettings {
  numThreads: number;
  /** `ORT_BACKEND`: resolved by each worker on its machine. */
  backend: BackendPreference;
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
