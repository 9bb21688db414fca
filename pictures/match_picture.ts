/**
 * The picture of a match: source and target side by side at a common
 * height, each query and its match as numbered dots joined by a line, dots
 * and line coloured by the match's score ({@linkcode colormap}: dark blue
 * for 0 or less, dark red for 1). Optionally the target is overlaid with one
 * query's score map (the colour map of the similarity normalized to the
 * map's range, more opaque where it is higher), and ground-truth points are
 * drawn as white rings. Pure: pixels in, pixels out; encoding is the
 * caller's.
 *
 * Points are in each image's pixels, integer values at pixel centres; the
 * score map is on the model's grid and reaches the picture through the
 * target's frame (`core/frame.ts`), so stretch and letterbox inputs both
 * overlay where the model looked.
 *
 * @example Usage
 * ```ts
 * import { matchPicture, PICTURE_GAP } from "./match_picture.ts";
 * import { makeFrame } from "../core/frame.ts";
 * import assert from "node:assert/strict";
 *
 * const gray = (width: number, height: number) => ({ width, height, data: new Uint8Array(width * height * 3).fill(128) });
 * const picture = matchPicture(gray(40, 20), gray(30, 30), {
 *   points: Float32Array.of(10, 10),
 *   matches: Float32Array.of(15, 15, 0.9),
 *   heatmap: {
 *     map: { data: Float32Array.of(0, 0.5, 0.5, 1), width: 2, height: 2 },
 *     frame: makeFrame({ width: 30, height: 30 }, { size: 32, mode: "stretch" }),
 *   },
 * });
 * // Both at the taller height (30): 60 + gap + 30 wide.
 * assert.equal(picture.height, 30);
 * assert.deepEqual(picture.source, { x: 0, y: 0, width: 60, height: 30 });
 * assert.deepEqual(picture.target, { x: 60 + PICTURE_GAP, y: 0, width: 30, height: 30 });
 * assert.equal(picture.width, 60 + PICTURE_GAP + 30);
 * assert.equal(picture.data.length, picture.width * picture.height * 3);
 * ```
 *
 * @module
 */

import type { Frame } from "../core/frame.ts";
import { imageToFrame } from "../core/image_to_frame.ts";
import { frameToGrid } from "../core/frame_to_grid.ts";
import { resizeBilinear } from "../core/resize.ts";
import { colormap, type Rgb } from "./colormap.ts";
import { Raster, textWidth } from "./raster.ts";
import { DIGIT_HEIGHT } from "./digits.ts";

/** Tallest common height: larger images are scaled down to it. */
export const PICTURE_MAX_HEIGHT = 720;

/** White columns between the two images. */
export const PICTURE_GAP = 8;

/** RGB pixels, 3 bytes per pixel, row-major. */
export interface PictureImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Where an image lies in the picture. */
export interface PictureBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What {@linkcode matchPicture} draws. */
export interface MatchPictureOptions {
  /** Query points in source pixels, x,y pairs. */
  points: Float32Array;
  /** Per query: x, y in target pixels and its score. */
  matches: Float32Array;
  /** Ground truth in target pixels, x,y pairs in query order (NaN: none), drawn as rings. */
  truth?: Float32Array;
  /** One query's score map on the target grid, and the target's frame that maps pixels to it. */
  heatmap?: { map: PictureScoreMap; frame: Frame };
  /** Common height (default: the taller image's, at most {@linkcode PICTURE_MAX_HEIGHT}). */
  height?: number;
}

/** A map of scores on a grid, row-major. */
export interface PictureScoreMap {
  data: Float32Array;
  width: number;
  height: number;
}

/** The picture and where each image lies in it. */
export interface MatchPicture extends PictureImage {
  source: PictureBox;
  target: PictureBox;
}

const WHITE: Rgb = [255, 255, 255];
const INK: Rgb = [20, 20, 20];

/**
 * Draws a match.
 *
 * @param source The source image's pixels.
 * @param target The target image's pixels.
 * @param options Queries, matches, and optionally ground truth, a score map and the height.
 * @returns The picture's RGB pixels with the two images' boxes.
 * @throws {RangeError} When the points and matches disagree in count.
 */
export function matchPicture(
  source: PictureImage,
  target: PictureImage,
  options: MatchPictureOptions,
): MatchPicture {
  const { points, matches } = options;
  const n = points.length / 2;
  if (!Number.isInteger(n) || matches.length !== 3 * n) {
    throw new RangeError(
      `Cannot draw ${points.length / 2} queries with ${
        matches.length / 3
      } matches: give one x, y, score per query`,
    );
  }
  const height = options.height ??
    Math.min(Math.max(source.height, target.height), PICTURE_MAX_HEIGHT);
  const a = scaled(source, height);
  const b = scaled(target, height);
  const sourceBox = { x: 0, y: 0, width: a.width, height };
  const targetBox = { x: a.width + PICTURE_GAP, y: 0, width: b.width, height };
  const raster = new Raster(targetBox.x + b.width, height, { background: WHITE });
  raster.paste(a, sourceBox.x, 0);
  raster.paste(b, targetBox.x, 0);
  if (options.heatmap) overlay(raster, targetBox, target, options.heatmap);

  const at = (box: PictureBox, image: PictureImage, x: number, y: number) =>
    [
      box.x + (x + 0.5) * (box.width / image.width) - 0.5,
      box.y + (y + 0.5) * (box.height / image.height) - 0.5,
    ] as const;
  const radius = Math.max(4, Math.round(height / 60));
  const stroke = Math.max(1.5, height / 240);
  const scale = Math.max(2, Math.round(height / 160));
  const ends = Array.from({ length: n }, (_, i) => ({
    from: at(sourceBox, source, points[2 * i], points[2 * i + 1]),
    to: at(targetBox, target, matches[3 * i], matches[3 * i + 1]),
    color: colormap(matches[3 * i + 2]),
  }));
  if (options.truth) {
    for (let i = 0; i < n; i++) {
      const [x, y] = [options.truth[2 * i], options.truth[2 * i + 1]];
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      const [tx, ty] = at(targetBox, target, x, y);
      raster.ring(tx, ty, radius + 2, { width: stroke + 1.5, color: INK });
      raster.ring(tx, ty, radius + 2, { width: stroke, color: WHITE });
    }
  }
  for (const e of ends) {
    raster.line(e.from[0], e.from[1], e.to[0], e.to[1], {
      width: stroke,
      color: e.color,
      alpha: 0.85,
    });
  }
  for (const [i, e] of ends.entries()) {
    for (const [x, y] of [e.from, e.to]) {
      raster.disc(x, y, radius + 1, INK);
      raster.disc(x, y, radius, e.color);
      label(raster, String(i + 1), { x, y, radius, scale });
    }
  }
  return {
    width: raster.width,
    height: raster.height,
    data: raster.data,
    source: sourceBox,
    target: targetBox,
  };
}

/** The image at `height` rows, its aspect kept (Pillow's bilinear, antialiased when shrinking). */
function scaled(image: PictureImage, height: number): PictureImage {
  const width = Math.max(1, Math.round((image.width * height) / image.height));
  if (width === image.width && height === image.height) return image;
  const data = resizeBilinear(image.data, { ...image, channels: 3 }, { width, height });
  return { width, height, data };
}

/** A point's number beside its dot (up and right, or left near the right edge), outlined. */
function label(
  raster: Raster,
  text: string,
  at: { x: number; y: number; radius: number; scale: number },
): void {
  const w = textWidth(text, at.scale);
  const h = DIGIT_HEIGHT * at.scale;
  let x = at.x + at.radius + 2;
  if (x + w >= raster.width) x = at.x - at.radius - 2 - w;
  const y = Math.max(1, at.y - at.radius - h);
  for (const [dx, dy] of [[-1, 0], [1, 0], [0, -1], [0, 1], [-1, -1], [1, 1], [-1, 1], [1, -1]]) {
    raster.text(text, x + dx, y + dy, { scale: at.scale, color: INK });
  }
  raster.text(text, x, y, { scale: at.scale, color: WHITE });
}

/**
 * Blends the score map over the target: each picture pixel is mapped to
 * target pixels, through the frame to the grid, and samples the map
 * bilinearly (clamped at the border).
 */
function overlay(
  raster: Raster,
  box: PictureBox,
  target: PictureImage,
  heatmap: { map: PictureScoreMap; frame: Frame },
): void {
  const { map, frame } = heatmap;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of map.data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo > 1e-6 ? hi - lo : 1;
  const pixels = new Float32Array(box.width * box.height * 2);
  for (let v = 0, i = 0; v < box.height; v++) {
    for (let u = 0; u < box.width; u++, i += 2) {
      pixels[i] = (u + 0.5) * (target.width / box.width) - 0.5;
      pixels[i + 1] = (v + 0.5) * (target.height / box.height) - 0.5;
    }
  }
  const cells = frameToGrid(imageToFrame(frame, pixels), {
    size: frame.size,
    grid: { width: map.width, height: map.height },
  });
  for (let v = 0, i = 0; v < box.height; v++) {
    for (let u = 0; u < box.width; u++, i += 2) {
      const t = (sample(map, cells[i], cells[i + 1]) - lo) / span;
      raster.blend(box.x + u, box.y + v, colormap(t), 0.15 + 0.55 * t);
    }
  }
}

/** The map at grid point (x, y), bilinear, clamped to the grid. */
function sample(map: PictureScoreMap, x: number, y: number): number {
  const gx = Math.min(Math.max(x, 0), map.width - 1);
  const gy = Math.min(Math.max(y, 0), map.height - 1);
  const x0 = Math.floor(gx);
  const y0 = Math.floor(gy);
  const x1 = Math.min(x0 + 1, map.width - 1);
  const y1 = Math.min(y0 + 1, map.height - 1);
  const fx = gx - x0;
  const fy = gy - y0;
  const d = map.data;
  const w = map.width;
  return (1 - fy) * ((1 - fx) * d[y0 * w + x0] + fx * d[y0 * w + x1]) +
    fy * ((1 - fx) * d[y1 * w + x0] + fx * d[y1 * w + x1]);
}
