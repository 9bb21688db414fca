// This module is browser compatible.
/**
 * Errors of encoded images: not a supported format, not decodable, or over a
 * limit (checked from the header before any pixel buffer exists).
 *
 * @example Usage
 * ```ts
 * import { ImageTooLargeError } from "./image_errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new ImageTooLargeError("Cannot decode a 1e9-pixel image").code, "image_too_large");
 * ```
 *
 * @module
 */

import { ServiceError } from "./service_error.ts";

/** The bytes are an image of a supported format but cannot be decoded. */
export class ImageDecodeError extends ServiceError {
  override readonly code = "invalid_image";
}

/** The bytes are not a supported image format (JPEG or PNG). */
export class UnsupportedImageError extends ServiceError {
  override readonly code = "unsupported_image_format";
}

/** An image exceeds the configured byte or pixel limit. */
export class ImageTooLargeError extends ServiceError {
  override readonly code = "image_too_large";
}
