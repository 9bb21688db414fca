/**
 * File access inside a dataset root: paths that come from dataset files are
 * checked before use, and I/O failures become {@linkcode DatasetError}s that
 * name the file. Private to the readers.
 *
 * @module
 */

import { isAbsolute, join } from "node:path";
import { DatasetMalformedError, DatasetNotFoundError, DatasetUnsafePathError } from "./errors.ts";

/**
 * Joins a relative path taken from a dataset file to the dataset root,
 * refusing any path that could leave the root.
 *
 * @param root The dataset root.
 * @param rel The path as the file writes it (`/` or `\` separators).
 * @param from The file the path comes from, for the error message.
 * @returns `rel` joined to `root`.
 * @throws {DatasetUnsafePathError} When `rel` is empty, absolute, has a drive
 * letter, a NUL byte or a `..` segment.
 */
export function insideRoot(root: string, rel: string, from: string): string {
  const problem = rel === ""
    ? "it is empty"
    : rel.includes("\0")
    ? "it contains a NUL byte"
    : isAbsolute(rel) || /^[\\/]/.test(rel) || /^[A-Za-z]:/.test(rel)
    ? "it is absolute"
    : rel.split(/[\\/]/).includes("..")
    ? "it contains a `..` segment"
    : null;
  if (problem !== null) {
    throw new DatasetUnsafePathError(
      `Cannot use path "${rel}" from ${from}: ${problem}, and a dataset reader stays inside its root`,
      { path: from },
    );
  }
  return join(root, ...rel.split(/[\\/]/));
}

/**
 * Reads a whole file.
 *
 * @param path The file.
 * @param what What the file is, for the error message (e.g. "PF-WILLOW pair list").
 * @returns The bytes.
 * @throws {DatasetNotFoundError} When the file does not exist.
 * @throws {DatasetMalformedError} When it cannot be read (a folder, no permission).
 */
export async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) {
      throw new DatasetNotFoundError(`Cannot read ${what} ${path}: no such file`, { path, cause });
    }
    throw new DatasetMalformedError(
      `Cannot read ${what} ${path}: ${(cause as Error).message}`,
      { path, cause },
    );
  }
}

/**
 * Reads a whole file as UTF-8 text.
 *
 * @param path The file.
 * @param what What the file is, for the error message.
 * @returns The text.
 * @throws {DatasetNotFoundError} When the file does not exist.
 * @throws {DatasetMalformedError} When it cannot be read or is not UTF-8.
 */
export async function readText(path: string, what: string): Promise<string> {
  const bytes = await readBytes(path, what);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new DatasetMalformedError(`Cannot read ${what} ${path}: not UTF-8 text`, { path, cause });
  }
}

/**
 * Reads and parses a JSON file.
 *
 * @param path The file.
 * @param what What the file is, for the error message.
 * @returns The parsed value (unchecked).
 * @throws {DatasetNotFoundError} When the file does not exist.
 * @throws {DatasetMalformedError} When it is not valid JSON.
 */
export async function readJson(path: string, what: string): Promise<unknown> {
  const text = await readText(path, what);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new DatasetMalformedError(
      `Cannot read ${what} ${path}: invalid JSON: ${(cause as Error).message}`,
      { path, cause },
    );
  }
}

/**
 * Tells whether a path exists and is a file.
 *
 * @param path The path.
 * @returns `true` for an existing file, `false` when nothing is there.
 * @throws {DatasetMalformedError} When the path exists but is not a file, or
 * cannot be checked.
 */
export async function isFile(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) {
      throw new DatasetMalformedError(`Cannot use ${path}: it is not a file`, { path });
    }
    return true;
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) return false;
    if (cause instanceof DatasetMalformedError) throw cause;
    throw new DatasetMalformedError(`Cannot check ${path}: ${(cause as Error).message}`, {
      path,
      cause,
    });
  }
}

/**
 * Lists a folder, sorted by name (code-unit order, so the result does not
 * depend on the locale or the file system).
 *
 * @param path The folder.
 * @param what What the folder is, for the error message.
 * @returns Its entries.
 * @throws {DatasetNotFoundError} When the folder does not exist.
 * @throws {DatasetMalformedError} When it cannot be listed.
 */
export async function listDir(path: string, what: string): Promise<Deno.DirEntry[]> {
  const entries: Deno.DirEntry[] = [];
  try {
    for await (const entry of Deno.readDir(path)) entries.push(entry);
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) {
      throw new DatasetNotFoundError(`Cannot read ${what} ${path}: no such folder`, {
        path,
        cause,
      });
    }
    throw new DatasetMalformedError(`Cannot list ${what} ${path}: ${(cause as Error).message}`, {
      path,
      cause,
    });
  }
  return entries.sort((a, b) => compareNames(a.name, b.name));
}

/**
 * Orders strings by UTF-16 code units, independent of the locale.
 *
 * @param a First string.
 * @param b Second string.
 * @returns Negative, zero or positive.
 */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
