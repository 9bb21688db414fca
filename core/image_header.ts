// This module is browser compatible.
/**
 * Reads an image's format, stored size and EXIF orientation from its header,
 * without decoding pixels.
 *
 * The server calls this before decoding so that a small file claiming a huge
 * size is rejected without allocating anything for it.
 *
 * @example Usage
 * ```ts
 * import { readImageHeader } from "./image_header.ts";
 * import assert from "node:assert/strict";
 *
 * // The smallest useful prefix of a PNG: signature plus IHDR (2x1, 8-bit RGB).
 * const png = new Uint8Array([
 *   0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a,
 *   0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 2, 0, 0, 0, 1, 8, 2, 0, 0, 0,
 *   0x7b, 0x40, 0xe8, 0xdd,
 * ]);
 * assert.deepEqual(readImageHeader(png), { format: "png", width: 2, height: 1, orientation: 1 });
 * assert.throws(() => readImageHeader(new TextEncoder().encode("GIF89a")), TypeError);
 * ```
 *
 * @module
 */

import { crc32 } from "./crc32.ts";

/** The format, stored size and orientation of an encoded image. */
export interface ImageHeader {
  /** Container format. */
  format: "png" | "jpeg";
  /** Stored width in pixels, before the orientation is applied. */
  width: number;
  /** Stored height in pixels, before the orientation is applied. */
  height: number;
  /** EXIF orientation, 1..8; 1 when absent or out of range. */
  orientation: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Bit depths the PNG spec allows for each colour type. */
const PNG_DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

/**
 * Reads the format, stored size and EXIF orientation of a PNG or JPEG.
 *
 * For PNG the size comes from IHDR and the orientation from an `eXIf` chunk
 * before the image data. For JPEG the size comes from the first SOFn marker
 * (baseline, extended, progressive, lossless or arithmetic) and the
 * orientation from the first Exif APP1 segment; big- and little-endian Exif
 * are both read. Broken Exif data is ignored (orientation 1), since it does
 * not stop the pixels from being decoded.
 *
 * @param bytes The encoded image, or at least its first bytes.
 * @returns Format, stored width and height, and orientation.
 * @throws {TypeError} When the bytes are neither PNG nor JPEG; the message
 * starts with "Unsupported image format".
 * @throws {SyntaxError} When a PNG or JPEG header is truncated or malformed.
 *
 * @example Usage
 * ```ts
 * import { readImageHeader } from "./image_header.ts";
 * import assert from "node:assert/strict";
 *
 * // SOI, then a baseline SOF0 for a 3x2 (width x height) gray image.
 * const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 2, 0, 3, 1, 1, 0x11, 0]);
 * assert.deepEqual(readImageHeader(jpeg), { format: "jpeg", width: 3, height: 2, orientation: 1 });
 * assert.throws(() => readImageHeader(jpeg.subarray(0, 8)), SyntaxError);
 * ```
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  return readHeader(bytes).header;
}

/**
 * Bytes a decoder holds for an image's samples, from its header alone:
 * stored width x height x channels x bytes per sample (16-bit PNG and
 * 12/16-bit JPEG samples count 2 bytes; a palette PNG counts 4 channels,
 * as it may expand to RGBA). A bound checked before anything is decoded.
 *
 * @param bytes The encoded image, or at least its first bytes.
 * @returns The decoded size in bytes.
 * @throws {TypeError} As {@linkcode readImageHeader}.
 * @throws {SyntaxError} As {@linkcode readImageHeader}.
 *
 * @example Usage
 * ```ts
 * import { decodedBytes } from "./image_header.ts";
 * import assert from "node:assert/strict";
 *
 * // A baseline SOF0 for a 3x2 gray JPEG: 6 one-byte samples.
 * const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 2, 0, 3, 1, 1, 0x11, 0]);
 * assert.equal(decodedBytes(jpeg), 6);
 * ```
 */
export function decodedBytes(bytes: Uint8Array): number {
  const { header, channels, bytesPerSample } = readHeader(bytes);
  return header.width * header.height * channels * bytesPerSample;
}

/** A header with the sample layout a decoder will produce. */
interface HeaderDetails {
  header: ImageHeader;
  channels: number;
  bytesPerSample: number;
}

function readHeader(bytes: Uint8Array): HeaderDetails {
  if (startsWith(bytes, PNG_SIGNATURE.slice(0, 4))) return readPngHeader(bytes);
  if (startsWith(bytes, [0xff, 0xd8])) return readJpegHeader(bytes);
  throw new TypeError(`Unsupported image format: ${describe(bytes)}, expected PNG or JPEG`);
}

/** Channels a decoded PNG has per colour type (a palette may expand to RGBA). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 4, 4: 2, 6: 4 };

function readPngHeader(bytes: Uint8Array): HeaderDetails {
  if (!startsWith(bytes, PNG_SIGNATURE)) {
    throw new SyntaxError("Cannot read PNG header: the signature is corrupt");
  }
  if (bytes.length < 33) {
    throw new SyntaxError("Cannot read PNG header: the IHDR chunk is truncated");
  }
  if (u32(bytes, 8) !== 13 || ascii(bytes, 12, 4) !== "IHDR") {
    throw new SyntaxError("Cannot read PNG header: the first chunk is not a 13-byte IHDR");
  }
  if (crc32(bytes, 12, 29) !== u32(bytes, 29)) {
    throw new SyntaxError("Cannot read PNG header: the IHDR checksum does not match");
  }
  const width = u32(bytes, 16);
  const height = u32(bytes, 20);
  const [depth, colorType, compression, filter, interlace] = bytes.subarray(24, 29);
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new SyntaxError(`Cannot read PNG header: invalid size ${width}x${height}`);
  }
  if (!PNG_DEPTHS[colorType]?.includes(depth)) {
    throw new SyntaxError(
      `Cannot read PNG header: invalid bit depth ${depth} for colour type ${colorType}`,
    );
  }
  if (compression !== 0 || filter !== 0 || interlace > 1) {
    throw new SyntaxError(
      `Cannot read PNG header: unknown compression, filter or interlace method (${compression}, ${filter}, ${interlace})`,
    );
  }
  return {
    header: { format: "png", width, height, orientation: readPngOrientation(bytes) },
    channels: PNG_CHANNELS[colorType],
    bytesPerSample: depth === 16 ? 2 : 1,
  };
}

/** Looks for `eXIf` among the chunks before the image data. */
function readPngOrientation(bytes: Uint8Array): number {
  let pos = 33;
  // A truncated or odd chunk list is the decoder's business, not the header's.
  while (pos + 8 <= bytes.length) {
    const length = u32(bytes, pos);
    const type = ascii(bytes, pos + 4, 4);
    if (type === "IDAT" || type === "IEND") break;
    const end = pos + 12 + length;
    if (end > bytes.length) break;
    if (type === "eXIf") return readTiffOrientation(bytes, pos + 8, pos + 8 + length);
    pos = end;
  }
  return 1;
}

/** SOFn markers: C0..CF except DHT (C4), JPG (C8) and DAC (CC). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 &&
    marker !== 0xcc;
}

function readJpegHeader(bytes: Uint8Array): HeaderDetails {
  let pos = 2;
  let size: { width: number; height: number } | undefined;
  let samples = { channels: 1, bytesPerSample: 1 };
  let orientation: number | undefined;
  // Markers are read up to the first scan so that an Exif segment placed
  // after the frame header (rare, but PIL accepts it) is still found.
  while (true) {
    if (pos >= bytes.length) {
      if (size) break;
      throw new SyntaxError("Cannot read JPEG header: the data ends before the frame header");
    }
    if (bytes[pos] !== 0xff) {
      if (size) break;
      throw new SyntaxError(`Cannot read JPEG header: expected a marker at byte ${pos}`);
    }
    // Any number of 0xFF fill bytes may precede a marker.
    while (pos < bytes.length && bytes[pos] === 0xff) pos++;
    if (pos >= bytes.length) continue;
    const marker = bytes[pos++];
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xda || marker === 0xd9 || marker === 0xd8 || marker === 0x00) {
      if (size) break;
      throw new SyntaxError(
        `Cannot read JPEG header: marker 0x${hex(marker)} comes before the frame header`,
      );
    }
    if (pos + 2 > bytes.length) {
      if (size) break;
      throw new SyntaxError("Cannot read JPEG header: the data ends before the frame header");
    }
    const length = u16(bytes, pos);
    if (length < 2) {
      if (size) break;
      throw new SyntaxError(
        `Cannot read JPEG header: segment 0x${hex(marker)} has length ${length}`,
      );
    }
    const end = pos + length;
    if (isStartOfFrame(marker) && !size) {
      if (length < 8 || pos + 8 > bytes.length) {
        throw new SyntaxError("Cannot read JPEG header: the frame header is truncated");
      }
      const height = u16(bytes, pos + 3);
      const width = u16(bytes, pos + 5);
      if (width === 0 || height === 0 || bytes[pos + 7] === 0) {
        throw new SyntaxError(
          `Cannot read JPEG header: invalid frame ${width}x${height} with ${
            bytes[pos + 7]
          } components`,
        );
      }
      size = { width, height };
      samples = { channels: bytes[pos + 7], bytesPerSample: bytes[pos + 2] > 8 ? 2 : 1 };
    } else if (
      marker === 0xe1 && orientation === undefined && end <= bytes.length && length >= 8 &&
      ascii(bytes, pos + 2, 4) === "Exif" && bytes[pos + 6] === 0 && bytes[pos + 7] === 0
    ) {
      orientation = readTiffOrientation(bytes, pos + 8, end);
    }
    pos = end;
  }
  return { header: { format: "jpeg", ...size!, orientation: orientation ?? 1 }, ...samples };
}

/**
 * Reads tag 0x0112 (Orientation) from IFD0 of TIFF data in `bytes[start, end)`.
 * Offsets inside TIFF data count from its first byte.
 */
function readTiffOrientation(bytes: Uint8Array, start: number, end: number): number {
  const size = end - start;
  if (size < 8) return 1;
  const order = ascii(bytes, start, 2);
  if (order !== "II" && order !== "MM") return 1;
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, size);
  const little = order === "II";
  if (view.getUint16(2, little) !== 42) return 1;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > size) return 1;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count && ifd + 2 + (i + 1) * 12 <= size; i++) {
    const entry = ifd + 2 + i * 12;
    if (view.getUint16(entry, little) !== 0x0112) continue;
    const type = view.getUint16(entry + 2, little);
    // SHORT is what the spec says; a few writers use LONG.
    const value = type === 3
      ? view.getUint16(entry + 8, little)
      : type === 4
      ? view.getUint32(entry + 8, little)
      : 0;
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/** Names a few common formats that are not supported, for the error message. */
function describe(bytes: Uint8Array): string {
  if (bytes.length === 0) return "the input is empty";
  if (ascii(bytes, 0, 4) === "GIF8") return "GIF";
  if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 4) === "WEBP") return "WebP";
  if (ascii(bytes, 4, 4) === "ftyp") return "HEIF/AVIF";
  if (ascii(bytes, 0, 4) === "II*\0" || ascii(bytes, 0, 4) === "MM\0*") return "TIFF";
  if (ascii(bytes, 0, 2) === "BM") return "BMP";
  return `unknown signature ${Array.from(bytes.subarray(0, 4), hex).join(" ")}`;
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 8) | bytes[at + 1];
}

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

function hex(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, "0");
}
