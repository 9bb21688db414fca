/**
 * Hashes a file with SHA-256 while streaming it, so a model of hundreds of
 * megabytes never sits in memory whole.
 *
 * WebCrypto only hashes whole buffers; `node:crypto`'s `createHash` (native in
 * Deno, about 1.4 GB/s) hashes incrementally, and the downloader uses the same
 * hash on each chunk as it arrives.
 *
 * @example Usage
 * ```ts
 * import { sha256File } from "./file_sha256.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "abc");
 * const { sha256, bytes } = await sha256File(path);
 * assert.equal(sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
 * assert.equal(bytes, 3);
 * await Deno.remove(path);
 * ```
 *
 * @module
 */

import { createHash } from "node:crypto";

/** Digest and size of a file. */
export interface FileDigest {
  /** Lower-case hex SHA-256. */
  sha256: string;
  /** Size in bytes. */
  bytes: number;
}

/**
 * Streams a file through SHA-256.
 *
 * @param path The file.
 * @returns Its lower-case hex SHA-256 and its size.
 * @throws {Deno.errors.NotFound} When the file does not exist.
 */
export async function sha256File(path: string): Promise<FileDigest> {
  const hash = createHash("sha256");
  let bytes = 0;
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(1 << 20);
  while (true) {
    const n = await file.read(buffer);
    if (n === null) break;
    hash.update(buffer.subarray(0, n));
    bytes += n;
  }
  return { sha256: hash.digest("hex"), bytes };
}
