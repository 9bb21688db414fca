/**
 * EXIF orientation: turns stored pixels into the image as displayed.
 *
 * @example Usage
 * ```ts
 * import { orientImage } from "./orient_image.ts";
 * import assert from "node:assert/strict";
 *
 * // 2x1, red then blue; orientation 6 (rotate 90 clockwise) gives 1x2, red on top.
 * const image = { width: 2, height: 1, data: new Uint8Array([255, 0, 0, 0, 0, 255]) };
 * const shown = orientImage(image, 6);
 * assert.deepEqual([shown.width, shown.height], [1, 2]);
 * assert.deepEqual(Array.from(shown.data), [255, 0, 0, 0, 0, 255]);
 * ```
 *
 * @module
 */

import type { DecodedImage } from "./decoded_image.ts";

/**
 * Applies an EXIF orientation, as PIL's `ImageOps.exif_transpose` does:
 * 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise,
 * 7 transverse, 8 rotate 90 counter-clockwise; any other value leaves the
 * image as it is.
 *
 * @param image Stored pixels.
 * @param orientation The EXIF orientation, 1..8.
 * @returns The displayed image (the same object for orientation 1), with
 *   width and height swapped for orientations 5 to 8.
 *
 * @example Usage
 * ```ts
 * import { orientImage } from "./orient_image.ts";
 * import assert from "node:assert/strict";
 *
 * const image = { width: 2, height: 1, data: new Uint8Array([1, 1, 1, 2, 2, 2]) };
 * assert.deepEqual(Array.from(orientImage(image, 2).data), [2, 2, 2, 1, 1, 1]);
 * assert.equal(orientImage(image, 1), image);
 * ```
 */
export function orientImage(image: DecodedImage, orientation: number): DecodedImage {
  if (orientation < 2 || orientation > 8) return image;
  const { width: w, height: h, data } = image;
  const swap = orientation >= 5;
  const outW = swap ? h : w;
  const outH = swap ? w : h;
  // The stored pixel shown at (x, y) is at index base + x * dx + y * dy:
  // each orientation maps display coordinates affinely onto stored ones.
  const last = h - 1;
  const [base, dx, dy] = {
    2: [w - 1, -1, w],
    3: [last * w + w - 1, -1, -w],
    4: [last * w, 1, -w],
    5: [0, w, 1],
    6: [last * w, -w, 1],
    7: [last * w + w - 1, -w, -1],
    8: [w - 1, w, -1],
  }[orientation]!;
  const out = new Uint8Array(data.length);
  let to = 0;
  for (let y = 0; y < outH; y++) {
    let from = base + y * dy;
    for (let x = 0; x < outW; x++, from += dx, to += 3) {
      out[to] = data[from * 3];
      out[to + 1] = data[from * 3 + 1];
      out[to + 2] = data[from * 3 + 2];
    }
  }
  return { width: outW, height: outH, data: out };
}
