/**
 * The {@linkcode DataSource} of a dataset served over HTTP(S): an object
 * store or any server that serves the same tree as the local folder. Private
 * to the readers; callers use `openDataSource()`.
 *
 * Each file's URL is built from checked, percent-encoded path segments with
 * `new URL(path, base)` and must still lie under the base. Every request has
 * a timeout (body included; past it the read is `dataset_unavailable`, as a
 * local read past its deadline is), bodies larger than `maxBytes` are refused, and
 * at most `maxConcurrent` requests are in flight. Folders cannot be listed.
 *
 * @module
 */

import {
  DatasetMalformedError,
  DatasetNotFoundError,
  DatasetUnavailableError,
  DatasetUnsafePathError,
} from "../errors/mod.ts";
import { safeSegments } from "./_files.ts";
import { Limiter } from "./_limiter.ts";
import { checkRootUrl, isLoopbackUrl } from "./_root_url.ts";
import {
  type DataEntry,
  type DataSourceOptions,
  DEFAULT_FROM,
  type ResolvedOptions,
  resolveOptions,
  SourceBase,
} from "./_source_base.ts";

/** Statuses that mean "no such file". */
const NOT_FOUND = new Set([404, 410]);

/** Redirects followed per request. */
const MAX_REDIRECTS = 5;

/** Why a request was aborted by its timer. */
class Timeout extends Error {}

/** Files under a base URL. */
export class HttpDataSource extends SourceBase {
  /** The base URL, as given. */
  readonly root: string;
  /** Always `true`. */
  readonly remote = true;
  #base: URL;
  #options: ResolvedOptions;
  #limiter: Limiter;

  /**
   * Opens a base URL; nothing is fetched yet.
   *
   * @param root An `https://` URL, or `http://` on a loopback host.
   * @param options Fetch, timeout, byte cap and concurrency.
   * @throws {RangeError} When the URL or an option is not valid.
   */
  constructor(root: string, options: DataSourceOptions = {}) {
    super();
    this.root = root;
    this.#base = checkRootUrl(root, "the dataset root");
    this.#options = resolveOptions(options);
    this.#limiter = new Limiter(this.#options.maxConcurrent);
  }

  /**
   * How errors name a file: its checked path relative to the root, with `/`
   * (the root's URL may be an internal host; the log has it).
   *
   * @param rel The path relative to the root.
   * @param from Where the path comes from, for the error message.
   * @returns The normalized relative path.
   * @throws {DatasetUnsafePathError} When `rel` would leave the root, also
   * through a percent-encoded `..`, `.` or separator.
   */
  locate(rel: string, from: string = DEFAULT_FROM): string {
    return this.#target(rel, from).name;
  }

  /**
   * The file's URL under the base, and its name for errors (see
   * {@linkcode HttpDataSource.locate}), from one check of the path.
   *
   * @param rel The path relative to the root.
   * @param from Where the path comes from, for the error message.
   * @returns The URL to fetch and the relative name.
   * @throws {DatasetUnsafePathError} As {@linkcode HttpDataSource.locate} does.
   */
  #target(rel: string, from: string = DEFAULT_FROM): { href: string; name: string } {
    const segments = safeSegments(rel, from);
    const unsafe = (problem: string) =>
      new DatasetUnsafePathError(
        `Cannot use path "${rel}" from ${from}: ${problem}, and a dataset reader stays inside its root`,
        { path: from },
      );
    for (const segment of segments) {
      let decoded = segment;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        // Not valid percent-encoding: taken literally (and encoded below).
      }
      if (decoded === ".." || decoded === "." || /[\\/\0]/.test(decoded)) {
        throw unsafe("it contains a percent-encoded `..`, `.` or separator");
      }
    }
    const url = new URL(segments.map(encodeURIComponent).join("/"), this.#base);
    if (
      url.origin !== this.#base.origin || !url.href.startsWith(this.#base.href) ||
      url.search !== "" || url.hash !== ""
    ) {
      throw unsafe("it resolves to a URL outside the root");
    }
    return { href: url.href, name: segments.join("/") };
  }

  /**
   * Fetches one file, refusing a body larger than `maxBytes`.
   *
   * @param rel The path relative to the root.
   * @param what What the file is, for the error message.
   * @returns Its bytes.
   */
  async readBytes(rel: string, what: string): Promise<Uint8Array> {
    const { href, name } = this.#target(rel);
    return await this.#request(href, name, what, "GET", {}, async (res) => {
      if (NOT_FOUND.has(res.status)) {
        throw new DatasetNotFoundError(
          `Cannot read ${what} ${name}: no such file (HTTP ${res.status})`,
          { path: name },
        );
      }
      if (!res.ok) throw this.#statusError(name, what, res);
      const declared = Number(res.headers.get("content-length") ?? NaN);
      if (declared > this.#options.maxBytes) throw this.#tooLarge(name, what, declared);
      return await this.#body(res, Infinity, (total) => {
        if (total > this.#options.maxBytes) throw this.#tooLarge(name, what);
      });
    });
  }

  /**
   * Fetches the first bytes of a file with a `Range` request (a server that
   * ignores `Range` has the rest of its body cancelled).
   *
   * @param rel The path relative to the root.
   * @param length The most bytes wanted.
   * @returns Up to `length` bytes, or `null` when the file does not exist.
   */
  async readHead(rel: string, length: number): Promise<Uint8Array | null> {
    const { href, name } = this.#target(rel);
    const range = { range: `bytes=0-${Math.max(0, length - 1)}` };
    return await this.#request(href, name, "file", "GET", range, async (res) => {
      if (NOT_FOUND.has(res.status)) return null;
      if (res.status === 416) return new Uint8Array(0); // an empty file
      if (!res.ok) throw this.#statusError(name, "file", res);
      return await this.#body(res, length, () => {});
    });
  }

  /**
   * Tells whether a file exists, with a `HEAD` request (or a one-byte `GET`
   * where `HEAD` is not allowed).
   *
   * @param rel The path relative to the root.
   * @returns `true` when the server has it, `false` on HTTP 404 or 410.
   */
  async isFile(rel: string): Promise<boolean> {
    const { href, name } = this.#target(rel);
    const status = await this.#request(href, name, "file", "HEAD", {}, (res) => {
      if (res.ok || NOT_FOUND.has(res.status) || res.status === 405 || res.status === 501) {
        return Promise.resolve(res.status);
      }
      throw this.#statusError(name, "file", res);
    });
    if (status === 405 || status === 501) return (await this.readHead(rel, 1)) !== null;
    return !NOT_FOUND.has(status);
  }

  /**
   * Always fails: a base URL cannot list folders.
   *
   * @param rel The folder relative to the root.
   * @param what What the folder is, for the error message.
   * @returns Never.
   */
  // deno-lint-ignore require-await
  async listDir(rel: string, what: string): Promise<DataEntry[]> {
    const name = this.locate(rel);
    throw new DatasetNotFoundError(
      `Cannot list ${what} ${name}: a dataset root given as a URL cannot list folders, so the files must be named by a list file`,
      { path: name },
    );
  }

  /**
   * Runs one request under the limiter and the timeout, mapping failures.
   * `href` is fetched; errors name the file as `name`, its relative path.
   */
  #request<T>(
    href: string,
    name: string,
    what: string,
    method: string,
    headers: Record<string, string>,
    consume: (res: Response) => Promise<T>,
  ): Promise<T> {
    return this.#limiter.run(async () => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new Timeout()), this.#options.timeoutMs);
      let res: Response | undefined;
      try {
        // Redirects are followed here, so that a hop to plain http on another host is never made.
        let current = href;
        for (let hop = 0;; hop++) {
          res = await this.#options.fetch(current, {
            method,
            headers,
            signal: controller.signal,
            redirect: "manual",
          });
          const location = res.status >= 300 && res.status < 400
            ? res.headers.get("location")
            : null;
          if (location === null) break;
          await res.body?.cancel();
          const next = new URL(location, current);
          if (next.protocol !== "https:" && !(next.protocol === "http:" && isLoopbackUrl(next))) {
            throw new DatasetMalformedError(
              `Cannot read ${what} ${name}: redirected to a ${next.protocol} URL, which is neither https:// nor loopback`,
              { path: name },
            );
          }
          if (hop >= MAX_REDIRECTS) {
            throw new DatasetMalformedError(
              `Cannot read ${what} ${name}: more than ${MAX_REDIRECTS} redirects`,
              { path: name },
            );
          }
          current = next.href;
        }
        return await consume(res);
      } catch (cause) {
        if (controller.signal.reason instanceof Timeout) {
          // The server did not answer in time: the data is unreachable, not malformed.
          throw new DatasetUnavailableError(
            `Cannot read ${what} ${name}: no complete answer within ${this.#options.timeoutMs} ms`,
            { path: name, cause },
          );
        }
        if (cause instanceof DatasetNotFoundError || cause instanceof DatasetMalformedError) {
          throw cause;
        }
        // The transport's message may carry the URL: the answer names the file, the log the rest.
        console.error(`Cannot read ${what} ${href}:`, cause);
        throw new DatasetMalformedError(
          `Cannot read ${what} ${name}: the request failed (${(cause as Error).name})`,
          { path: name, cause },
        );
      } finally {
        clearTimeout(timer);
        // A body nobody read (an error status, a HEAD) is released.
        if (res?.body && !res.bodyUsed && !res.body.locked) await res.body.cancel().catch(() => {});
      }
    });
  }

  /** Reads a body into one buffer: up to `limit` bytes, checking the total as it grows. */
  async #body(res: Response, limit: number, check: (total: number) => void): Promise<Uint8Array> {
    if (res.body === null) return new Uint8Array(0);
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      while (total < limit) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        total += value.length;
        check(total);
      }
    } finally {
      // Stops the transfer when the limit was reached or a check failed.
      await reader.cancel().catch(() => {});
    }
    const bytes = new Uint8Array(Math.min(total, limit));
    let offset = 0;
    for (const chunk of chunks) {
      if (offset >= bytes.length) break;
      const part = chunk.subarray(0, bytes.length - offset);
      bytes.set(part, offset);
      offset += part.length;
    }
    return bytes;
  }

  #statusError(name: string, what: string, res: Response): DatasetMalformedError {
    return new DatasetMalformedError(
      `Cannot read ${what} ${name}: HTTP ${res.status}${
        res.statusText === "" ? "" : ` ${res.statusText}`
      }`,
      { path: name },
    );
  }

  #tooLarge(name: string, what: string, declared?: number): DatasetMalformedError {
    const size = declared === undefined ? "it is larger" : `it is ${declared} bytes, more`;
    return new DatasetMalformedError(
      `Cannot read ${what} ${name}: ${size} than the ${this.#options.maxBytes}-byte limit (maxBytes)`,
      { path: name },
    );
  }
}
