/**
 * Downloads one file to disk, streaming: chunks go to a temporary file
 * `<dest>.partial-<random>` in the destination's directory while SHA-256 is
 * computed on the way, so memory stays flat whatever the file's size. The
 * temporary file is renamed onto `dest` (atomic on one file system) only
 * once size and hash are verified; on any failure it is deleted, so a partial
 * or corrupt download is never used and never left behind.
 *
 * Checks, each failing with a {@linkcode ModelLoadError} that names the URL:
 * - HTTP status (404 reads "not found (HTTP 404)");
 * - `Content-Length` against `maxBytes` and `expectedBytes`, before any byte
 *   is written, then the running total against both while streaming;
 * - truncation (fewer bytes than `Content-Length`);
 * - `expectedSha256` ("sha256 mismatch", with expected and actual in details);
 * - a stall: `timeoutMs` is the longest wait for the response headers and
 *   for each next chunk, so a large file on a slow link still completes
 *   while a server that stops sending fails in bounded time;
 * - a redirect to plain http on a non-loopback host.
 *
 * @example Usage
 * ```ts
 * import { downloadFile } from "./download_file.ts";
 * import assert from "node:assert/strict";
 *
 * const body = new TextEncoder().encode("abc");
 * const fakeFetch = () => Promise.resolve(new Response(body));
 * const dir = await Deno.makeTempDir();
 * const result = await downloadFile("https://example.com/abc.bin", `${dir}/abc.bin`, {
 *   label: "model `abc`",
 *   expectedSha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 *   fetch: fakeFetch as typeof fetch,
 * });
 * assert.equal(result.bytes, 3);
 * assert.equal(await Deno.readTextFile(`${dir}/abc.bin`), "abc");
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { createHash } from "node:crypto";
import { ModelLoadError } from "../errors/mod.ts";
import { resolveModelSource } from "./model_source.ts";

/** Options of {@linkcode downloadFile}. */
export interface DownloadOptions {
  /** Names what is downloaded in error messages, e.g. "model `dinov2-small`". */
  label: string;
  /** Largest accepted body in bytes (default 4 GiB). */
  maxBytes?: number;
  /** Longest wait in ms for the response headers and for each next chunk (default 30 000). */
  timeoutMs?: number;
  /** Exact size the body must have. */
  expectedBytes?: number;
  /** Lower- or upper-case hex SHA-256 the body must have. */
  expectedSha256?: string;
  /** The fetch to use (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /**
   * Request headers (e.g. the hub's `Authorization`); fetch drops
   * `Authorization` when a redirect leaves the origin, so a token never
   * reaches the CDN a hub redirects to.
   */
  headers?: Record<string, string>;
  /**
   * How messages name the URL (default: the URL without its query). The
   * loader passes the model's own URL (`hf://...`), so the hub endpoint it
   * resolves to stays out of client answers.
   */
  shown?: string;
}

/** What was downloaded. */
export interface DownloadResult {
  /** Lower-case hex SHA-256 of the file. */
  sha256: string;
  /** Size of the file in bytes. */
  bytes: number;
  /** The URL the body came from, after redirects. */
  url: string;
  /**
   * How the body is known to be whole: its pinned `sha256`, its pinned size,
   * or the length the server announced; `null` when none of these held (a
   * chunked response cut short would look the same), so it must not be cached.
   */
  complete: "sha256" | "bytes" | "announced" | null;
}

/** 4 GiB: larger than any backbone the WASM backend can run. */
export const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;

/** Default stall timeout of downloads, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Downloads `url` to `dest`, verified, or leaves nothing.
 *
 * @param url An `https://` URL (or `http://` on a loopback host).
 * @param dest Final path; its directory must exist.
 * @param options Label for messages, limits, expected size and hash, fetch.
 * @returns The SHA-256, the size and the final URL.
 * @throws {ModelLoadError} On an HTTP error, a size or hash mismatch, a stall
 *   longer than `timeoutMs`, a network error, a truncated body, or when the
 *   file cannot be written.
 * @throws {RangeError} When `maxBytes` or `timeoutMs` is not positive.
 */
export async function downloadFile(
  url: string,
  dest: string,
  options: DownloadOptions,
): Promise<DownloadResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(maxBytes > 0) || !(timeoutMs > 0)) {
    throw new RangeError(
      `Cannot download ${url}: maxBytes (${maxBytes}) and timeoutMs (${timeoutMs}) must be positive`,
    );
  }
  const shown = options.shown ?? redact(url);
  const fail = (reason: string, details: Record<string, unknown> = {}, cause?: unknown) =>
    new ModelLoadError(`Cannot load ${options.label}: ${reason}`, {
      details: { url: shown, ...details },
      cause,
    });
  if (options.expectedBytes !== undefined && options.expectedBytes > maxBytes) {
    throw fail(`it is ${options.expectedBytes} bytes, over the limit of ${maxBytes} bytes`, {
      bytes: options.expectedBytes,
      max_bytes: maxBytes,
    });
  }

  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let waitingFor = "a response";
  const arm = (what: string) => {
    waitingFor = what;
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), timeoutMs);
  };
  const stalled = () =>
    fail(`timed out after ${timeoutMs} ms waiting for ${waitingFor} from ${shown}`, {
      timeout_ms: timeoutMs,
    });

  let tmp: string | undefined;
  let file: Deno.FsFile | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    arm("a response");
    let response: Response;
    try {
      response = await (options.fetch ?? fetch)(url, {
        signal: controller.signal,
        redirect: "follow",
        headers: options.headers,
      });
    } catch (e) {
      throw controller.signal.aborted
        ? stalled()
        : fail(`cannot reach ${shown}: ${text(e)}`, {}, e);
    }
    const finalUrl = response.url || url;
    if (!isSecure(finalUrl)) {
      await response.body?.cancel();
      throw fail(`${shown} redirected to plain http on a non-loopback host (${redact(finalUrl)})`);
    }
    if (!response.ok) {
      await response.body?.cancel();
      const status = response.status;
      throw status === 404
        ? fail(`not found (HTTP 404) at ${shown}`, { status })
        : fail(`HTTP ${status} ${response.statusText} from ${shown}`.trimEnd(), { status });
    }
    const announced = contentLength(response);
    if (announced !== undefined && announced > maxBytes) {
      await response.body?.cancel();
      throw fail(`${shown} announces ${announced} bytes, over the limit of ${maxBytes} bytes`, {
        bytes: announced,
        max_bytes: maxBytes,
      });
    }
    if (
      announced !== undefined && options.expectedBytes !== undefined &&
      announced !== options.expectedBytes
    ) {
      await response.body?.cancel();
      throw fail(
        `size mismatch: expected ${options.expectedBytes} bytes, ${shown} announces ${announced}`,
        { expected: options.expectedBytes, actual: announced },
      );
    }

    tmp = `${dest}.partial-${randomSuffix()}`;
    file = await Deno.open(tmp, { write: true, createNew: true });
    const hash = createHash("sha256");
    let total = 0;
    const limit = Math.min(maxBytes, options.expectedBytes ?? Infinity);
    if (response.body) {
      reader = response.body.getReader();
      while (true) {
        arm("more data");
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (e) {
          if (controller.signal.aborted) throw stalled();
          throw announced === undefined
            ? fail(`download from ${shown} broke off after ${total} bytes: ${text(e)}`, {
              bytes: total,
            }, e)
            : fail(
              `download from ${shown} is truncated: got ${total} of ${announced} bytes (${
                text(e)
              })`,
              { bytes: total, expected: announced },
              e,
            );
        }
        if (chunk.done) break;
        total += chunk.value.length;
        if (total > limit) {
          throw total > maxBytes
            ? fail(`${shown} sent more than the limit of ${maxBytes} bytes`, {
              max_bytes: maxBytes,
            })
            : fail(
              `size mismatch: expected ${options.expectedBytes} bytes, ${shown} sent more`,
              { expected: options.expectedBytes },
            );
        }
        hash.update(chunk.value);
        await writeAll(file, chunk.value);
      }
      reader = undefined;
    }
    clearTimeout(timer);
    if (announced !== undefined && total !== announced) {
      throw fail(`download from ${shown} is truncated: got ${total} of ${announced} bytes`, {
        bytes: total,
        expected: announced,
      });
    }
    if (options.expectedBytes !== undefined && total !== options.expectedBytes) {
      throw fail(
        `size mismatch: expected ${options.expectedBytes} bytes, got ${total} from ${shown}`,
        { expected: options.expectedBytes, actual: total },
      );
    }
    const sha256 = hash.digest("hex");
    const expected = options.expectedSha256?.toLowerCase();
    if (expected !== undefined && sha256 !== expected) {
      throw fail(`sha256 mismatch for ${shown}`, { expected, actual: sha256 });
    }
    await file.syncData();
    file.close();
    file = undefined;
    await Deno.rename(tmp, dest);
    tmp = undefined;
    const complete = expected !== undefined
      ? "sha256"
      : options.expectedBytes !== undefined
      ? "bytes"
      : announced !== undefined
      ? "announced"
      : null;
    return { sha256, bytes: total, url: finalUrl, complete };
  } catch (e) {
    if (e instanceof ModelLoadError) throw e;
    // File system trouble (disk full, permissions): still a load failure, with the place named.
    // The cache path is the server's: the log names it, the answer does not.
    console.error(`${options.label}: cannot save ${shown} to ${dest}:`, e);
    throw fail(`cannot save ${shown} in the model cache (MODEL_CACHE)`, {}, e);
  } finally {
    clearTimeout(timer);
    if (reader) await reader.cancel().catch(() => {});
    if (file) file.close();
    if (tmp) await Deno.remove(tmp).catch(() => {});
  }
}

function contentLength(response: Response): number | undefined {
  const encoding = response.headers.get("content-encoding");
  // A compressed body is decoded by fetch; its length says nothing about the file.
  if (encoding && encoding.toLowerCase() !== "identity") return undefined;
  const raw = response.headers.get("content-length");
  if (raw === null || !/^\d+$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) offset += await file.write(data.subarray(offset));
}

/** https, or http on a loopback host: the rules of {@linkcode resolveModelSource}. */
function isSecure(url: string): boolean {
  try {
    return resolveModelSource(url).kind === "http";
  } catch {
    return false;
  }
}

/** The URL without credentials or query (signed URLs carry tokens there). */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url;
  }
}

function randomSuffix(): string {
  const b = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function text(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
