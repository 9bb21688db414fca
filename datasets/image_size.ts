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
import { DatasetMalformedError } from "./errors.ts";
import { insideRoot } from "./_files.ts";
import type { ImageSize } from "./types.ts";

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
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) return null;
    throw new DatasetMalformedError(`Cannot read image ${path}: ${(cause as Error).message}`, {
      path,
      cause,
    });
  }
  try {
    let bytes = new Uint8Array(0);
    let want = FIRST_READ;
    let ended = false;
    while (true) {
      while (!ended && bytes.length < want) {
        const chunk = new Uint8Array(want - bytes.length);
        const n = await file.read(chunk);
        if (n === null) {
          ended = true;
        } else {
          const grown = new Uint8Array(bytes.length + n);
          grown.set(bytes);
          grown.set(chunk.subarray(0, n), bytes.length);
          bytes = grown;
        }
      }
      try {
        const { width, height } = readImageHeader(bytes);
        return { width, height };
      } catch (cause) {
        // A header cut by the read size parses once more bytes are in.
        if (!(cause instanceof SyntaxError) || ended) throw cause;
        want *= 2;
      }
    }
  } catch (cause) {
    throw new DatasetMalformedError(`Cannot read image ${path}: ${(cause as Error).message}`, {
      path,
      cause,
    });
  } finally {
    file.close();
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
  #root: string;
  #from: string;
  #cache = new Map<string, Promise<ImageSize | null>>();

  /**
   * Creates an empty cache.
   *
   * @param root The dataset root.
   * @param from The file the image paths come from, for error messages.
   */
  constructor(root: string, from: string) {
    this.#root = root;
    this.#from = from;
  }

  /**
   * The size of an image, read on first use.
   *
   * @param rel The image path relative to the root.
   * @returns Its size, or `null` when it is not on disk.
   * @throws {DatasetUnsafePathError} When `rel` would leave the root.
   * @throws {DatasetMalformedError} As {@linkcode readImageSize} does.
   */
  get(rel: string): Promise<ImageSize | null> {
    let size = this.#cache.get(rel);
    if (size === undefined) {
      size = readImageSize(insideRoot(this.#root, rel, this.#from));
      this.#cache.set(rel, size);
    }
    return size;
  }

  /**
   * How many of the images asked for are not on disk.
   *
   * @returns The count.
   */
  async missing(): Promise<number> {
    let count = 0;
    for (const size of this.#cache.values()) if (await size === null) count++;
    return count;
  }
}
