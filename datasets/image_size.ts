/**
 * Image sizes from file headers, without decoding pixels. Only as many bytes
 * as the header needs are read; parsing is {@linkcode readImageHeader}'s
 * (PNG IHDR, JPEG start-of-frame).
 *
 * @example Usage
 * ```ts
 * import { readImageSize } from "./image_size.ts";
 * import assert from "node:assert/strict";
 *
 * const size = await readImageSize("../shared/data/pf-willow/PF-dataset/car(G)/Cars_006a.png");
 * assert.deepEqual(size, { width: 300, height: 200 });
 * assert.equal(await readImageSize("../shared/data/no-such.png"), null);
 * ```
 *
 * @module
 */

import { readImageHeader } from "../core/image_header.ts";
import { DatasetError, DatasetMalformedError } from "../errors/mod.ts";
import { type DataSource, openDataSource } from "./data_source.ts";
import type { ImageSize } from "./types.ts";
import { readFileHead } from "./_files.ts";

/** Bytes read first; enough for any PNG and most JPEG headers. */
const FIRST_READ = 4096;

/**
 * Reads an image's stored width and height (before any EXIF orientation)
 * from its header. The file is read in growing chunks until the header
 * parses, so a PNG costs one small read.
 *
 * @param path The image file.
 * @returns The size, or `null` when the file does not exist.
 * @throws {DatasetMalformedError} When the file is not a PNG or JPEG, its
 * header is malformed or truncated, or it cannot be read; the message names
 * the file.
 *
 * @example Usage
 * ```ts
 * import { readImageSize } from "./image_size.ts";
 * import assert from "node:assert/strict";
 *
 * const size = await readImageSize("../shared/data/ap-10k/data/000000000004.jpg");
 * assert.deepEqual(size, { width: 1024, height: 683 });
 * ```
 */
export async function readImageSize(path: string): Promise<ImageSize | null> {
  return await sizeFromHeads(path, (length) => readFileHead(path, length));
}

/**
 * Parses an image header from ever longer prefixes of the file until it
 * parses or the file ends.
 *
 * @param where The file's path or URL, for the error message.
 * @param head Reads the first `length` bytes (fewer at the end), or `null`
 * when the file does not exist.
 * @returns The size, or `null` when the file does not exist.
 */
async function sizeFromHeads(
  where: string,
  head: (length: number) => Promise<Uint8Array | null>,
): Promise<ImageSize | null> {
  try {
    for (let want = FIRST_READ;; want *= 2) {
      const bytes = await head(want);
      if (bytes === null) return null;
      try {
        const { width, height } = readImageHeader(bytes);
        return { width, height };
      } catch (cause) {
        // A header cut by the read size parses once more bytes are in.
        if (!(cause instanceof SyntaxError) || bytes.length < want) throw cause;
      }
    }
  } catch (cause) {
    if (cause instanceof DatasetError) throw cause;
    throw new DatasetMalformedError(`Cannot read image ${where}: ${(cause as Error).message}`, {
      path: where,
      cause,
    });
  }
}

/**
 * Sizes of the images of one dataset root, each read once however many
 * pairs name it.
 *
 * @example Usage
 * ```ts
 * import { ImageSizes } from "./image_size.ts";
 * import assert from "node:assert/strict";
 *
 * const sizes = new ImageSizes("../shared/data/pf-willow", "an example");
 * assert.deepEqual(await sizes.get("PF-dataset/car(G)/Cars_006a.png"), { width: 300, height: 200 });
 * assert.equal(await sizes.get("PF-dataset/car(G)/none.png"), null);
 * assert.equal(await sizes.missing(), 1);
 * ```
 */
export class ImageSizes {
  #source: DataSource;
  #from: string;
  #cache = new Map<string, Promise<ImageSize | null>>();

  /**
   * Creates an empty cache.
   *
   * @param root The dataset root, or its open data source (a URL root reads
   * each header with a `Range` request).
   * @param from The file the image paths come from, for error messages.
   */
  constructor(root: string | DataSource, from: string) {
    this.#source = openDataSource(root);
    this.#from = from;
  }

  /**
   * The size of an image, read on first use.
   *
   * @param rel The image path relative to the root.
   * @returns Its size, or `null` when it is not there.
   * @throws {DatasetUnsafePathError} When `rel` would leave the root.
   * @throws {DatasetMalformedError} As {@linkcode readImageSize} does.
   */
  get(rel: string): Promise<ImageSize | null> {
    let size = this.#cache.get(rel);
    if (size === undefined) {
      const where = this.#source.locate(rel, this.#from);
      size = sizeFromHeads(where, (length) => this.#source.readHead(rel, length));
      this.#cache.set(rel, size);
    }
    return size;
  }

  /**
   * How many of the images asked for are not there.
   *
   * @returns The count.
   */
  async missing(): Promise<number> {
    let count = 0;
    for (const size of this.#cache.values()) if (await size === null) count++;
    return count;
  }
}
