/**
 * The one door to model files: turns a descriptor into the local path of a
 * verified ONNX file, downloading and caching it when it is remote.
 *
 * Sources (see {@linkcode resolveModelSource}): a local path or `file://` URL
 * is used in place (its size and sha256 are checked when the descriptor gives
 * them), and so is a file of an installed npm package (`npm:`);
 * `https://`, loopback-only `http://` and `hf://` URLs are downloaded into
 * the cache.
 *
 * Cache layout, one directory per file:
 * ```
 * <cacheDir>/<sha256>/<file name>        when the descriptor pins a sha256
 * <cacheDir>/<sha256 of the URL>/<file name>   otherwise
 * <cacheDir>/<key>/<file name>.json      sidecar: url, resolved_url, sha256, bytes, fetched_at
 * ```
 * An entry counts only when its sidecar exists and the file has the size the
 * sidecar records (and the descriptor's sha256 and bytes when given); such a
 * hit touches no network. The sidecar is written after the file is renamed
 * into place, so an interrupted download never looks cached. Without a pinned
 * sha256 the first download of a URL is trusted and kept: pin one in
 * `MODELS_CONFIG` to detect a changed upstream file.
 *
 * Concurrent loads of the same file share one download; a failed load is
 * forgotten at once, so the next call retries.
 *
 * @example Usage
 * ```ts
 * import { loadModelFile } from "./loader.ts";
 * import { BUILTIN_MODELS } from "./registry.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/tiny.onnx`;
 * await Deno.writeTextFile(path, "abc");
 * const descriptor = {
 *   ...BUILTIN_MODELS.dsift,
 *   id: "tiny",
 *   url: `file://${path}`,
 *   sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 * };
 * assert.equal(await loadModelFile(descriptor, { cacheDir: `${dir}/cache`, offline: true }), path);
 * await assert.rejects(
 *   loadModelFile({ ...descriptor, sha256: "0".repeat(64) }, { cacheDir: `${dir}/cache` }),
 *   /sha256 mismatch/,
 * );
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { DEFAULT_MAX_BYTES, downloadFile } from "./download_file.ts";
import { ModelLoadError } from "../errors/mod.ts";
import { sha256File } from "./file_sha256.ts";
import { resolveModelSource } from "./model_source.ts";
import { resolveNpmFile } from "./npm_file.ts";

/** Options of {@linkcode loadModelFile}. */
export interface LoadModelFileOptions {
  /** Root of the download cache; created when missing. */
  cacheDir: string;
  /** Use only the cache and local files, never the network (the `MODEL_OFFLINE` setting). */
  offline?: boolean;
  /** Largest accepted file in bytes (default 4 GiB). */
  maxBytes?: number;
  /** Longest wait in ms for the response headers and for each next chunk (default 30 000). */
  timeoutMs?: number;
  /** The fetch to use (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** Base URL for `hf://` URLs (default `https://huggingface.co`; callers pass `HF_ENDPOINT`). */
  hfEndpoint?: string;
  /** Token sent to the hub for `hf://` URLs (`HF_TOKEN`: gated or private repositories). */
  hfToken?: string;
}

/**
 * The file a load is about: a backbone descriptor, or one of a descriptor's
 * extra ONNX files (`head`, `refiner`) with the model's id and the part's name.
 */
export interface ModelFile {
  /** Id of the model the file belongs to (for messages). */
  id: string;
  /** Which part of the model the file is, e.g. `head`; absent for the backbone itself. */
  part?: string;
  /** Where the file comes from (see {@linkcode resolveModelSource}). */
  url: string;
  /** Expected lower- or upper-case hex SHA-256. */
  sha256?: string;
  /** Expected size in bytes. */
  bytes?: number;
}

/** The JSON sidecar stored beside each cached file. */
export interface CacheSidecar {
  /** The descriptor's URL, as written. */
  url: string;
  /** The URL actually fetched (`hf://` resolved). */
  resolved_url: string;
  /** Lower-case hex SHA-256 of the file. */
  sha256: string;
  /** Size of the file in bytes. */
  bytes: number;
  /** ISO 8601 time of the download. */
  fetched_at: string;
}

/** Partial files untouched this long were left by a killed process; a new download removes them. */
const STALE_PARTIAL_MS = 60 * 60 * 1000;

const SHA256_HEX = /^[0-9a-f]{64}$/i;

/** Temporary files of this module and of `downloadFile`: `<name>.partial-<hex>`. */
const PARTIAL = /\.partial-[0-9a-f]{8,}$/;

const pending = new Map<string, Promise<string>>();

const verifiedLocal = new Map<string, { sha256: string; size: number; mtime: number }>();

/**
 * Returns the local path of a model's verified ONNX file, downloading it into
 * the cache when needed.
 *
 * @param descriptor The model (or one part of it, see {@linkcode ModelFile});
 *   its `url`, `sha256` and `bytes` are used, `id` and `part` name it in errors.
 * @param options Cache directory, offline mode, limits, fetch and Hub endpoint.
 * @returns An absolute path to the verified file.
 * @throws {ModelLoadError} When the URL is not usable, the file is missing,
 *   too large or fails its size or sha256 check, the download fails (HTTP
 *   error, stall past `timeoutMs`, truncation), or `offline` is set and the
 *   file is not cached.
 * @throws {TypeError} For `embedded:` models, which have no file.
 * @throws {RangeError} When `maxBytes` or `timeoutMs` is not positive.
 */
export async function loadModelFile(
  descriptor: ModelFile,
  options: LoadModelFileOptions,
): Promise<string> {
  const model = `model \`${descriptor.id}\``;
  const label = descriptor.part ? `the ${descriptor.part} of ${model}` : model;
  const fail = (reason: string, details: Record<string, unknown> = {}, cause?: unknown) =>
    new ModelLoadError(`Cannot load ${label}: ${reason}`, {
      details: { url: descriptor.url, ...details },
      cause,
    });
  if (descriptor.sha256 !== undefined && !SHA256_HEX.test(descriptor.sha256)) {
    throw fail(`its sha256 is not 64 hex digits: ${descriptor.sha256}`);
  }
  let source;
  try {
    source = resolveModelSource(descriptor.url, { hfEndpoint: options.hfEndpoint });
  } catch (e) {
    throw fail((e as Error).message.replace(/^Cannot use model URL /, "bad url "), {}, e);
  }
  if (source.kind === "embedded") {
    throw new TypeError(`Cannot load ${label} from a file: it is built in (${descriptor.url})`);
  }
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (source.kind === "file") return await verifyLocal(descriptor, source.path, maxBytes, fail);
  if (source.kind === "npm") {
    let path: string;
    try {
      path = resolveNpmFile(source.specifier);
    } catch (e) {
      throw fail((e as Error).message, { package: source.name }, e);
    }
    return await verifyLocal(descriptor, path, maxBytes, fail);
  }

  const url = source.url;
  const expectedSha256 = descriptor.sha256?.toLowerCase();
  const key = expectedSha256 ?? createHash("sha256").update(url).digest("hex");
  const dir = join(resolve(options.cacheDir), key);
  const dest = join(dir, fileName(url));
  const expect = { sha256: expectedSha256, bytes: descriptor.bytes };
  if (await isCached(dest, expect)) return dest;
  if (options.offline) {
    throw fail(
      "it is not in the model cache (MODEL_CACHE) and MODEL_OFFLINE is set, so nothing is downloaded",
      { setting: "MODEL_OFFLINE" },
    );
  }
  const shared = pending.get(dest);
  if (shared) return await shared;
  const download = (async () => {
    if (await isCached(dest, expect)) return dest;
    try {
      await Deno.mkdir(dir, { recursive: true });
      await removeStalePartials(dir);
    } catch (e) {
      // Server paths go to the log, not into the answer.
      console.error(`${label}: cannot create the cache directory ${dir}:`, e);
      throw fail("cannot create the cache directory (MODEL_CACHE)", { setting: "MODEL_CACHE" }, e);
    }
    const result = await downloadFile(url, dest, {
      label,
      maxBytes,
      timeoutMs: options.timeoutMs,
      expectedBytes: descriptor.bytes,
      expectedSha256,
      fetch: options.fetch,
      shown: descriptor.url,
      // Only hub URLs get the hub's token; any other host never sees it.
      headers: descriptor.url.startsWith("hf://") && options.hfToken
        ? { authorization: `Bearer ${options.hfToken}` }
        : undefined,
    });
    if (result.complete === null) {
      // Nothing says the body is whole: this load uses it, and no later one
      // does (a body cut short would otherwise fail every later request).
      console.warn(
        `${label}: ${descriptor.url} came without a length or a pinned sha256; it is used once, not cached`,
      );
      return dest;
    }
    const sidecar: CacheSidecar = {
      url: descriptor.url,
      resolved_url: url,
      sha256: result.sha256,
      bytes: result.bytes,
      fetched_at: new Date().toISOString(),
    };
    const tmp = `${dest}.json.partial-${crypto.randomUUID().slice(0, 8)}`;
    try {
      await Deno.writeTextFile(tmp, JSON.stringify(sidecar, null, 2) + "\n");
      await Deno.rename(tmp, `${dest}.json`);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      console.error(`${label}: cannot write the cache entry in ${dir}:`, e);
      throw fail("cannot write the cache entry (MODEL_CACHE)", { setting: "MODEL_CACHE" }, e);
    }
    return dest;
  })();
  pending.set(dest, download);
  try {
    return await download;
  } finally {
    // Settled either way: a failure must not stick, and later hits are served from disk.
    if (pending.get(dest) === download) pending.delete(dest);
  }
}

async function verifyLocal(
  descriptor: ModelFile,
  path: string,
  maxBytes: number,
  fail: (reason: string, details?: Record<string, unknown>, cause?: unknown) => ModelLoadError,
): Promise<string> {
  const absolute = resolve(path);
  // Messages name the file as the descriptor does (GET /v1/models shows that
  // already); the resolved path is the server's.
  const shown = descriptor.url;
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(absolute);
  } catch (e) {
    const reason = e instanceof Deno.errors.NotFound ? "file not found" : (e as Error).name;
    throw fail(`${reason}: ${shown}`, {}, e);
  }
  if (!stat.isFile) throw fail(`not a file: ${shown}`);
  if (stat.size > maxBytes) {
    throw fail(`${shown} is ${stat.size} bytes, over the limit of ${maxBytes} bytes`, {
      bytes: stat.size,
      max_bytes: maxBytes,
    });
  }
  if (descriptor.bytes !== undefined && stat.size !== descriptor.bytes) {
    throw fail(`size mismatch: expected ${descriptor.bytes} bytes, ${shown} has ${stat.size}`, {
      expected: descriptor.bytes,
      actual: stat.size,
    });
  }
  const expected = descriptor.sha256?.toLowerCase();
  if (expected === undefined) return absolute;
  const mtime = stat.mtime?.getTime() ?? -1;
  const known = verifiedLocal.get(absolute);
  if (known && known.sha256 === expected && known.size === stat.size && known.mtime === mtime) {
    return absolute;
  }
  const { sha256: actual } = await sha256File(absolute);
  if (actual !== expected) {
    verifiedLocal.delete(absolute);
    throw fail(`sha256 mismatch for ${shown}`, { expected, actual });
  }
  verifiedLocal.set(absolute, { sha256: actual, size: stat.size, mtime });
  return absolute;
}

async function isCached(
  dest: string,
  expect: { sha256?: string; bytes?: number },
): Promise<boolean> {
  let meta: Partial<CacheSidecar>;
  let stat: Deno.FileInfo;
  try {
    meta = JSON.parse(await Deno.readTextFile(`${dest}.json`));
    stat = await Deno.stat(dest);
  } catch {
    return false;
  }
  return stat.isFile && typeof meta.bytes === "number" && stat.size === meta.bytes &&
    typeof meta.sha256 === "string" &&
    (expect.sha256 === undefined || meta.sha256 === expect.sha256) &&
    (expect.bytes === undefined || meta.bytes === expect.bytes);
}

async function removeStalePartials(dir: string): Promise<void> {
  const now = Date.now();
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !PARTIAL.test(entry.name)) continue;
    const path = join(dir, entry.name);
    try {
      const { mtime } = await Deno.stat(path);
      if (mtime && now - mtime.getTime() > STALE_PARTIAL_MS) await Deno.remove(path);
    } catch {
      // Gone already, or another process owns it: not ours to report.
    }
  }
}

/** The URL's last path segment, reduced to a safe file name. */
function fileName(url: string): string {
  const last = new URL(url).pathname.split("/").pop() ?? "";
  let name: string;
  try {
    name = decodeURIComponent(last);
  } catch {
    name = last;
  }
  name = name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "");
  return name === "" ? "model.onnx" : name;
}
