// This module is browser compatible.
/**
 * The survey code's scoring frame: every target image is stretched to an
 * `S x S` square, and ground truth, predictions and thresholds are measured
 * there. Keypoints and boxes map with `x' = x (S-1)/(W-1)` (likewise y), ground
 * truth is clamped to `[1e-4, S-1-1e-4]`, and the threshold base is `S` itself
 * for `img`, the mapped box for `bbox`, and for `bbox-kp` the mapped box of
 * the keypoints taken before the clamp (the official PF-WILLOW loader builds
 * the box from the keypoints, `dataset/dataset.py` `__getitem__` takes the
 * threshold, then `regularize_coordinates` clamps). For non-square images
 * this reads about 10 PCK points lower than measuring in original pixels.
 *
 * @example Usage
 * ```ts
 * import { toOfficialFrame } from "./official_frame.ts";
 * import assert from "node:assert/strict";
 *
 * // A 101x51 image in a 11x11 square: x scales by 0.1, y by 0.2.
 * const r = toOfficialFrame({
 *   pred: new Float32Array([50, 25]),
 *   truth: new Float32Array([100, 50]),
 *   targetSize: { width: 101, height: 51 },
 *   size: 11,
 *   thresholdBase: "img",
 * });
 * assert.deepEqual(Array.from(r.pred), [5, 5]);
 * assert.ok(Math.abs(r.truth[0] - (10 - 1e-4)) < 1e-6);
 * assert.equal(r.threshold, 11);
 * ```
 *
 * @module
 */

/** What {@linkcode toOfficialFrame} needs of a pair. */
export interface OfficialFrameInput {
  /** Predicted target points in original target pixels, x,y pairs. */
  pred: Float32Array;
  /** True target points in original target pixels. */
  truth: Float32Array;
  /** Original target image size. */
  targetSize: { width: number; height: number };
  /** Side `S` of the square. */
  size: number;
  /** What the threshold measures. */
  thresholdBase: "bbox" | "bbox-kp" | "img";
  /** Target box `[xmin, ymin, xmax, ymax]` in original pixels (for `bbox`). */
  bbox?: readonly number[];
}

/** Points and threshold base in the `S x S` square. */
export interface OfficialFrame {
  pred: Float32Array;
  truth: Float32Array;
  threshold: number;
}

/**
 * Maps a pair's predictions, ground truth and threshold into the square.
 *
 * @param input The pair in original pixels.
 * @returns The same in the square (new arrays).
 * @throws {RangeError} When `bbox` is needed and missing, or sizes are invalid.
 */
export function toOfficialFrame(input: OfficialFrameInput): OfficialFrame {
  const { size, targetSize } = input;
  if (!(size > 1) || !(targetSize.width > 1) || !(targetSize.height > 1)) {
    throw new RangeError(
      `Cannot map to the official frame: sizes must exceed 1 (S=${size}, ${targetSize.width}x${targetSize.height})`,
    );
  }
  const sx = (size - 1) / (targetSize.width - 1);
  const sy = (size - 1) / (targetSize.height - 1);
  const lo = 1e-4;
  const hi = size - 1 - 1e-4;
  const pred = new Float32Array(input.pred.length);
  const truth = new Float32Array(input.truth.length);
  for (let i = 0; i < pred.length; i += 2) {
    pred[i] = input.pred[i] * sx;
    pred[i + 1] = input.pred[i + 1] * sy;
  }
  for (let i = 0; i < truth.length; i += 2) {
    truth[i] = Math.min(Math.max(input.truth[i] * sx, lo), hi);
    truth[i + 1] = Math.min(Math.max(input.truth[i + 1] * sy, lo), hi);
  }
  let threshold: number;
  if (input.thresholdBase === "img") {
    threshold = size;
  } else if (input.thresholdBase === "bbox") {
    const b = input.bbox;
    if (!b || b.length !== 4) {
      throw new RangeError(
        "Cannot map to the official frame: a bbox threshold needs the target box",
      );
    }
    threshold = Math.max((b[2] - b[0]) * sx, (b[3] - b[1]) * sy);
  } else {
    // The box of the keypoints as given, before the clamp above.
    const t = input.truth;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let i = 0; i < t.length; i += 2) {
      x0 = Math.min(x0, t[i]);
      x1 = Math.max(x1, t[i]);
      y0 = Math.min(y0, t[i + 1]);
      y1 = Math.max(y1, t[i + 1]);
    }
    threshold = t.length ? Math.max((x1 - x0) * sx, (y1 - y0) * sy) : 0;
  }
  return { pred, truth, threshold };
}
