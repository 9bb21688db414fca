/**
 * Local file access inside a dataset root: paths that come from dataset
 * files are checked before use, and I/O failures become `DatasetError`s that
 * name the file. Private to the readers, which go through a `DataSource`
 * (`data_source.ts`); the local one is built on these.
 *
 * @module
 */

import { isAbsolute, join } from "node:path";
import {
  DatasetMalformedError,
  DatasetNotFoundError,
  DatasetUnsafePathError,
} from "../errors/mod.ts";

/**
 * Checks a relative path taken from a dataset file and splits it into its
 * segments (`/` or `\\` separators; empty and `.` segments dropped).
 *
 * @param rel The path as the file writes it.
 * @param from The file the path comes from, for the error message.
 * @returns The segments, at least one.
 * @throws {DatasetUnsafePathError} When `rel` is empty, absolute, has a drive
 * letter, a NUL byte or a `..` segment.
 */
export function safeSegments(rel: string, from: string): string[] {
  const segments = rel.split(/[\\/]/).filter((s) => s !== "" && s !== ".");
  const problem = rel === ""
    ? "it is empty"
    : rel.includes("\0")
    ? "it contains a NUL byte"
    : isAbsolute(rel) || /^[\\/]/.test(rel) || /^[A-Za-z]:/.test(rel)
    ? "it is absolute"
    : segments.includes("..")
    ? "it contains a `..` segment"
    : segments.length === 0
    ? "it names the root itself"
    : null;
  if (problem !== null) {
    throw new DatasetUnsafePathError(
      `Cannot use path "${rel}" from ${from}: ${problem}, and a dataset reader stays inside its root`,
      { path: from },
    );
  }
  return segments;
}

/**
 * Joins a relative path taken from a dataset file to the dataset root,
 * refusing any path that could leave the root.
 *
 * @param root The dataset root.
 * @param rel The path as the file writes it (`/` or `\\` separators).
 * @param from The file the path comes from, for the error message.
 * @returns `rel` joined to `root`.
 * @throws {DatasetUnsafePathError} As {@linkcode safeSegments} does.
 */
export function insideRoot(root: string, rel: string, from: string): string {
  return join(root, ...safeSegments(rel, from));
}

/**
 * Reads a whole file.
 *
 * @param path The file.
 * @param what What the file is, for the error message (e.g. "PF-WILLOW pair list").
 * @param name How errors name the file (default `path`; a source passes it relative to its root).
 * @returns The bytes.
 * @throws {DatasetNotFoundError} When the file does not exist.
 * @throws {DatasetMalformedError} When it cannot be read (a folder, no permission).
 */
export async function readBytes(
  path: string,
  what: string,
  name: string = path,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path, { signal });
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) {
      throw new DatasetNotFoundError(`Cannot read ${what} ${name}: no such file`, {
        path: name,
        cause,
      });
    }
    throw new DatasetMalformedError(
      `Cannot read ${what} ${name}: ${ioReason(cause, path, name)}`,
      { path: name, cause },
    );
  }
}

/**
 * The reason of an I/O error for a message, with the absolute path it may
 * carry (Deno's messages name it) replaced by the name clients see.
 */
function ioReason(cause: unknown, path: string, name: string): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  return message.split(path).join(name);
}

/**
 * Tells whether a path exists and is a file.
 *
 * @param path The path.
 * @param name How errors name it (default `path`).
 * @returns `true` for an existing file, `false` when nothing is there.
 * @throws {DatasetMalformedError} When the path exists but is not a file, or
 * cannot be checked.
 */
export async function isFile(path: string, name: string = path): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) {
      throw new DatasetMalformedError(`Cannot use ${name}: it is not a file`, { path: name });
    }
    return true;
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) return false;
    if (cause instanceof DatasetMalformedError) throw cause;
    throw new DatasetMalformedError(`Cannot check ${name}: ${ioReason(cause, path, name)}`, {
      path: name,
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
 * @param name How errors name it (default `path`).
 * @returns Its entries.
 * @throws {DatasetNotFoundError} When the folder does not exist.
 * @throws {DatasetMalformedError} When it cannot be listed.
 */
export async function listDir(
  path: string,
  what: string,
  name: string = path,
): Promise<Deno.DirEntry[]> {
  const entries: Deno.DirEntry[] = [];
  try {
    for await (const entry of Deno.readDir(path)) entries.push(entry);
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) {
      throw new DatasetNotFoundError(`Cannot read ${what} ${name}: no such folder`, {
        path: name,
        cause,
      });
    }
    throw new DatasetMalformedError(
      `Cannot list ${what} ${name}: ${ioReason(cause, path, name)}`,
      { path: name, cause },
    );
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

/**
 * Reads the first bytes of a local file.
 *
 * @param path The file.
 * @param length The most bytes wanted.
 * @param name How errors name it (default `path`).
 * @returns Up to `length` bytes (fewer when the file is shorter), or `null`
 * when the file does not exist.
 * @throws {DatasetMalformedError} When it cannot be opened or read; the message names it.
 */
export async function readFileHead(
  path: string,
  length: number,
  name: string = path,
): Promise<Uint8Array | null> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) return null;
    throw new DatasetMalformedError(`Cannot read ${name}: ${ioReason(cause, path, name)}`, {
      path: name,
      cause,
    });
  }
  try {
    const bytes = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const n = await file.read(bytes.subarray(filled));
      if (n === null) break;
      filled += n;
    }
    return bytes.slice(0, filled);
  } catch (cause) {
    throw new DatasetMalformedError(`Cannot read ${name}: ${ioReason(cause, path, name)}`, {
      path: name,
      cause,
    });
  } finally {
    file.close();
  }
}
