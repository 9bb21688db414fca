/**
 * Decoded pixels: what every decoder returns and every extractor takes.
 *
 * @example Usage
 * ```ts
 * import type { DecodedImage } from "./decoded_image.ts";
 * import assert from "node:assert/strict";
 *
 * const image: DecodedImage = { width: 2, height: 1, data: new Uint8Array([255, 0, 0, 0, 0, 255]) };
 * assert.equal(image.data.length, image.width * image.height * 3);
 * ```
 *
 * @module
 */

/** Decoded pixels. */
export interface DecodedImage {
  /** Width as displayed, after the EXIF orientation. */
  width: number;
  /** Height as displayed, after the EXIF orientation. */
  height: number;
  /** RGB, 3 bytes per pixel, row-major (HWC). */
  data: Uint8Array;
}
