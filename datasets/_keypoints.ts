// This module is browser compatible.
/**
 * Keypoint helpers shared by the readers: coordinate conventions, the
 * keypoint cap and box sizes. Private to the readers.
 *
 * @module
 */

import { type Box, KEYPOINT_CONVENTIONS, type KeypointConvention } from "./types.ts";

/** The official loader's cap on keypoints per pair. */
export const DEFAULT_MAX_KEYPOINTS = 20;

/**
 * Checks a keypoint convention option.
 *
 * @param keypoints The convention asked for.
 * @throws {RangeError} When it is not one of {@linkcode KEYPOINT_CONVENTIONS}.
 */
export function checkKeypointConvention(keypoints: string): void {
  if (!(KEYPOINT_CONVENTIONS as readonly string[]).includes(keypoints)) {
    throw new RangeError(
      `Cannot read dataset: keypoints must be one of ${
        KEYPOINT_CONVENTIONS.join(", ")
      }, got "${keypoints}"`,
    );
  }
}

/**
 * Checks a keypoint cap option.
 *
 * @param maxKeypoints The cap asked for.
 * @throws {RangeError} When it is not a non-negative integer or Infinity.
 */
export function checkMaxKeypoints(maxKeypoints: number): void {
  if (!(maxKeypoints >= 0) || !(Number.isInteger(maxKeypoints) || maxKeypoints === Infinity)) {
    throw new RangeError(
      `Cannot read dataset: maxKeypoints must be a non-negative integer or Infinity, got ${maxKeypoints}`,
    );
  }
}

/**
 * Builds a keypoint array: keeps the first `max` points and applies the
 * convention to each coordinate. `floor` rounds the float32 value down, as
 * the official loaders' `.float().floor()` do.
 *
 * @param xy Interleaved `x, y` values as stored.
 * @param convention How to convert them.
 * @param max The most points to keep.
 * @returns The keypoints.
 */
export function toKeypoints(
  xy: ArrayLike<number>,
  convention: KeypointConvention,
  max: number,
): Float32Array {
  const n = Math.min(Math.floor(xy.length / 2), max);
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n * 2; i++) {
    const v = xy[i];
    out[i] = convention === "zero-based"
      ? v - 1
      : convention === "floor"
      ? Math.floor(Math.fround(v))
      : v;
  }
  return out;
}

/**
 * The larger side of the tight box around keypoints.
 *
 * @param kps Interleaved `x, y` keypoints.
 * @returns max(w, h), or `null` when there is no keypoint.
 */
export function keypointBoxSize(kps: Float32Array): number | null {
  if (kps.length < 2) return null;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < kps.length; i += 2) {
    x0 = Math.min(x0, kps[i]);
    x1 = Math.max(x1, kps[i]);
    y0 = Math.min(y0, kps[i + 1]);
    y1 = Math.max(y1, kps[i + 1]);
  }
  return Math.max(x1 - x0, y1 - y0);
}

/**
 * The larger side of a box.
 *
 * @param box `[xmin, ymin, xmax, ymax]`.
 * @returns max(xmax - xmin, ymax - ymin).
 */
export function boxSize(box: Box): number {
  return Math.max(box[2] - box[0], box[3] - box[1]);
}

/**
 * Parses one number of a dataset file.
 *
 * @param text The text.
 * @returns The number, or `null` when the text is not a finite number.
 */
export function parseFinite(text: string): number | null {
  const t = text.trim();
  if (t === "") return null;
  const v = Number(t);
  return Number.isFinite(v) ? v : null;
}
