/**
 * 256-colour versions of the README's pictures, so photographs fit in a
 * small PNG: a median-cut palette of the image (boxes of colours split at
 * the median of their widest channel), each pixel mapped to its nearest
 * palette colour, written as an indexed PNG by fast-png.
 *
 * @module
 */

import { decode, encode } from "fast-png";

type Box = { pixels: Uint32Array };

function channel(c: number, k: number): number {
  return (c >> (16 - 8 * k)) & 255;
}

function widest(box: Box): { k: number; range: number } {
  let best = { k: 0, range: -1 };
  for (let k = 0; k < 3; k++) {
    let lo = 255;
    let hi = 0;
    for (const c of box.pixels) {
      const v = channel(c, k);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (hi - lo > best.range) best = { k, range: hi - lo };
  }
  return best;
}

/**
 * Re-encodes a PNG with at most 256 colours.
 *
 * @param png An RGB or RGBA PNG.
 * @returns The indexed PNG.
 */
export function toPalettePng(png: Uint8Array): Uint8Array {
  const image = decode(png);
  const n = image.width * image.height;
  const ch = image.channels;
  const colors = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    colors[i] = (image.data[i * ch] << 16) | (image.data[i * ch + 1] << 8) | image.data[i * ch + 2];
  }
  let boxes: Box[] = [{ pixels: colors.slice() }];
  while (boxes.length < 256) {
    const splits = boxes.map((b) => ({ b, w: widest(b) })).filter((s) => s.b.pixels.length > 1);
    if (!splits.length) break;
    const { b, w } = splits.reduce((
      x,
      y,
    ) => (y.w.range * Math.log(y.b.pixels.length) > x.w.range * Math.log(x.b.pixels.length)
      ? y
      : x)
    );
    if (w.range <= 0) break;
    const sorted = b.pixels.sort((x, y) => channel(x, w.k) - channel(y, w.k));
    const mid = sorted.length >> 1;
    boxes = boxes.filter((x) => x !== b).concat([{ pixels: sorted.subarray(0, mid) }, {
      pixels: sorted.subarray(mid),
    }]);
  }
  const palette = boxes.map((b) => {
    const sum = [0, 0, 0];
    for (const c of b.pixels) for (let k = 0; k < 3; k++) sum[k] += channel(c, k);
    return sum.map((s) => Math.round(s / b.pixels.length)) as [number, number, number];
  });
  const nearest = new Map<number, number>();
  const index = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = colors[i];
    let best = nearest.get(c);
    if (best === undefined) {
      let dist = Infinity;
      for (const [j, p] of palette.entries()) {
        const d = (p[0] - channel(c, 0)) ** 2 + (p[1] - channel(c, 1)) ** 2 +
          (p[2] - channel(c, 2)) ** 2;
        if (d < dist) [dist, best] = [d, j];
      }
      nearest.set(c, best!);
    }
    index[i] = best!;
  }
  return encode({
    width: image.width,
    height: image.height,
    data: index,
    depth: 8,
    channels: 1,
    palette,
  });
}
