/**
 * The {@linkcode DataSource} of a local dataset folder. Private to the
 * readers; callers use `openDataSource()`.
 *
 * @module
 */

import {
  DatasetMalformedError,
  DatasetNotFoundError,
  DatasetUnavailableError,
} from "../errors/mod.ts";
import { insideRoot, isFile, listDir, readBytes, readFileHead } from "./_files.ts";
import { Limiter } from "./_limiter.ts";
import {
  type DataEntry,
  type DataSourceOptions,
  DEFAULT_FROM,
  resolveOptions,
  SourceBase,
} from "./_source_base.ts";

/** Files under a local folder; reads are bounded in size and in number at once. */
export class LocalDataSource extends SourceBase {
  /** The folder, as given. */
  readonly root: string;
  /** Always `false`. */
  readonly remote = false;
  #maxBytes: number;
  #limiter: Limiter;
  /** Whether a read under the root has succeeded (so a missing root means it vanished). */
  #rootSeen = false;

  /**
   * Opens a folder; nothing is read yet.
   *
   * @param root The folder.
   * @param options `maxBytes` and `maxConcurrent` (`fetch` and `timeoutMs` are unused).
   * @throws {RangeError} When an option is not valid.
   */
  constructor(root: string, options: DataSourceOptions = {}) {
    super();
    const resolved = resolveOptions(options);
    this.root = root;
    this.#maxBytes = resolved.maxBytes;
    this.#limiter = new Limiter(resolved.maxConcurrent);
  }

  /**
   * The file's path under the root.
   *
   * @param rel The path relative to the root.
   * @param from Where the path comes from, for the error message.
   * @returns The joined path.
   */
  locate(rel: string, from: string = DEFAULT_FROM): string {
    return insideRoot(this.root, rel, from);
  }

  /**
   * Reads a whole file, refusing one larger than `maxBytes`.
   *
   * @param rel The path relative to the root.
   * @param what What the file is, for the error message.
   * @returns Its bytes.
   */
  async readBytes(rel: string, what: string): Promise<Uint8Array> {
    const path = this.locate(rel);
    return await this.#limiter.run(async () => {
      let size: number;
      try {
        const info = await Deno.stat(path);
        this.#rootSeen = true;
        // A FIFO or device would block the read forever (or never end).
        if (!info.isFile) {
          throw new DatasetMalformedError(`Cannot read ${what} ${rel}: not a regular file`, {
            path,
          });
        }
        size = info.size;
      } catch (cause) {
        if (cause instanceof DatasetMalformedError) throw cause;
        // Only a root this source has read from can be "gone": one that never
        // existed is a setting that names no dataset (404 dataset_not_found).
        if (
          cause instanceof Deno.errors.NotFound && this.#rootSeen && !(await isFolder(this.root))
        ) {
          throw new DatasetUnavailableError(
            `Cannot read ${what} ${rel}: the dataset's root folder is gone`,
            { path, cause },
          );
        }
        if (cause instanceof Deno.errors.NotFound) {
          throw new DatasetNotFoundError(`Cannot read ${what} ${path}: no such file`, {
            path,
            cause,
          });
        }
        throw new DatasetMalformedError(
          `Cannot read ${what} ${path}: ${(cause as Error).message}`,
          { path, cause },
        );
      }
      if (size > this.#maxBytes) {
        throw new DatasetMalformedError(
          `Cannot read ${what} ${path}: it is ${size} bytes, more than the ${this.#maxBytes}-byte limit (maxBytes)`,
          { path },
        );
      }
      return await readBytes(path, what);
    });
  }

  /**
   * Reads the first bytes of a file.
   *
   * @param rel The path relative to the root.
   * @param length The most bytes wanted.
   * @returns Up to `length` bytes, or `null` when the file does not exist.
   */
  async readHead(rel: string, length: number): Promise<Uint8Array | null> {
    const path = this.locate(rel);
    return await this.#limiter.run(() => readFileHead(path, length));
  }

  /**
   * Tells whether a file exists.
   *
   * @param rel The path relative to the root.
   * @returns `true` for a file, `false` when nothing is there.
   */
  async isFile(rel: string): Promise<boolean> {
    const path = this.locate(rel);
    return await this.#limiter.run(() => isFile(path));
  }

  /**
   * Lists a folder.
   *
   * @param rel The path relative to the root.
   * @param what What the folder is, for the error message.
   * @returns Its entries, sorted by name.
   */
  async listDir(rel: string, what: string): Promise<DataEntry[]> {
    const path = this.locate(rel);
    const entries = await this.#limiter.run(() => listDir(path, what));
    return entries.map(({ name, isFile, isDirectory }) => ({ name, isFile, isDirectory }));
  }
}

/** Whether `path` is an existing folder. */
async function isFolder(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}
