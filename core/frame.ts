// This module is browser compatible.
/**
 * The model's square input frame and how an image is placed in it.
 *
 * @module
 */

/**
 * How an image is fitted into the model's `S x S` input frame.
 *
 * - `"stretch"`: resized to `S x S`, aspect ratio not kept (the official
 *   survey code, Zhang et al. 2025).
 * - `"letterbox"`: long side resized to `S`, aspect ratio kept, centred on a
 *   zero canvas (GeoAware-SC, Zhang et al. 2024).
 */
export type ResizeMode = typeof RESIZE_MODES[number];

/** The resize modes, in a stable order: the one declaration of {@linkcode ResizeMode}. */
export const RESIZE_MODES = Object.freeze(["stretch", "letterbox"] as const);

/** Options of {@linkcode makeFrame}. */
export interface FrameOptions {
  /** Side `S` of the square model input, in pixels (a positive integer). */
  size: number;
  /** How the image is fitted into the frame. */
  mode: ResizeMode;
}

/**
 * Everything needed to place an image in the model's `S x S` frame and to
 * map points between image pixels and frame pixels.
 *
 * Points map as `x' = x * scaleX + offsetX`, `y' = y * scaleY + offsetY`
 * (image to frame). The resized image (`contentWidth x contentHeight`) is
 * pasted at integer position (`contentX`, `contentY`) of the frame.
 */
export interface Frame {
  /** How the image was fitted. */
  mode: ResizeMode;
  /** Side `S` of the square frame. */
  size: number;
  /** Original image width `W`. */
  imageWidth: number;
  /** Original image height `H`. */
  imageHeight: number;
  /** Width of the resized image inside the frame. */
  contentWidth: number;
  /** Height of the resized image inside the frame. */
  contentHeight: number;
  /** Column of the frame where the resized image starts (padding on the left). */
  contentX: number;
  /** Row of the frame where the resized image starts (padding on top). */
  contentY: number;
  /** Point map factor along x; 0 marks a degenerate axis (see {@linkcode makeFrame}). */
  scaleX: number;
  /** Point map factor along y; 0 marks a degenerate axis. */
  scaleY: number;
  /** Point map offset along x, in frame pixels. */
  offsetX: number;
  /** Point map offset along y, in frame pixels. */
  offsetY: number;
}

/** numpy's `np.around` for a scalar: round half to even. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** One stretched axis: align-corners scaling, constant at the centre if degenerate. */
function stretchAxis(length: number, size: number): { scale: number; offset: number } {
  if (length === 1 || size === 1) return { scale: 0, offset: (size - 1) / 2 };
  return { scale: (size - 1) / (length - 1), offset: 0 };
}

/**
 * Computes how an image of the given size sits in the model's `S x S` frame.
 *
 * Conventions (coordinates are pixel indices: 0 is the first pixel's
 * centre, `W - 1` the last one's):
 *
 * - `"stretch"` (official survey code): the image is resized to `S x S`;
 *   points map align-corners style, `x' = x * (S - 1) / (W - 1)` and
 *   `y' = y * (S - 1) / (H - 1)`, so pixel 0 maps to 0 and pixel `W - 1`
 *   to `S - 1`. Content is `S x S` at (0, 0). A degenerate axis (`W = 1` or
 *   `S = 1`, likewise for `H`) has no such ratio: every point maps to the
 *   centre of the other side, `x' = (S - 1) / 2`, and back to
 *   `x = (W - 1) / 2` (`scaleX = 0`).
 * - `"letterbox"` (GeoAware-SC `resize` and `preprocess_kps_pad`):
 *   `scale = S / max(W, H)` on both axes; the short side's new length is
 *   `n = round(S * short / long)` rounding half to even like `np.around`
 *   (at least 1); it is centred with `floor((S - n) / 2)` pixels before it,
 *   and the long side fills the frame. Points map `x' = x * scale +
 *   offsetX`, `y' = y * scale + offsetY` with the offsets equal to that
 *   padding. A square image gets `n = S` and no padding.
 *
 * @param image Width and height of the original image (positive integers).
 * @param options Frame side `size` and resize `mode`.
 * @returns The frame description.
 * @throws {RangeError} If a size is not a positive integer.
 * @throws {TypeError} If `mode` is not a {@linkcode ResizeMode}.
 *
 * @example Usage
 * ```ts
 * import { makeFrame } from "./frame.ts";
 * import assert from "node:assert/strict";
 *
 * // 300x200 letterboxed into 224: n = round(224 * 200 / 300) = round(149.33) = 149,
 * // padding floor((224 - 149) / 2) = 37 rows on top.
 * const frame = makeFrame({ width: 300, height: 200 }, { size: 224, mode: "letterbox" });
 * assert.equal(frame.contentWidth, 224);
 * assert.equal(frame.contentHeight, 149);
 * assert.equal(frame.contentY, 37);
 * assert.equal(frame.offsetY, 37);
 * assert.equal(frame.scaleX, 224 / 300);
 * ```
 */
export function makeFrame(
  image: { width: number; height: number },
  options: FrameOptions,
): Frame {
  const { width, height } = image;
  const { size, mode } = options;
  for (const [name, value] of [["width", width], ["height", height], ["size", size]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`Cannot make frame: ${name} must be a positive integer, got ${value}`);
    }
  }
  const base = { mode, size, imageWidth: width, imageHeight: height };
  if (mode === "stretch") {
    const x = stretchAxis(width, size);
    const y = stretchAxis(height, size);
    return {
      ...base,
      contentWidth: size,
      contentHeight: size,
      contentX: 0,
      contentY: 0,
      scaleX: x.scale,
      scaleY: y.scale,
      offsetX: x.offset,
      offsetY: y.offset,
    };
  }
  if (mode === "letterbox") {
    const scale = size / Math.max(width, height);
    let contentWidth = size;
    let contentHeight = size;
    if (height < width) {
      contentHeight = Math.max(1, roundHalfEven(size * height / width));
    } else if (width < height) {
      contentWidth = Math.max(1, roundHalfEven(size * width / height));
    }
    const contentX = Math.floor((size - contentWidth) / 2);
    const contentY = Math.floor((size - contentHeight) / 2);
    return {
      ...base,
      contentWidth,
      contentHeight,
      contentX,
      contentY,
      scaleX: scale,
      scaleY: scale,
      offsetX: contentX,
      offsetY: contentY,
    };
  }
  throw new TypeError(
    `Cannot make frame: unknown resize mode "${mode}", expected one of ${RESIZE_MODES.join(", ")}`,
  );
}
