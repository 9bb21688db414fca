/**
 * Decodes PNG and JPEG bytes into RGB pixels as displayed, within byte and
 * pixel limits: the header is checked first (`./image_limits.ts`), then the
 * format's decoder runs (`./decode_png.ts`, `./decode_jpeg.ts`), then the
 * EXIF orientation is applied (`./orient_image.ts`).
 *
 * @example Usage
 * ```ts
 * import { decodeImage } from "./decode_image.ts";
 * import { encode } from "fast-png";
 * import assert from "node:assert/strict";
 *
 * const png = encode({ width: 1, height: 1, channels: 3, data: new Uint8Array([1, 2, 3]) });
 * assert.deepEqual(Array.from((await decodeImage(png)).data), [1, 2, 3]);
 * ```
 *
 * @module
 */

import { checkImage, DEFAULT_IMAGE_LIMITS, type ImageLimits } from "./image_limits.ts";
import { decodePng } from "./decode_png.ts";
import { decodeJpeg } from "./decode_jpeg.ts";
import { orientImage } from "./orient_image.ts";
import type { DecodedImage } from "./decoded_image.ts";
import { ImageDecodeError } from "../errors/mod.ts";

export type { DecodedImage } from "./decoded_image.ts";

/**
 * Decodes a PNG or JPEG into RGB pixels, after {@linkcode checkImage}.
 *
 * - JPEG: baseline, extended and progressive, gray or YCbCr, as PIL decodes
 *   them (see `decodeJpeg`).
 * - PNG: every colour type and bit depth, interlaced or not; alpha and tRNS
 *   are ignored, 16-bit samples keep their high byte (see `decodePng`).
 * - The EXIF orientation (JPEG APP1 or PNG `eXIf`) is applied, so `width`
 *   and `height` are the displayed ones (swapped for orientations 5 to 8).
 *
 * @param bytes The encoded image.
 * @param limits Byte and pixel limits (default {@linkcode DEFAULT_IMAGE_LIMITS}).
 * @returns Displayed width, height and RGB pixels.
 * @throws {ImageTooLargeError} When the image exceeds a limit.
 * @throws {UnsupportedImageError} When the bytes are neither PNG nor JPEG.
 * @throws {ImageDecodeError} When the image is truncated or corrupt.
 * @throws {Error} When the JPEG decoder itself cannot be loaded.
 *
 * @example Usage
 * ```ts
 * import { decodeImage } from "./decode_image.ts";
 * import { ImageTooLargeError } from "../errors/mod.ts";
 * import { encode } from "fast-png";
 * import assert from "node:assert/strict";
 *
 * // A 2x1 RGBA PNG: alpha is dropped.
 * const png = encode({ width: 2, height: 1, channels: 4, data: new Uint8Array([255, 0, 0, 255, 0, 0, 255, 0]) });
 * const image = await decodeImage(png);
 * assert.deepEqual([image.width, image.height], [2, 1]);
 * assert.deepEqual(Array.from(image.data), [255, 0, 0, 0, 0, 255]);
 * await assert.rejects(decodeImage(png, { maxBytes: 1e6, maxPixels: 1 }), ImageTooLargeError);
 * ```
 */
export async function decodeImage(
  bytes: Uint8Array,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Promise<DecodedImage> {
  const header = checkImage(bytes, limits);
  const stored = header.format === "png" ? decodePng(bytes) : await decodeJpeg(bytes);
  if (stored.width !== header.width || stored.height !== header.height) {
    throw new ImageDecodeError(
      `Cannot decode image: decoded size ${stored.width}x${stored.height} differs from header size ${header.width}x${header.height}`,
    );
  }
  return orientImage(stored, header.orientation);
}
