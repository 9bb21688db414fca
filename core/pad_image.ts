// This module is browser compatible.
/**
 * Placing an image on a larger canvas, as letterboxing needs.
 *
 * @module
 */

import type { ImageSize } from "./resize.ts";

/** Canvas and placement for {@linkcode padImage}. */
export interface PadOptions {
  /** Canvas width in pixels (a positive integer). */
  width: number;
  /** Canvas height in pixels (a positive integer). */
  height: number;
  /** Column of the canvas where the image's left edge goes (an integer >= 0). */
  offsetX: number;
  /** Row of the canvas where the image's top edge goes (an integer >= 0). */
  offsetY: number;
  /** Byte written to every canvas pixel the image does not cover (default 0, like GeoAware-SC's zero canvas). */
  fill?: number;
}

/**
 * Copies an interleaved (HWC) 8-bit image onto a canvas filled with a
 * constant, at an integer offset. The image must fit inside the canvas.
 *
 * GeoAware-SC's letterbox is `padImage(resized, size, { width: S, height: S,
 * offsetX, offsetY })` with the offsets of a letterbox frame (see
 * `makeFrame`).
 *
 * @param src Pixels in row-major HWC order: `size.height * size.width * size.channels` bytes.
 * @param size Width, height and channel count of `src`.
 * @param options Canvas size, placement and fill byte.
 * @returns A new array of `options.height * options.width * size.channels` bytes (HWC).
 * @throws {RangeError} If a size or offset is not a non-negative integer, the image does not fit, `fill` is not a byte, or `src` has the wrong length.
 *
 * @example Usage
 * ```ts
 * import { padImage } from "./pad_image.ts";
 * import assert from "node:assert/strict";
 *
 * // A 2x1 grey image centred on a 2x3 canvas.
 * const out = padImage(Uint8Array.of(7, 9), { width: 2, height: 1, channels: 1 }, {
 *   width: 2,
 *   height: 3,
 *   offsetX: 0,
 *   offsetY: 1,
 * });
 * assert.deepEqual([...out], [0, 0, 7, 9, 0, 0]);
 * ```
 */
export function padImage(src: Uint8Array, size: ImageSize, options: PadOptions): Uint8Array {
  const { width, height, channels } = size;
  const { offsetX, offsetY, fill = 0 } = options;
  const named: [string, number, number][] = [
    ["width", width, 1],
    ["height", height, 1],
    ["channels", channels, 1],
    ["canvas width", options.width, 1],
    ["canvas height", options.height, 1],
    ["offsetX", offsetX, 0],
    ["offsetY", offsetY, 0],
  ];
  for (const [name, value, min] of named) {
    if (!Number.isInteger(value) || value < min) {
      throw new RangeError(
        `Cannot pad image: ${name} must be an integer >= ${min}, got ${value}`,
      );
    }
  }
  if (!Number.isInteger(fill) || fill < 0 || fill > 255) {
    throw new RangeError(`Cannot pad image: fill must be a byte (0..255), got ${fill}`);
  }
  if (src.length !== width * height * channels) {
    throw new RangeError(
      `Cannot pad image: expected ${
        width * height * channels
      } bytes for ${width}x${height}x${channels}, got ${src.length}`,
    );
  }
  if (offsetX + width > options.width || offsetY + height > options.height) {
    throw new RangeError(
      `Cannot pad image: a ${width}x${height} image at (${offsetX}, ${offsetY}) does not fit a ${options.width}x${options.height} canvas`,
    );
  }
  const out = new Uint8Array(options.width * options.height * channels);
  if (fill !== 0) out.fill(fill);
  const rowLength = width * channels;
  for (let y = 0; y < height; y++) {
    const from = y * rowLength;
    out.set(
      src.subarray(from, from + rowLength),
      ((offsetY + y) * options.width + offsetX) * channels,
    );
  }
  return out;
}
