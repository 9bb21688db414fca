/**
 * Decodes PNG and JPEG bytes into RGB pixels, within byte and pixel limits.
 *
 * {@linkcode checkImage} reads only the header, so the limits hold before any
 * pixel buffer exists. {@linkcode decodeImage} then decodes JPEG with mozjpeg
 * (`@jsquash/jpeg`, WebAssembly; same output as libjpeg-turbo, which PIL uses)
 * and PNG with `fast-png`, drops alpha and applies the EXIF orientation.
 *
 * @example Usage
 * ```ts
 * import { checkImage, DEFAULT_IMAGE_LIMITS } from "./decode_image.ts";
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

import { crc32 } from "../core/crc32.ts";

import { decode as decodePng } from "fast-png";
import mozjpegDecoder from "@jsquash/jpeg/codec/dec/mozjpeg_dec.js";
import type { MozJPEGModule } from "@jsquash/jpeg/codec/dec/mozjpeg_dec.js";
import { type ImageHeader, readImageHeader } from "../core/image_header.ts";
import { ImageDecodeError, ImageTooLargeError, UnsupportedImageError } from "../errors/mod.ts";

/** Upper bounds on an encoded image. */
export interface ImageLimits {
  /** Largest accepted encoded size, in bytes. */
  maxBytes: number;
  /** Largest accepted stored width times height. */
  maxPixels: number;
}

/** Limits used when the caller gives none: 20 MB and 40 megapixels. */
export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = Object.freeze({
  maxBytes: 20_000_000,
  maxPixels: 40_000_000,
});

/** Decoded pixels. */
export interface DecodedImage {
  /** Width as displayed, after the EXIF orientation. */
  width: number;
  /** Height as displayed, after the EXIF orientation. */
  height: number;
  /** RGB, 3 bytes per pixel, row-major (HWC). */
  data: Uint8Array;
}

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
 * import { checkImage } from "./decode_image.ts";
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
  return header;
}

/**
 * Decodes a PNG or JPEG into RGB pixels, after {@linkcode checkImage}.
 *
 * - JPEG: baseline, extended and progressive, gray or YCbCr, decoded by
 *   mozjpeg with libjpeg's defaults (accurate integer IDCT, fancy
 *   upsampling), as PIL does. A truncated file ("Premature end of JPEG file")
 *   is an error, as in PIL; libjpeg's other warnings are not. CMYK JPEGs are
 *   not supported by the decoder build.
 * - PNG: every colour type and bit depth, interlaced or not. Alpha and tRNS
 *   are ignored (nothing is composited), like PIL's `.convert("RGB")`.
 *   16-bit samples keep their high byte (`v >> 8`), as libpng's strip-16,
 *   browsers and PIL's 16-bit RGB(A) and LA readers do; note that PIL turns a
 *   16-bit *grayscale* PNG into mode `I` and `.convert("RGB")` then clips at
 *   255 instead, which this function does not copy. Gray at 1, 2 or 4 bits
 *   is scaled to 0..255; palette indices past the palette's end become black.
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
 * import { encode } from "fast-png";
 * import assert from "node:assert/strict";
 *
 * // A 2x1 RGBA PNG: alpha is dropped.
 * const png = encode({ width: 2, height: 1, channels: 4, data: new Uint8Array([255, 0, 0, 255, 0, 0, 255, 0]) });
 * const image = await decodeImage(png);
 * assert.deepEqual([image.width, image.height], [2, 1]);
 * assert.deepEqual(Array.from(image.data), [255, 0, 0, 0, 0, 255]);
 * ```
 */
export async function decodeImage(
  bytes: Uint8Array,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Promise<DecodedImage> {
  const header = checkImage(bytes, limits);
  const stored = header.format === "png" ? await decodePngRgb(bytes) : await decodeJpegRgb(bytes);
  if (stored.width !== header.width || stored.height !== header.height) {
    throw new ImageDecodeError(
      `Cannot decode image: decoded size ${stored.width}x${stored.height} differs from header size ${header.width}x${header.height}`,
    );
  }
  return orient(stored, header.orientation);
}

// ---------------------------------------------------------------- JPEG

let jpegWasm: Promise<WebAssembly.Module> | undefined;
let jpegCodec: Promise<MozJPEGModule> | undefined;
/** What libjpeg printed to stderr during the current `decode` call. */
const jpegMessages: string[] = [];

/**
 * Compiles the decoder's .wasm once and instantiates it on demand.
 *
 * The Emscripten glue would find the .wasm by itself, but only by sniffing
 * the runtime (it takes Deno for Node because `process` exists); reading the
 * file through `import.meta.resolve` works the same in the main thread and in
 * workers. Failed loads are forgotten so the next call retries.
 */
function loadJpegCodec(): Promise<MozJPEGModule> {
  jpegWasm ??= (async () => {
    const url = import.meta.resolve("@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm");
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url} gave HTTP ${response.status}`);
    return await WebAssembly.compile(await response.arrayBuffer());
  })().catch((error) => {
    jpegWasm = undefined;
    throw new Error(`Cannot load the JPEG decoder: ${error.message}`, { cause: error });
  });
  jpegCodec ??= jpegWasm.then((wasm) => {
    const options = {
      noInitialRun: true,
      instantiateWasm(imports: WebAssembly.Imports, receive: (i: WebAssembly.Instance) => void) {
        const instance = new WebAssembly.Instance(wasm, imports);
        receive(instance);
        return instance.exports;
      },
      // libjpeg reports warnings and fatal errors on stderr; keep them for
      // error messages instead of printing them.
      printErr: (message: string) => jpegMessages.push(message),
      print: (message: string) => jpegMessages.push(message),
    };
    return mozjpegDecoder(options as Parameters<typeof mozjpegDecoder>[0]);
  }).catch((error) => {
    jpegCodec = undefined;
    throw error;
  });
  return jpegCodec;
}

async function decodeJpegRgb(bytes: Uint8Array): Promise<DecodedImage> {
  const codec = await loadJpegCodec();
  // `decode` runs synchronously, so no other call can interleave its messages.
  jpegMessages.length = 0;
  let image: ImageData | null;
  try {
    // Embind copies any Uint8Array into the wasm heap, shared buffers too.
    image = codec.decode(bytes as Uint8Array<ArrayBuffer>, false);
  } catch (error) {
    // libjpeg's fatal errors end in exit(), which may leak what it allocated
    // or leave the runtime aborted: start the next decode on a fresh instance.
    jpegCodec = undefined;
    const reason = jpegMessages.at(-1) ?? String(error);
    throw new ImageDecodeError(`Cannot decode JPEG image: ${reason}`, { cause: error });
  }
  if (!image) throw new ImageDecodeError("Cannot decode JPEG image: the decoder returned nothing");
  // libjpeg pads a cut-off file with gray and only warns; PIL refuses it.
  if (jpegMessages.some((m) => m.startsWith("Premature end of JPEG file"))) {
    throw new ImageDecodeError("Cannot decode JPEG image: the data is truncated");
  }
  const rgba = image.data;
  const data = new Uint8Array(image.width * image.height * 3);
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    data[i] = rgba[j];
    data[i + 1] = rgba[j + 1];
    data[i + 2] = rgba[j + 2];
  }
  return { width: image.width, height: image.height, data };
}

// ---------------------------------------------------------------- PNG

/** Slack past the exact inflated size that some encoders leave; more is refused. */
const PNG_EXTRA_INFLATED = 1 << 20;
/** Compressed bytes fed to the inflater at once; bounds one output chunk to ~1000x this. */
const INFLATE_STEP = 4096;

interface PngLayout {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
  palette: Uint8Array;
  idat: Uint8Array[];
  /** Signature, IHDR, PLTE, IDAT and IEND only. */
  critical: Uint8Array;
}

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/**
 * Decodes a PNG whose header `checkImage` accepted.
 *
 * The zlib stream is inflated once with a size cap before fast-png sees it:
 * fast-png inflates without any bound (a few MB can expand to GBs) and reads
 * a short stream as zeros. fast-png also mis-decodes Adam7 below 8 bits, so
 * those images are unfiltered here from the capped output.
 */
async function decodePngRgb(bytes: Uint8Array): Promise<DecodedImage> {
  const png = readPngLayout(bytes);
  const { width, height, depth, colorType, interlaced } = png;
  const channels = PNG_CHANNELS[colorType];
  const passes = interlaced ? ADAM7 : [[0, 0, 1, 1]];
  let expected = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((width - x0) / dx);
    const ph = Math.ceil((height - y0) / dy);
    if (pw > 0 && ph > 0) expected += ph * (1 + Math.ceil((pw * channels * depth) / 8));
  }
  const ownPath = interlaced && depth < 8;
  const raw = await inflateCapped(png.idat, expected, ownPath);
  let samples: Uint8Array | Uint16Array;
  if (ownPath) {
    samples = deinterlaceLowDepth(raw!, width, height, depth);
  } else {
    let decoded;
    try {
      decoded = decodePng(png.critical);
    } catch (error) {
      throw new ImageDecodeError(`Cannot decode PNG image: ${(error as Error).message}`, {
        cause: error,
      });
    }
    // fast-png gives Uint16Array at 16 bits and rows packed to bytes below 8.
    const data = decoded.data as Uint8Array | Uint16Array;
    samples = data instanceof Uint8Array && depth < 8
      ? unpackRows(data, width, height, depth)
      : data;
  }
  return { width, height, data: samplesToRgb(samples, colorType, depth, png.palette) };
}

/** Walks the chunks, checks the critical ones and keeps what decoding needs. */
function readPngLayout(bytes: Uint8Array): PngLayout {
  const fail = (reason: string) => new ImageDecodeError(`Cannot decode PNG image: ${reason}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const keep: Uint8Array[] = [bytes.subarray(0, 33)];
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
      if (crc32(bytes, pos + 4, end - 4) !== view.getUint32(end - 4)) {
        throw fail(`the ${type} checksum does not match`);
      }
      keep.push(bytes.subarray(pos, end));
      if (type === "PLTE") {
        if (length % 3 !== 0 || length > 768) throw fail(`PLTE has invalid length ${length}`);
        palette = bytes.subarray(pos + 8, end - 4);
      } else idat.push(bytes.subarray(pos + 8, end - 4));
    }
    // Ancillary chunks (tRNS, iCCP, text, ...) are dropped: none changes the
    // RGB pixels, and iCCP is another stream fast-png would inflate unbounded.
    pos = end;
  }
  const colorType = bytes[25];
  if (idat.length === 0) throw fail("there is no IDAT chunk");
  if (colorType === 3 && palette.length === 0) throw fail("the palette image has no PLTE chunk");
  keep.push(new Uint8Array([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]));
  const critical = new Uint8Array(keep.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of keep) {
    critical.set(part, offset);
    offset += part.length;
  }
  return {
    width: view.getUint32(16),
    height: view.getUint32(20),
    depth: bytes[24],
    colorType,
    interlaced: bytes[28] === 1,
    palette,
    idat,
    critical,
  };
}

/**
 * Inflates the IDAT stream, refusing more than `expected` plus some slack and
 * less than `expected`. Input goes in small steps so that no single output
 * chunk can be huge before the cap is checked.
 *
 * @returns The first `expected` bytes when `keep` is set, else undefined.
 */
async function inflateCapped(
  parts: Uint8Array[],
  expected: number,
  keep: boolean,
): Promise<Uint8Array | undefined> {
  let part = 0;
  let offset = 0;
  const input = new ReadableStream<Uint8Array<ArrayBuffer>>({
    pull(controller) {
      while (part < parts.length && offset >= parts[part].length) {
        part++;
        offset = 0;
      }
      if (part === parts.length) return controller.close();
      controller.enqueue(parts[part].slice(offset, offset + INFLATE_STEP));
      offset += INFLATE_STEP;
    },
  }, { highWaterMark: 0 });
  const reader = input.pipeThrough(new DecompressionStream("deflate")).getReader();
  const out = keep ? new Uint8Array(expected) : undefined;
  let total = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      out?.set(value.subarray(0, Math.max(0, expected - total)), total);
      total += value.length;
      if (total > expected + PNG_EXTRA_INFLATED) {
        throw new ImageDecodeError(
          `Cannot decode PNG image: the image data inflates past the ${expected} bytes its header implies`,
        );
      }
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    if (error instanceof ImageDecodeError) throw error;
    // This includes bytes after the end of the zlib stream, which the native
    // inflater refuses (libpng only warns about them).
    throw new ImageDecodeError(
      `Cannot decode PNG image: the image data is corrupt (${(error as Error).message})`,
      { cause: error },
    );
  }
  if (total < expected) {
    throw new ImageDecodeError(
      `Cannot decode PNG image: the image data is truncated (${total} of ${expected} bytes)`,
    );
  }
  return out;
}

/** Unpacks 1, 2 or 4-bit samples, one row of `ceil(width * depth / 8)` bytes at a time. */
function unpackRows(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      out[y * width + x] = (packed[y * rowBytes + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/** Unfilters and places the seven Adam7 passes of a 1, 2 or 4-bit, one-channel PNG. */
function deinterlaceLowDepth(
  raw: Uint8Array,
  width: number,
  height: number,
  depth: number,
): Uint8Array {
  const out = new Uint8Array(width * height);
  const mask = (1 << depth) - 1;
  let pos = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const pw = Math.ceil((width - x0) / dx);
    const ph = Math.ceil((height - y0) / dy);
    if (pw <= 0 || ph <= 0) continue;
    const rowBytes = Math.ceil((pw * depth) / 8);
    let prev: Uint8Array = new Uint8Array(rowBytes);
    for (let py = 0; py < ph; py++) {
      const line = unfilter(raw[pos], raw.subarray(pos + 1, pos + 1 + rowBytes), prev);
      pos += 1 + rowBytes;
      for (let px = 0; px < pw; px++) {
        const bit = px * depth;
        out[(y0 + py * dy) * width + x0 + px * dx] = (line[bit >> 3] >> (8 - depth - (bit & 7))) &
          mask;
      }
      prev = line;
    }
  }
  return out;
}

/** Reverses one PNG filter for a row whose filter unit is one byte (depth < 8). */
function unfilter(type: number, line: Uint8Array, prev: Uint8Array): Uint8Array {
  const out = new Uint8Array(line.length);
  for (let i = 0; i < line.length; i++) {
    const a = i > 0 ? out[i - 1] : 0;
    const b = prev[i];
    const c = i > 0 ? prev[i - 1] : 0;
    let predictor: number;
    switch (type) {
      case 0:
        predictor = 0;
        break;
      case 1:
        predictor = a;
        break;
      case 2:
        predictor = b;
        break;
      case 3:
        predictor = (a + b) >> 1;
        break;
      case 4: {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        break;
      }
      default:
        throw new ImageDecodeError(`Cannot decode PNG image: unknown filter type ${type}`);
    }
    out[i] = (line[i] + predictor) & 0xff;
  }
  return out;
}

/**
 * Turns unpacked samples (one per channel per pixel) into RGB.
 *
 * @param samples 8-bit (or unpacked 1/2/4-bit) or 16-bit samples.
 */
function samplesToRgb(
  samples: Uint8Array | Uint16Array,
  colorType: number,
  depth: number,
  palette: Uint8Array,
): Uint8Array {
  const channels = PNG_CHANNELS[colorType];
  const pixels = samples.length / channels;
  const out = new Uint8Array(pixels * 3);
  const shift = depth === 16 ? 8 : 0;
  if (colorType === 3) {
    const colors = palette.length / 3;
    for (let i = 0; i < pixels; i++) {
      const index = samples[i];
      if (index < colors) out.set(palette.subarray(index * 3, index * 3 + 3), i * 3);
    }
  } else if (colorType === 0 || colorType === 4) {
    // Low depths span 0..255 like PIL's "L;1", "L;2", "L;4" unpackers.
    const scale = depth < 8 ? 255 / ((1 << depth) - 1) : 1;
    for (let i = 0; i < pixels; i++) {
      const v = (samples[i * channels] >> shift) * scale;
      out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = v;
    }
  } else {
    for (let i = 0; i < pixels; i++) {
      out[i * 3] = samples[i * channels] >> shift;
      out[i * 3 + 1] = samples[i * channels + 1] >> shift;
      out[i * 3 + 2] = samples[i * channels + 2] >> shift;
    }
  }
  return out;
}

// ---------------------------------------------------------------- orientation

/**
 * Applies an EXIF orientation, as PIL's `ImageOps.exif_transpose` does:
 * 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise,
 * 7 transverse, 8 rotate 90 counter-clockwise.
 */
function orient(image: DecodedImage, orientation: number): DecodedImage {
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
