/**
 * The byte and pixel limits of an encoded image, checked from its header
 * alone, so the limits hold before any pixel buffer exists. The pool sends a
 * deployment's limits to each worker once, when it loads; routes check the
 * same limits before a job is queued.
 *
 * @example Usage
 * ```ts
 * import { checkImage, DEFAULT_IMAGE_LIMITS } from "./image_limits.ts";
 * import { ImageTooLargeError } from "../errors/mod.ts";
 * import assert from "node:assert/strict";
 *
 * // SOI, then a baseline SOF0 claiming 60000x60000 pixels: rejected from the header alone.
 * const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0xea, 0x60, 0xea, 0x60, 1, 1, 0x11, 0]);
 * assert.throws(() => checkImage(jpeg, DEFAULT_IMAGE_LIMITS), ImageTooLargeError);
 * ```
 *
 * @module
 */

import { decodedBytes, type ImageHeader, readImageHeader } from "../core/image_header.ts";
import { ImageDecodeError, ImageTooLargeError, UnsupportedImageError } from "../errors/mod.ts";

/** Upper bounds on an encoded image. */
export interface ImageLimits {
  /** Largest accepted encoded size, in bytes. */
  maxBytes: number;
  /** Largest accepted stored width times height. */
  maxPixels: number;
  /**
   * Largest accepted decoded size: width x height x channels x bytes per
   * sample, from the header (default {@linkcode DEFAULT_MAX_DECODED_BYTES}).
   */
  maxDecodedBytes?: number;
}

/**
 * 200 MiB of decoded samples per image: a 40-megapixel 8-bit RGBA image
 * (160 MB) fits, a 36-megapixel 16-bit RGB PNG (216 MB) does not.
 */
export const DEFAULT_MAX_DECODED_BYTES = 200 * 2 ** 20;

/** Limits used when the caller gives none: 20 MB and 40 megapixels. */
export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = Object.freeze({
  maxBytes: 20_000_000,
  maxPixels: 40_000_000,
  maxDecodedBytes: DEFAULT_MAX_DECODED_BYTES,
});

/**
 * Reads an image's header and checks it against the limits, without decoding.
 *
 * @param bytes The encoded image.
 * @param limits Byte and pixel limits.
 * @returns The header (format, stored size, EXIF orientation).
 * @throws {ImageTooLargeError} When `bytes` is longer than `limits.maxBytes`
 * or width times height exceeds `limits.maxPixels`; `details` holds
 * `{ limit, actual, unit }` (and `width`, `height` for pixels).
 * @throws {UnsupportedImageError} When the bytes are neither PNG nor JPEG.
 * @throws {ImageDecodeError} When the PNG or JPEG header is truncated or malformed.
 * @throws {RangeError} When a limit is not a positive number.
 *
 * @example Usage
 * ```ts
 * import { checkImage } from "./image_limits.ts";
 * import { ImageTooLargeError, UnsupportedImageError } from "../errors/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 2, 0, 3, 1, 1, 0x11, 0]);
 * assert.equal(checkImage(jpeg, { maxBytes: 100, maxPixels: 6 }).width, 3);
 * assert.throws(() => checkImage(jpeg, { maxBytes: 100, maxPixels: 5 }), ImageTooLargeError);
 * assert.throws(() => checkImage(jpeg, { maxBytes: 10, maxPixels: 6 }), ImageTooLargeError);
 * assert.throws(() => checkImage(new Uint8Array(8), { maxBytes: 100, maxPixels: 6 }), UnsupportedImageError);
 * ```
 */
export function checkImage(bytes: Uint8Array, limits: ImageLimits): ImageHeader {
  for (const key of ["maxBytes", "maxPixels"] as const) {
    if (!(limits[key] > 0)) {
      throw new RangeError(`Cannot check image: ${key} must be positive, got ${limits[key]}`);
    }
  }
  if (bytes.length > limits.maxBytes) {
    throw new ImageTooLargeError(
      `Image is too large: ${bytes.length} bytes exceeds the limit of ${limits.maxBytes}`,
      { details: { limit: limits.maxBytes, actual: bytes.length, unit: "bytes" } },
    );
  }
  let header: ImageHeader;
  try {
    header = readImageHeader(bytes);
  } catch (error) {
    if (error instanceof TypeError && error.message.startsWith("Unsupported image format")) {
      throw new UnsupportedImageError(error.message, { cause: error });
    }
    if (error instanceof SyntaxError) {
      throw new ImageDecodeError(error.message, { cause: error });
    }
    throw error;
  }
  const pixels = header.width * header.height;
  if (pixels > limits.maxPixels) {
    throw new ImageTooLargeError(
      `Image is too large: ${header.width}x${header.height} is ${pixels} pixels, exceeding the limit of ${limits.maxPixels}`,
      {
        details: {
          limit: limits.maxPixels,
          actual: pixels,
          unit: "pixels",
          width: header.width,
          height: header.height,
        },
      },
    );
  }
  const maxDecoded = limits.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
  const decoded = decodedBytes(bytes);
  if (decoded > maxDecoded) {
    throw new ImageTooLargeError(
      `Image is too large: ${header.width}x${header.height} decodes to ${decoded} bytes (channels and bit depth counted), exceeding the limit of ${maxDecoded}`,
      {
        details: {
          limit: maxDecoded,
          actual: decoded,
          unit: "decoded_bytes",
          width: header.width,
          height: header.height,
        },
      },
    );
  }
  return header;
}
