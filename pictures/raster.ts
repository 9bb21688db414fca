/**
 * An RGB canvas in memory with the few anti-aliased shapes the pictures
 * need: images pasted in, colours blended by coverage, discs, rings, thick
 * lines and numbers. No I/O: encoding the pixels is the caller's business.
 *
 * Coordinates are pixel centres: `(0, 0)` is the centre of the top-left
 * pixel, as everywhere in the service.
 *
 * @example Usage
 * ```ts
 * import { Raster } from "./raster.ts";
 * import assert from "node:assert/strict";
 *
 * const r = new Raster(20, 10, { background: [255, 255, 255] });
 * r.disc(5, 5, 3, [255, 0, 0]);
 * assert.deepEqual(r.pixel(5, 5), [255, 0, 0]);
 * assert.deepEqual(r.pixel(0, 0), [255, 255, 255]);
 * r.line(0, 9, 19, 9, { width: 2, color: [0, 0, 255] });
 * assert.equal(r.pixel(10, 9)[2], 255);
 * r.text("12", 12, 0, { scale: 1, color: [0, 0, 0] });
 * assert.deepEqual(r.pixel(13, 0), [0, 0, 0]); // the top of the "1"
 * ```
 *
 * @module
 */

import type { Rgb } from "./colormap.ts";
import { DIGIT_HEIGHT, DIGIT_WIDTH, digitPixels } from "./digits.ts";

/** An RGB canvas. */
export class Raster {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** RGB, 3 bytes per pixel, row-major. */
  readonly data: Uint8Array;

  /**
   * @param width Width in pixels (a positive integer).
   * @param height Height in pixels (a positive integer).
   * @param options `background`: the colour it starts with (default black).
   * @throws {RangeError} When a size is not a positive integer.
   */
  constructor(width: number, height: number, options: { background?: Rgb } = {}) {
    if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
      throw new RangeError(
        `Cannot make a ${width}x${height} raster: sizes must be positive integers`,
      );
    }
    this.width = width;
    this.height = height;
    this.data = new Uint8Array(width * height * 3);
    const bg = options.background ?? [0, 0, 0];
    if (bg.some((c) => c !== 0)) {
      for (let i = 0; i < this.data.length; i += 3) this.data.set(bg, i);
    }
  }

  /**
   * The colour of one pixel.
   *
   * @param x Column.
   * @param y Row.
   * @returns Its RGB.
   */
  pixel(x: number, y: number): [number, number, number] {
    const i = (y * this.width + x) * 3;
    return [this.data[i], this.data[i + 1], this.data[i + 2]];
  }

  /**
   * Mixes a colour into one pixel: `alpha` 1 replaces it, 0 leaves it.
   * Pixels outside the raster are ignored.
   *
   * @param x Column (an integer).
   * @param y Row (an integer).
   * @param color The colour.
   * @param alpha Its weight in [0, 1].
   */
  blend(x: number, y: number, color: Rgb, alpha: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || !(alpha > 0)) return;
    const a = Math.min(alpha, 1);
    const i = (y * this.width + x) * 3;
    for (let c = 0; c < 3; c++) {
      this.data[i + c] = Math.round(this.data[i + c] + (color[c] - this.data[i + c]) * a);
    }
  }

  /**
   * Pastes an RGB image with its top-left pixel at `(x, y)`.
   *
   * @param image `width x height` RGB pixels.
   * @param x Column of its left edge.
   * @param y Row of its top edge.
   */
  paste(image: { width: number; height: number; data: Uint8Array }, x: number, y: number): void {
    for (let row = 0; row < image.height; row++) {
      const ty = y + row;
      if (ty < 0 || ty >= this.height) continue;
      const from = Math.max(0, -x);
      const to = Math.min(image.width, this.width - x);
      if (to <= from) continue;
      this.data.set(
        image.data.subarray((row * image.width + from) * 3, (row * image.width + to) * 3),
        (ty * this.width + x + from) * 3,
      );
    }
  }

  /**
   * A filled disc, its edge anti-aliased.
   *
   * @param cx Centre column.
   * @param cy Centre row.
   * @param radius Radius in pixels.
   * @param color Fill colour.
   * @param options `alpha` of the fill (default 1).
   */
  disc(cx: number, cy: number, radius: number, color: Rgb, options: { alpha?: number } = {}): void {
    this.#shape(cx, cy, radius + 1, (d) => coverage(radius - d), color, options.alpha ?? 1);
  }

  /**
   * A circle outline, anti-aliased.
   *
   * @param cx Centre column.
   * @param cy Centre row.
   * @param radius Radius of the stroke's middle.
   * @param options Stroke `width` (pixels) and `color`.
   */
  ring(cx: number, cy: number, radius: number, options: { width: number; color: Rgb }): void {
    const half = options.width / 2;
    this.#shape(
      cx,
      cy,
      radius + half + 1,
      (d) => coverage(half - Math.abs(d - radius)),
      options.color,
      1,
    );
  }

  /**
   * A straight stroke between two points, anti-aliased, with flat ends.
   * It walks the major axis, so its cost is its length times its width.
   *
   * @param x0 Start column.
   * @param y0 Start row.
   * @param x1 End column.
   * @param y1 End row.
   * @param options Stroke `width`, `color` and `alpha` (default 1).
   */
  line(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    options: { width: number; color: Rgb; alpha?: number },
  ): void {
    const alpha = options.alpha ?? 1;
    const half = options.width / 2;
    const steep = Math.abs(y1 - y0) > Math.abs(x1 - x0);
    // Walk along u (the major axis); v is the minor one.
    let [u0, v0, u1, v1] = steep ? [y0, x0, y1, x1] : [x0, y0, x1, y1];
    if (u1 < u0) [u0, v0, u1, v1] = [u1, v1, u0, v0];
    const slope = u1 === u0 ? 0 : (v1 - v0) / (u1 - u0);
    // The perpendicular distance is the minor-axis distance times cos(angle).
    const cos = 1 / Math.sqrt(1 + slope * slope);
    const reach = half / cos + 1;
    for (let u = Math.ceil(u0); u <= Math.floor(u1); u++) {
      const v = v0 + slope * (u - u0);
      for (let k = Math.floor(v - reach); k <= Math.ceil(v + reach); k++) {
        const a = coverage(half - Math.abs(k - v) * cos) * alpha;
        if (steep) this.blend(k, u, options.color, a);
        else this.blend(u, k, options.color, a);
      }
    }
  }

  /**
   * Digits in the built-in 3 x 5 font, each glyph pixel drawn as a
   * `scale x scale` block, one blank column between glyphs.
   *
   * @param digits The text (digits only).
   * @param x Column of its left edge.
   * @param y Row of its top edge.
   * @param options `scale` (a positive integer) and `color`.
   * @throws {RangeError} When a character is not a digit.
   */
  text(digits: string, x: number, y: number, options: { scale: number; color: Rgb }): void {
    const { scale, color } = options;
    let left = Math.round(x);
    const top = Math.round(y);
    for (const ch of digits) {
      const glyph = digitPixels(ch);
      for (let gy = 0; gy < DIGIT_HEIGHT; gy++) {
        for (let gx = 0; gx < DIGIT_WIDTH; gx++) {
          if (!glyph[gy * DIGIT_WIDTH + gx]) continue;
          for (let sy = 0; sy < scale; sy++) {
            for (let sx = 0; sx < scale; sx++) {
              this.blend(left + gx * scale + sx, top + gy * scale + sy, color, 1);
            }
          }
        }
      }
      left += (DIGIT_WIDTH + 1) * scale;
    }
  }

  /** Blends `color` over the square around a centre, weighted by `cover(distance)`. */
  #shape(
    cx: number,
    cy: number,
    reach: number,
    cover: (distance: number) => number,
    color: Rgb,
    alpha: number,
  ): void {
    for (let y = Math.floor(cy - reach); y <= Math.ceil(cy + reach); y++) {
      for (let x = Math.floor(cx - reach); x <= Math.ceil(cx + reach); x++) {
        this.blend(x, y, color, cover(Math.hypot(x - cx, y - cy)) * alpha);
      }
    }
  }
}

/** How much of a pixel a shape covers whose edge is `inside` pixels away (negative: outside). */
function coverage(inside: number): number {
  return Math.min(Math.max(inside + 0.5, 0), 1);
}

/**
 * The width in pixels of digits as {@linkcode Raster.text} draws them.
 *
 * @param digits The text.
 * @param scale The scale.
 * @returns Its width.
 *
 * @example Usage
 * ```ts
 * import { textWidth } from "./raster.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(textWidth("12", 2), 14);
 * ```
 */
export function textWidth(digits: string, scale: number): number {
  return digits.length === 0 ? 0 : (digits.length * (DIGIT_WIDTH + 1) - 1) * scale;
}
