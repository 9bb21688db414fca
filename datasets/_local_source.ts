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
import { insideRoot, isFile, listDir, readBytes, readFileHead, safeSegments } from "./_files.ts";
import { Limiter } from "./_limiter.ts";
import {
  type DataEntry,
  type DataSourceOptions,
  DEFAULT_FROM,
  resolveOptions,
  SourceBase,
} from "./_source_base.ts";

/**
 * Files under a local folder; reads are bounded in size, in number at once
 * and in time. Errors name files relative to the root (the root itself is a
 * server path that clients neither see nor need).
 */
export class LocalDataSource extends SourceBase {
  /** The folder, as given. */
  readonly root: string;
  /** Always `false`. */
  readonly remote = false;
  #maxBytes: number;
  #timeoutMs: number;
  #limiter: Limiter;
  /** Whether a read under the root has succeeded (so a missing root means it vanished). */
  #rootSeen = false;

  /**
   * Opens a folder; nothing is read yet.
   *
   * @param root The folder.
   * @param options `maxBytes`, `maxConcurrent` and `timeoutMs`, the longest
   *   one read may take (`fetch` is unused).
   * @throws {RangeError} When an option is not valid.
   */
  constructor(root: string, options: DataSourceOptions = {}) {
    super();
    const resolved = resolveOptions(options);
    this.root = root;
    this.#maxBytes = resolved.maxBytes;
    this.#timeoutMs = resolved.timeoutMs;
    this.#limiter = new Limiter(resolved.maxConcurrent);
  }

  /**
   * How errors name a file: its checked path relative to the root, with `/`.
   *
   * @param rel The path relative to the root.
   * @param from Where the path comes from, for the error message.
   * @returns The normalized relative path.
   */
  locate(rel: string, from: string = DEFAULT_FROM): string {
    return safeSegments(rel, from).join("/");
  }

  /** The file's name for errors (as {@linkcode LocalDataSource.locate}) and its path on disk. */
  #target(rel: string): { name: string; path: string } {
    return { name: this.locate(rel), path: insideRoot(this.root, rel, DEFAULT_FROM) };
  }

  /**
   * Runs one read within the limiter and the deadline: a read that blocks
   * (a hung mount, a FIFO) fails as `dataset_unavailable` instead of holding
   * the evaluation forever. The blocked call itself cannot be cancelled; the
   * signal stops what can be.
   */
  #run<T>(name: string, what: string, read: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.#limiter.run(async () => {
      const controller = new AbortController();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(
            new DatasetUnavailableError(
              `Cannot read ${what} ${name}: no answer within ${this.#timeoutMs} ms`,
              { path: name },
            ),
          );
        }, this.#timeoutMs);
      });
      try {
        return await Promise.race([read(controller.signal), deadline]);
      } finally {
        clearTimeout(timer);
      }
    });
  }

  /**
   * Reads a whole file, refusing one larger than `maxBytes`.
   *
   * @param rel The path relative to the root.
   * @param what What the file is, for the error message.
   * @returns Its bytes.
   */
  async readBytes(rel: string, what: string): Promise<Uint8Array> {
    const { name, path } = this.#target(rel);
    return await this.#run(name, what, async (signal) => {
      let size: number;
      try {
        const info = await Deno.stat(path);
        this.#rootSeen = true;
        // A FIFO or device would block the read forever (or never end).
        if (!info.isFile) {
          throw new DatasetMalformedError(`Cannot read ${what} ${name}: not a regular file`, {
            path: name,
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
            `Cannot read ${what} ${name}: the dataset's root folder is gone`,
            { path: name, cause },
          );
        }
        if (cause instanceof Deno.errors.NotFound) {
          throw new DatasetNotFoundError(`Cannot read ${what} ${name}: no such file`, {
            path: name,
            cause,
          });
        }
        throw new DatasetMalformedError(
          `Cannot read ${what} ${name}: ${(cause as Error).name}`,
          { path: name, cause },
        );
      }
      if (size > this.#maxBytes) {
        throw new DatasetMalformedError(
          `Cannot read ${what} ${name}: it is ${size} bytes, more than the ${this.#maxBytes}-byte limit (maxBytes)`,
          { path: name },
        );
      }
      return await readBytes(path, what, name, signal);
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
    const { name, path } = this.#target(rel);
    return await this.#run(name, "the head of", () => readFileHead(path, length, name));
  }

  /**
   * Tells whether a file exists.
   *
   * @param rel The path relative to the root.
   * @returns `true` for a file, `false` when nothing is there.
   */
  async isFile(rel: string): Promise<boolean> {
    const { name, path } = this.#target(rel);
    return await this.#run(name, "the type of", () => isFile(path, name));
  }

  /**
   * Lists a folder.
   *
   * @param rel The path relative to the root.
   * @param what What the folder is, for the error message.
   * @returns Its entries, sorted by name.
   */
  async listDir(rel: string, what: string): Promise<DataEntry[]> {
    const { name, path } = this.#target(rel);
    const entries = await this.#run(name, what, () => listDir(path, what, name));
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
