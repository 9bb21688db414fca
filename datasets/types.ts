// This module is browser compatible.
/**
 * The shapes every dataset reader returns: a {@linkcode DatasetSlice} of
 * {@linkcode DatasetPair}s.
 *
 * Conventions shared by all readers:
 * - Keypoints are flat `Float32Array`s of `x, y` pairs, in the source image's
 *   own pixels, aligned by index between source and target.
 * - Paths (`source`, `target`) are relative to the dataset root, with `/`,
 *   exactly as the dataset writes them.
 * - `threshold` is the PCK threshold base in pixels of the target image (the
 *   `alpha` of PCK multiplies it); `null` when it cannot be known, e.g. an
 *   image-size threshold for an image that is not on disk.
 *
 * @example Usage
 * ```ts
 * import type { DatasetPair } from "./types.ts";
 * import assert from "node:assert/strict";
 *
 * const pair: DatasetPair = {
 *   pair_id: "car(G)/a-b",
 *   category: "car(G)",
 *   source: "PF-dataset/car(G)/a.png",
 *   target: "PF-dataset/car(G)/b.png",
 *   source_kps: new Float32Array([1, 2]),
 *   target_kps: new Float32Array([3, 4]),
 *   source_size: null,
 *   target_size: { width: 300, height: 200 },
 *   threshold_base: "bbox-kp",
 *   threshold: 0,
 * };
 * assert.equal(pair.source_kps.length, pair.target_kps.length);
 * ```
 *
 * @module
 */

/** The benchmark datasets the service knows, by the official code's ids. */
export const DATASET_IDS = Object.freeze(["spair", "pfpascal", "pfwillow", "ap10k"] as const);

/** One of {@linkcode DATASET_IDS}. */
export type DatasetId = typeof DATASET_IDS[number];

/**
 * What the PCK threshold is measured on:
 * - `bbox`: max(w, h) of the target object's annotated box (SPair-71k, AP-10K).
 * - `bbox-kp`: max(w, h) of the tight box around the target keypoints (PF-WILLOW).
 * - `img`: max(H, W) of the target image (PF-PASCAL).
 */
export type ThresholdBase = "bbox" | "bbox-kp" | "img";

/**
 * How stored keypoint coordinates are turned into the pair's keypoints:
 * - `raw`: as stored (DHPF, CATs, CNNGeometric, GeoAware-SC).
 * - `zero-based`: minus 1, for files written with MATLAB's 1-based origin.
 * - `floor`: rounded down (from float32), as the survey's official PF-WILLOW
 *   and PF-PASCAL loaders do (the default of both).
 */
export type KeypointConvention = typeof KEYPOINT_CONVENTIONS[number];

/** The keypoint conventions, in a stable order. */
export const KEYPOINT_CONVENTIONS = Object.freeze(["raw", "zero-based", "floor"] as const);

/** Width and height of an image in pixels. */
export interface ImageSize {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** A box `[xmin, ymin, xmax, ymax]` in image pixels. */
export type Box = [number, number, number, number];

/** SPair-71k's difficulty flags of a pair, as stored. */
export interface PairDifficulty {
  /** 0 (none) to 2 (large) change of viewpoint. */
  viewpoint_variation: number;
  /** 0 to 2 change of scale. */
  scale_variation: number;
  /** 0 to 3 truncation of either object. */
  truncation: number;
  /** 0 to 3 occlusion of either object. */
  occlusion: number;
  /** 1 when the pair is a mirrored view. */
  mirror: number;
}

/** One benchmark pair: source and target image with aligned keypoints. */
export interface DatasetPair {
  /** Stable, unique id within the dataset. */
  pair_id: string;
  /** Category (class, species) the pair belongs to. */
  category: string;
  /** Source image path relative to the dataset root, as the dataset writes it. */
  source: string;
  /** Target image path relative to the dataset root. */
  target: string;
  /** Source keypoints, `x, y` pairs. */
  source_kps: Float32Array;
  /** Target keypoints, aligned with `source_kps`. */
  target_kps: Float32Array;
  /** Source image size; `null` when unknown (image absent and not annotated). */
  source_size: ImageSize | null;
  /** Target image size; `null` when unknown. */
  target_size: ImageSize | null;
  /** What `threshold` measures. */
  threshold_base: ThresholdBase;
  /** The PCK threshold base in target pixels; `null` when it cannot be known. */
  threshold: number | null;
  /** Annotated object boxes, where the dataset has them. */
  source_bbox?: Box;
  /** Annotated target object box, where the dataset has them. */
  target_bbox?: Box;
  /** Ids (names or indices) of the keypoints kept, where the dataset has them. */
  keypoint_ids?: string[];
  /** Difficulty flags (SPair-71k only). */
  difficulty?: PairDifficulty;
  /** PF-PASCAL train/val lists: the pair is meant to be flipped horizontally (NC-Net training). */
  flip?: boolean;
}

/** What a reader returns: the pairs of one split plus how they were read. */
export interface DatasetSlice {
  /** Which dataset. */
  dataset: DatasetId;
  /** The root read: a folder, or a base URL (see `openDataSource()`). */
  root: string;
  /** The split (e.g. `test`). */
  split: string;
  /** Where the pair list came from (e.g. `csv`, `mat`, `layout`, `coco`, `tree`). */
  pair_source: string;
  /** The file the pairs were listed in, relative to the root; `null` when none. */
  pair_file: string | null;
  /** The keypoint convention applied (`raw` where the dataset has no choice). */
  keypoints: KeypointConvention;
  /** The most keypoints kept per pair (the first ones). */
  max_keypoints: number;
  /** What the pairs' thresholds measure. */
  threshold_base: ThresholdBase;
  /** The pairs, in a deterministic order. */
  pairs: DatasetPair[];
}
