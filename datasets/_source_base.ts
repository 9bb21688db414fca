/**
 * What the local and the HTTP data sources share: the {@linkcode DataSource}
 * interface, option defaults, and text and JSON decoding on top of
 * `readBytes`. Private to the readers; callers use `openDataSource()`.
 *
 * @module
 */

import { DatasetMalformedError } from "../errors/mod.ts";

/** One entry of a listed folder. */
export interface DataEntry {
  /** The entry's name. */
  name: string;
  /** Whether it is a file. */
  isFile: boolean;
  /** Whether it is a folder. */
  isDirectory: boolean;
}

/** Limits of a data source. */
export interface DataSourceOptions {
  /** The fetch to use for URL roots (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** Longest time in ms one read may take (a request, body included, for URL roots; default 30 000). */
  timeoutMs?: number;
  /** Largest file in bytes that `readBytes` accepts (default 64 MiB). */
  maxBytes?: number;
  /** Most reads in flight at once (default 8). */
  maxConcurrent?: number;
}

/**
 * Files of one dataset root, a local folder or an `https://` base URL. Every
 * path is relative to the root, checked before use (no `..`, absolute path,
 * drive letter or NUL byte), and every failure is a `DatasetError` that names
 * the file by its path relative to the root.
 */
export interface DataSource {
  /** The root, as given. */
  readonly root: string;
  /** `true` for a URL root: files are fetched, and folders cannot be listed. */
  readonly remote: boolean;
  /**
   * How errors name a file: its path relative to the root, normalized (never
   * the server's absolute path or the root's URL). Checks the path.
   *
   * @param rel The path relative to the root.
   * @param from Where the path comes from, for the error message.
   * @returns The relative path.
   * @throws {DatasetUnsafePathError} When `rel` would leave the root.
   */
  locate(rel: string, from?: string): string;
  /**
   * Reads a whole file.
   *
   * @param rel The path relative to the root.
   * @param what What the file is, for the error message.
   * @returns Its bytes, in a buffer of their own.
   * @throws {DatasetNotFoundError} When the file does not exist (HTTP 404 or 410).
   * @throws {DatasetMalformedError} When it cannot be read, is larger than
   * `maxBytes`, or the request fails.
   * @throws {DatasetUnavailableError} When the read takes longer than `timeoutMs`.
   */
  readBytes(rel: string, what: string): Promise<Uint8Array>;
  /**
   * Reads a whole UTF-8 file.
   *
   * @param rel The path relative to the root.
   * @param what What the file is, for the error message.
   * @returns The text.
   * @throws {DatasetNotFoundError} When the file does not exist.
   * @throws {DatasetMalformedError} When it cannot be read or is not UTF-8.
   */
  readText(rel: string, what: string): Promise<string>;
  /**
   * Reads and parses a JSON file.
   *
   * @param rel The path relative to the root.
   * @param what What the file is, for the error message.
   * @returns The parsed value (unchecked).
   * @throws {DatasetNotFoundError} When the file does not exist.
   * @throws {DatasetMalformedError} When it cannot be read or is not JSON.
   */
  readJson(rel: string, what: string): Promise<unknown>;
  /**
   * Reads the first bytes of a file (an image header).
   *
   * @param rel The path relative to the root.
   * @param length The most bytes wanted.
   * @returns Up to `length` bytes (fewer at the end of the file), or `null`
   * when the file does not exist.
   * @throws {DatasetMalformedError} When it cannot be read.
   */
  readHead(rel: string, length: number): Promise<Uint8Array | null>;
  /**
   * Tells whether a file exists.
   *
   * @param rel The path relative to the root.
   * @returns `true` for a file, `false` when nothing is there.
   * @throws {DatasetMalformedError} When the path is a folder or cannot be checked.
   */
  isFile(rel: string): Promise<boolean>;
  /**
   * Lists a folder, sorted by name in code-unit order.
   *
   * @param rel The path relative to the root.
   * @param what What the folder is, for the error message.
   * @returns Its entries.
   * @throws {DatasetNotFoundError} When the folder does not exist, or always
   * for a URL root, which cannot list folders.
   * @throws {DatasetMalformedError} When it cannot be listed.
   */
  listDir(rel: string, what: string): Promise<DataEntry[]>;
}

/** The defaults of {@linkcode DataSourceOptions}. */
export const DATA_SOURCE_DEFAULTS = Object.freeze({
  /** Longest read in ms (for URL roots a request, body included): 30 s. */
  timeoutMs: 30_000,
  /** Largest file in bytes: 64 MiB. */
  maxBytes: 64 * 1024 * 1024,
  /** Most reads in flight. */
  maxConcurrent: 8,
});
/** `from` of paths checked without a more precise origin. */
export const DEFAULT_FROM = "a dataset reader";

/** Options with defaults applied and checked. */
export interface ResolvedOptions {
  fetch: typeof fetch;
  timeoutMs: number;
  maxBytes: number;
  maxConcurrent: number;
}

/**
 * Applies the defaults and checks the options.
 *
 * @param options The options as given.
 * @returns Complete options.
 * @throws {RangeError} When a limit is not a positive number.
 */
export function resolveOptions(options: DataSourceOptions): ResolvedOptions {
  const resolved = {
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    timeoutMs: options.timeoutMs ?? DATA_SOURCE_DEFAULTS.timeoutMs,
    maxBytes: options.maxBytes ?? DATA_SOURCE_DEFAULTS.maxBytes,
    maxConcurrent: options.maxConcurrent ?? DATA_SOURCE_DEFAULTS.maxConcurrent,
  } satisfies ResolvedOptions;
  for (const key of ["timeoutMs", "maxBytes"] as const) {
    if (!(resolved[key] > 0)) {
      throw new RangeError(
        `Cannot open data source: ${key} must be a positive number, got ${resolved[key]}`,
      );
    }
  }
  if (!Number.isInteger(resolved.maxConcurrent) || resolved.maxConcurrent < 1) {
    throw new RangeError(
      `Cannot open data source: maxConcurrent must be a positive integer, got ${resolved.maxConcurrent}`,
    );
  }
  return resolved;
}

/** `readText` and `readJson` on top of `readBytes`. */
export abstract class SourceBase implements DataSource {
  abstract readonly root: string;
  abstract readonly remote: boolean;
  abstract locate(rel: string, from?: string): string;
  abstract readBytes(rel: string, what: string): Promise<Uint8Array>;
  abstract readHead(rel: string, length: number): Promise<Uint8Array | null>;
  abstract isFile(rel: string): Promise<boolean>;
  abstract listDir(rel: string, what: string): Promise<DataEntry[]>;

  /**
   * Reads a whole UTF-8 file.
   *
   * @param rel The path relative to the root.
   * @param what What the file is, for the error message.
   * @returns The text.
   */
  async readText(rel: string, what: string): Promise<string> {
    const bytes = await this.readBytes(rel, what);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch (cause) {
      const path = this.locate(rel);
      throw new DatasetMalformedError(`Cannot read ${what} ${path}: not UTF-8 text`, {
        path,
        cause,
      });
    }
  }

  /**
   * Reads and parses a JSON file.
   *
   * @param rel The path relative to the root.
   * @param what What the file is, for the error message.
   * @returns The parsed value.
   */
  async readJson(rel: string, what: string): Promise<unknown> {
    const text = await this.readText(rel, what);
    try {
      return JSON.parse(text);
    } catch (cause) {
      const path = this.locate(rel);
      throw new DatasetMalformedError(
        `Cannot read ${what} ${path}: invalid JSON: ${(cause as Error).message}`,
        { path, cause },
      );
    }
  }
}
