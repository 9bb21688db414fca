/**
 * PNG to RGB in one pass over the data: the chunks are walked and checked,
 * the zlib stream is inflated once by `node:zlib` with an output cap sized
 * from the header (a decompression bomb stops at the cap, before its bytes
 * exist), then rows are unfiltered in place and written straight to RGB.
 *
 * @example Usage
 * ```ts
 * import { decodePng } from "./decode_png.ts";
 * import { encode } from "fast-png";
 * import assert from "node:assert/strict";
 *
 * const png = encode({ width: 1, height: 1, channels: 3, data: new Uint8Array([1, 2, 3]) });
 * assert.deepEqual(Array.from(decodePng(png).data), [1, 2, 3]);
 * ```
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { crc32, inflateSync } from "node:zlib";
import type { DecodedImage } from "./decoded_image.ts";
import { ImageDecodeError } from "../errors/mod.ts";

/** Slack past the exact inflated size that some encoders leave; more is refused. */
const PNG_EXTRA_INFLATED = 1 << 20;

/** Channels of each colour type: gray, RGB, palette, gray + alpha, RGBA. */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Adam7 passes: first column, first row, column step, row step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** What decoding needs from the chunks. */
interface PngLayout {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
  palette: Uint8Array;
  idat: Uint8Array[];
}

/** One pass of the image: its size in pixels and where its pixels go. */
interface Pass {
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  width: number;
  height: number;
  rowBytes: number;
}

/**
 * Decodes a PNG whose header `checkImage` accepted, in stored orientation.
 *
 * Every colour type and bit depth, interlaced or not. Alpha and tRNS are
 * ignored (nothing is composited), like PIL's `.convert("RGB")`. 16-bit
 * samples keep their high byte (`v >> 8`), as libpng's strip-16, browsers
 * and PIL's 16-bit RGB(A) and LA readers do; note that PIL turns a 16-bit
 * *grayscale* PNG into mode `I` and `.convert("RGB")` then clips at 255
 * instead, which this function does not copy. Gray at 1, 2 or 4 bits is
 * scaled to 0..255; palette indices past the palette's end become black.
 * Ancillary chunks are skipped unread (an `iCCP` profile is another zlib
 * stream, which nothing here inflates).
 *
 * @param bytes The PNG file.
 * @returns Stored width, height and RGB pixels.
 * @throws {ImageDecodeError} When a chunk is truncated or fails its
 *   checksum, the zlib stream is corrupt, ends early, is followed by more
 *   data, or inflates past the size the header implies (plus 1 MiB), or a
 *   row has an unknown filter type.
 *
 * @example Usage
 * ```ts
 * import { decodePng } from "./decode_png.ts";
 * import { ImageDecodeError } from "../errors/mod.ts";
 * import { encode } from "fast-png";
 * import assert from "node:assert/strict";
 *
 * // A 2x1 RGBA PNG: alpha is dropped.
 * const png = encode({ width: 2, height: 1, channels: 4, data: new Uint8Array([255, 0, 0, 255, 0, 0, 255, 0]) });
 * const image = decodePng(png);
 * assert.deepEqual([image.width, image.height], [2, 1]);
 * assert.deepEqual(Array.from(image.data), [255, 0, 0, 0, 0, 255]);
 * assert.throws(() => decodePng(png.subarray(0, 40)), ImageDecodeError);
 * ```
 */
export function decodePng(bytes: Uint8Array): DecodedImage {
  const png = readPngLayout(bytes);
  const { width, height, depth, colorType } = png;
  const channels = PNG_CHANNELS[colorType];
  const passes: Pass[] = [];
  let expected = 0;
  for (const [x0, y0, dx, dy] of png.interlaced ? ADAM7 : [[0, 0, 1, 1]]) {
    const pw = Math.ceil((width - x0) / dx);
    const ph = Math.ceil((height - y0) / dy);
    if (pw <= 0 || ph <= 0) continue;
    const rowBytes = Math.ceil((pw * channels * depth) / 8);
    passes.push({ x0, y0, dx, dy, width: pw, height: ph, rowBytes });
    expected += ph * (1 + rowBytes);
  }
  const raw = inflateCapped(png.idat, expected);
  const out = new Uint8Array(width * height * 3);
  // Bytes between a byte and the one it is predicted from: a whole pixel, at least a byte.
  const bpp = Math.max(1, (channels * depth) >> 3);
  let pos = 0;
  for (const pass of passes) {
    unfilterPass(raw, pos, pass, bpp);
    for (let py = 0; py < pass.height; py++) {
      const line = pos + py * (1 + pass.rowBytes) + 1;
      const first = (pass.y0 + py * pass.dy) * width + pass.x0;
      writeRow(raw, line, pass.width, out, first, pass.dx, png);
    }
    pos += pass.height * (1 + pass.rowBytes);
  }
  return { width, height, data: out };
}

/** Walks the chunks, checks the critical ones and keeps what decoding needs. */
function readPngLayout(bytes: Uint8Array): PngLayout {
  const fail = (reason: string) => new ImageDecodeError(`Cannot decode PNG image: ${reason}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idat: Uint8Array[] = [];
  let palette: Uint8Array = new Uint8Array(0);
  let pos = 33;
  while (true) {
    if (pos + 8 > bytes.length) {
      // Missing IEND is tolerated when the image data is complete, as in PIL.
      if (idat.length) break;
      throw fail("the data ends before the image data");
    }
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    const end = pos + 12 + length;
    if (end > bytes.length) {
      // A cut after the last IDAT loses nothing, as in PIL; the inflated size
      // check still catches an image whose data stops early.
      if (idat.length && type !== "IDAT") break;
      throw fail(`the data is truncated inside chunk ${type}`);
    }
    if (type === "IEND") break;
    if (type === "IHDR") throw fail("IHDR appears twice");
    if (type === "PLTE" || type === "IDAT") {
      // node:zlib's native crc32: the TypeScript one took 14% of a decode.
      if (crc32(bytes.subarray(pos + 4, end - 4)) !== view.getUint32(end - 4)) {
        throw fail(`the ${type} checksum does not match`);
      }
      if (type === "PLTE") {
        if (length % 3 !== 0 || length > 768) throw fail(`PLTE has invalid length ${length}`);
        palette = bytes.subarray(pos + 8, end - 4);
      } else idat.push(bytes.subarray(pos + 8, end - 4));
    }
    // Ancillary chunks (tRNS, iCCP, text, ...) are skipped: none changes the RGB pixels.
    pos = end;
  }
  const colorType = bytes[25];
  if (idat.length === 0) throw fail("there is no IDAT chunk");
  if (colorType === 3 && palette.length === 0) throw fail("the palette image has no PLTE chunk");
  return {
    width: view.getUint32(16),
    height: view.getUint32(20),
    depth: bytes[24],
    colorType,
    interlaced: bytes[28] === 1,
    palette,
    idat,
  };
}

/**
 * Inflates the IDAT stream once, refusing more than `expected` plus some
 * slack (zlib stops at the cap), less than `expected`, and bytes after the
 * end of the stream (libpng only warns about those).
 *
 * @returns The first `expected` inflated bytes, to be unfiltered in place.
 */
function inflateCapped(parts: Uint8Array[], expected: number): Uint8Array {
  const input = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  let inflated: { buffer: Uint8Array; engine: { bytesWritten: number } };
  try {
    inflated = inflateSync(
      input,
      {
        maxOutputLength: expected + PNG_EXTRA_INFLATED,
        // One output chunk that holds the whole image (the default 16 KiB
        // chunks are concatenated at the end: a fifth of the inflate's time).
        chunkSize: Math.max(64, expected + 1024),
        info: true,
      } as Parameters<typeof inflateSync>[1],
    ) as unknown as typeof inflated;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") {
      throw new ImageDecodeError(
        `Cannot decode PNG image: the image data inflates past the ${expected} bytes its header implies`,
        { cause: error },
      );
    }
    if (code === "Z_BUF_ERROR") {
      throw new ImageDecodeError(
        "Cannot decode PNG image: the image data is truncated (the zlib stream ends early)",
        { cause: error },
      );
    }
    throw new ImageDecodeError(
      `Cannot decode PNG image: the image data is corrupt (${(error as Error).message})`,
      { cause: error },
    );
  }
  if (inflated.engine.bytesWritten < input.length) {
    throw new ImageDecodeError(
      `Cannot decode PNG image: the image data is corrupt (${
        input.length - inflated.engine.bytesWritten
      } bytes after the end of the zlib stream)`,
    );
  }
  const out = inflated.buffer;
  if (out.length < expected) {
    throw new ImageDecodeError(
      `Cannot decode PNG image: the image data is truncated (${out.length} of ${expected} bytes)`,
    );
  }
  return new Uint8Array(out.buffer, out.byteOffset, expected);
}

/**
 * Reverses the row filters of one pass in place. Each row is a filter byte
 * then `rowBytes` bytes, predicted from the byte `bpp` to the left (a) and
 * the byte above in the same pass (b); the first row has zeros above.
 */
function unfilterPass(raw: Uint8Array, start: number, pass: Pass, bpp: number): void {
  const n = pass.rowBytes;
  for (let row = 0; row < pass.height; row++) {
    const at = start + row * (1 + n);
    const line = at + 1;
    const up = line - 1 - n; // the previous row's first byte; unused on row 0
    const hasUp = row > 0;
    // Without a row above, b and c are 0: Paeth predicts a, Average a >> 1.
    // The first bpp bytes have no a (nor c): Paeth predicts b, Average b >> 1.
    switch (raw[at]) {
      case 0:
        break;
      case 1:
        subFilter(raw, line, n, bpp);
        break;
      case 2:
        if (hasUp) { for (let i = 0; i < n; i++) raw[line + i] += raw[up + i]; }
        break;
      case 3:
        if (!hasUp) {
          for (let i = bpp; i < n; i++) raw[line + i] += raw[line + i - bpp] >> 1;
          break;
        }
        for (let i = 0; i < bpp; i++) raw[line + i] += raw[up + i] >> 1;
        if (bpp === 3) {
          // RGB: three independent chains side by side, as for Paeth below.
          let a0 = raw[line], a1 = raw[line + 1], a2 = raw[line + 2];
          for (let i = line + 3, j = up + 3; i < line + n; i += 3, j += 3) {
            a0 = (raw[i] + ((a0 + raw[j]) >> 1)) & 255;
            a1 = (raw[i + 1] + ((a1 + raw[j + 1]) >> 1)) & 255;
            a2 = (raw[i + 2] + ((a2 + raw[j + 2]) >> 1)) & 255;
            raw[i] = a0;
            raw[i + 1] = a1;
            raw[i + 2] = a2;
          }
          break;
        }
        // One byte lane at a time, a (the byte just written) kept in a local.
        for (let k = 0; k < bpp; k++) {
          let a = raw[line + k];
          for (let i = k + bpp; i < n; i += bpp) {
            a = (raw[line + i] + ((a + raw[up + i]) >> 1)) & 255;
            raw[line + i] = a;
          }
        }
        break;
      case 4:
        if (!hasUp) {
          subFilter(raw, line, n, bpp);
          break;
        }
        for (let i = 0; i < bpp; i++) raw[line + i] += raw[up + i];
        if (bpp === 3) {
          // RGB: the three byte lanes side by side, three independent chains
          // (each byte waits for the one to its left, not for the other lanes).
          let a0 = raw[line], a1 = raw[line + 1], a2 = raw[line + 2];
          let c0 = raw[up], c1 = raw[up + 1], c2 = raw[up + 2];
          for (let i = line + 3, j = up + 3; i < line + n; i += 3, j += 3) {
            const b0 = raw[j], b1 = raw[j + 1], b2 = raw[j + 2];
            a0 = (raw[i] + paeth(a0, b0, c0)) & 255;
            a1 = (raw[i + 1] + paeth(a1, b1, c1)) & 255;
            a2 = (raw[i + 2] + paeth(a2, b2, c2)) & 255;
            raw[i] = a0;
            raw[i + 1] = a1;
            raw[i + 2] = a2;
            c0 = b0;
            c1 = b1;
            c2 = b2;
          }
          break;
        }
        // One byte lane of a pixel at a time, so a (the byte just written)
        // and c (the last b) stay in locals instead of being read again.
        for (let k = 0; k < bpp; k++) {
          let a = raw[line + k];
          let c = raw[up + k];
          for (let i = k + bpp; i < n; i += bpp) {
            const b = raw[up + i];
            a = (raw[line + i] + paeth(a, b, c)) & 255;
            raw[line + i] = a;
            c = b;
          }
        }
        break;
      default:
        throw new ImageDecodeError(`Cannot decode PNG image: unknown filter type ${raw[at]}`);
    }
  }
}

/**
 * The Paeth predictor of a byte from its left (a), upper (b) and upper-left
 * (c) neighbours: whichever is closest to `a + b - c`, ties to a then b.
 * Without branches: the choice is unpredictable, and mispredicted branches
 * cost more than the masks.
 */
function paeth(a: number, b: number, c: number): number {
  // |p - a|, |p - b|, |p - c| for p = a + b - c.
  let pa = b - c, pb = a - c, pc = pa + pb;
  pa = (pa ^ (pa >> 31)) - (pa >> 31);
  pb = (pb ^ (pb >> 31)) - (pb >> 31);
  pc = (pc ^ (pc >> 31)) - (pc >> 31);
  // All ones when a loses (pa > pb or pa > pc), and when b loses to c (pb > pc).
  const notA = ((pb - pa) | (pc - pa)) >> 31, notB = (pc - pb) >> 31;
  const bc = b ^ ((b ^ c) & notB);
  return a ^ ((a ^ bc) & notA);
}

/**
 * Reverses the Sub filter of one row (each byte predicted from the one
 * `bpp` to its left), one byte lane at a time so the running byte stays in
 * a local instead of being read back from the row just written.
 */
function subFilter(raw: Uint8Array, line: number, n: number, bpp: number): void {
  if (bpp === 3) {
    // RGB: the three lanes side by side, three independent chains.
    let a0 = raw[line], a1 = raw[line + 1], a2 = raw[line + 2];
    for (let i = line + 3; i < line + n; i += 3) {
      a0 = (raw[i] + a0) & 255;
      a1 = (raw[i + 1] + a1) & 255;
      a2 = (raw[i + 2] + a2) & 255;
      raw[i] = a0;
      raw[i + 1] = a1;
      raw[i + 2] = a2;
    }
    return;
  }
  for (let k = 0; k < bpp; k++) {
    let a = raw[line + k];
    for (let i = k + bpp; i < n; i += bpp) {
      a = (raw[line + i] + a) & 255;
      raw[line + i] = a;
    }
  }
}

/**
 * Writes one unfiltered row of `count` pixels as RGB, its first pixel at
 * pixel index `first` of `out` and the next ones `step` pixels apart.
 */
function writeRow(
  raw: Uint8Array,
  line: number,
  count: number,
  out: Uint8Array,
  first: number,
  step: number,
  png: PngLayout,
): void {
  const { colorType, depth, palette } = png;
  const channels = PNG_CHANNELS[colorType];
  if (depth < 8) {
    // One channel (gray or palette), several samples per byte, high bits first.
    const mask = (1 << depth) - 1;
    // Low depths span 0..255 like PIL's "L;1", "L;2", "L;4" unpackers: 255, 85 or 17 per step.
    const scale = 255 / mask;
    const colors = palette.length / 3;
    for (let x = 0; x < count; x++) {
      const bit = x * depth;
      const v = (raw[line + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
      const o = (first + x * step) * 3;
      if (colorType === 3) {
        if (v < colors) {
          out[o] = palette[3 * v];
          out[o + 1] = palette[3 * v + 1];
          out[o + 2] = palette[3 * v + 2];
        }
      } else out[o] = out[o + 1] = out[o + 2] = v * scale;
    }
    return;
  }
  // 8 or 16 bits: the high byte of a sample is its first byte.
  const sample = depth >> 3;
  const stride = channels * sample;
  if (colorType === 3) {
    const colors = palette.length / 3;
    for (let x = 0; x < count; x++) {
      const v = raw[line + x];
      const o = (first + x * step) * 3;
      if (v < colors) {
        out[o] = palette[3 * v];
        out[o + 1] = palette[3 * v + 1];
        out[o + 2] = palette[3 * v + 2];
      }
    }
  } else if (channels < 3) {
    for (let x = 0, s = line; x < count; x++, s += stride) {
      const o = (first + x * step) * 3;
      out[o] = out[o + 1] = out[o + 2] = raw[s];
    }
  } else if (step === 1 && stride === 3) {
    out.set(raw.subarray(line, line + 3 * count), 3 * first);
  } else {
    for (let x = 0, s = line; x < count; x++, s += stride) {
      const o = (first + x * step) * 3;
      out[o] = raw[s];
      out[o + 1] = raw[s + sample];
      out[o + 2] = raw[s + 2 * sample];
    }
  }
}
