// This module is browser compatible.
/**
 * The model's input tensor from a decoded image: resized into its frame,
 * padded, normalized, channel-planar.
 *
 * @module
 */

import type { Frame } from "./frame.ts";
import { resizePil } from "./resize_pil.ts";
import { torchModelInput } from "./torch_model_input.ts";
import { padImage } from "./pad_image.ts";
import { toNormalizedCHW } from "./normalize.ts";

/**
 * How the image is resampled to the frame:
 * - `torch`: the survey's official `ToTensor()`, torchvision 0.14
 *   `Resize((S, S))` on the float tensor (bilinear, half-pixel centres, no
 *   antialias, no 8-bit rounding), then `Normalize` (`test.py`, `load_dataset`).
 * - `pil`: Pillow's `Image.resize(..., BILINEAR)` on the 8-bit image
 *   (antialiased when shrinking, rounded to 8 bits), then normalized.
 * - `lanczos`: Pillow's `LANCZOS` on the 8-bit image, as GeoAware-SC's
 *   letterbox `resize()` does.
 */
export type ResampleMode = typeof RESAMPLE_MODES[number];

/** The resample modes, in a stable order: the one declaration of {@linkcode ResampleMode}. */
export const RESAMPLE_MODES = Object.freeze(["torch", "pil", "lanczos"] as const);

/** The default: the official survey code's preprocessing. */
export const DEFAULT_RESAMPLE: ResampleMode = "torch";

/** Options of {@linkcode toModelInput}. */
export interface ModelInputOptions {
  /** Where the image goes in the `S x S` input (see `makeFrame`). */
  frame: Frame;
  /** How it is resampled. */
  resample: ResampleMode;
  /** Per-channel mean of pixels in [0, 1]. */
  mean: readonly number[];
  /** Per-channel std of pixels in [0, 1]. */
  std: readonly number[];
}

/**
 * Builds the `[3, S, S]` float32 input of a model from an 8-bit RGB image.
 *
 * The image is resampled to the frame's content size (`contentWidth x
 * contentHeight`), placed at (`contentX`, `contentY`) on a black canvas
 * (pixel value 0, as GeoAware-SC's zero canvas), and normalized per channel
 * as `(v - mean) / std`, in float32 at every step as torchvision computes it.
 * With `torch` the resampling runs on `v / 255` in float32 (so values are not
 * rounded to 8 bits); with `pil` and `lanczos` on the bytes, Pillow-exact.
 * An axis that keeps its size is copied in every mode.
 *
 * @param image Width, height and `height * width * 3` RGB bytes (HWC).
 * @param options The frame, resample mode and normalization.
 * @returns `3 * S * S` values, CHW.
 * @throws {RangeError} When the image does not fit the frame's sizes, or a
 * statistic is invalid.
 *
 * @example Usage
 * ```ts
 * import { toModelInput } from "./model_input.ts";
 * import { makeFrame } from "./frame.ts";
 * import assert from "node:assert/strict";
 *
 * // A 2x1 image (black, white) stretched to 4x4, mean 0 and std 1.
 * const image = { width: 2, height: 1, data: Uint8Array.of(0, 0, 0, 255, 255, 255) };
 * const frame = makeFrame(image, { size: 4, mode: "stretch" });
 * const input = toModelInput(image, { frame, resample: "torch", mean: [0, 0, 0], std: [1, 1, 1] });
 * assert.equal(input.length, 3 * 4 * 4);
 * assert.deepEqual([...input.subarray(0, 4)], [0, 0.25, 0.75, 1]);
 * ```
 */
export function toModelInput(
  image: { width: number; height: number; data: Uint8Array },
  options: ModelInputOptions,
): Float32Array {
  const { frame, resample, mean, std } = options;
  const { width, height } = image;
  const S = frame.size;
  const content = { width: frame.contentWidth, height: frame.contentHeight };
  const whole = content.width === S && content.height === S;
  if (resample === "pil" || resample === "lanczos") {
    const filter = resample === "pil" ? "bilinear" : "lanczos";
    const resized = resizePil(image.data, { width, height, channels: 3 }, content, { filter });
    const square = whole ? resized : padImage(resized, { ...content, channels: 3 }, {
      width: S,
      height: S,
      offsetX: frame.contentX,
      offsetY: frame.contentY,
    });
    return toNormalizedCHW(square, { width: S, height: S }, { mean, std });
  }
  if (resample !== "torch") {
    throw new RangeError(`Cannot build model input: unknown resample mode "${resample}"`);
  }
  return torchModelInput(image, { frame, mean, std });
}
