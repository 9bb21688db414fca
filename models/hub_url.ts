// This module is browser compatible.
/**
 * Resolves `hf://` model URLs to the Hugging Face Hub's download URL.
 *
 * The form is `hf://<owner>/<repo>[@<revision>]/<path/in/repo>`, the one
 * `huggingface_hub`'s `HfFileSystem` uses. The revision (a branch, tag or
 * commit hash; default `main`) may be percent-encoded when it holds a slash
 * (`refs%2Fpr%2F1`). The file comes from
 * `<endpoint>/<owner>/<repo>/resolve/<revision>/<path>`; the endpoint defaults
 * to `https://huggingface.co`, and callers pass `HF_ENDPOINT` to use a mirror.
 *
 * @example Usage
 * ```ts
 * import { resolveHubUrl } from "./hub_url.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   resolveHubUrl("hf://onnx-community/dinov2-small/onnx/model.onnx"),
 *   "https://huggingface.co/onnx-community/dinov2-small/resolve/main/onnx/model.onnx",
 * );
 * assert.equal(
 *   resolveHubUrl("hf://acme/vit@v1.0/model.onnx", { endpoint: "http://127.0.0.1:8080/" }),
 *   "http://127.0.0.1:8080/acme/vit/resolve/v1.0/model.onnx",
 * );
 * assert.throws(() => resolveHubUrl("hf://acme/model.onnx"), TypeError);
 * ```
 *
 * @module
 */

/** The public Hugging Face Hub. */
export const DEFAULT_HF_ENDPOINT = "https://huggingface.co";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Turns an `hf://` URL into the HTTP URL that serves the file.
 *
 * @param url `hf://<owner>/<repo>[@<revision>]/<path/in/repo>`.
 * @param options `endpoint`: the Hub's base URL (default {@linkcode DEFAULT_HF_ENDPOINT}).
 * @returns The `resolve` URL of the file.
 * @throws {TypeError} When the URL is not of that form: no file path, an empty
 *   or `..` segment, or an owner or repo name with other characters than
 *   letters, digits, `.`, `_` and `-`.
 */
export function resolveHubUrl(url: string, options: { endpoint?: string } = {}): string {
  if (!url.startsWith("hf://")) {
    throw new TypeError(`Cannot resolve ${url}: not an hf:// URL`);
  }
  const parts = url.slice("hf://".length).split("/");
  if (parts.length < 3) {
    throw new TypeError(
      `Cannot resolve ${url}: expected hf://<owner>/<repo>[@<revision>]/<path/in/repo>`,
    );
  }
  const [owner, repoAndRevision, ...path] = parts;
  const at = repoAndRevision.indexOf("@");
  const repo = at < 0 ? repoAndRevision : repoAndRevision.slice(0, at);
  let revision = "main";
  if (at >= 0) {
    try {
      revision = decodeURIComponent(repoAndRevision.slice(at + 1));
    } catch {
      throw new TypeError(`Cannot resolve ${url}: the revision is not valid percent-encoding`);
    }
  }
  if (!NAME.test(owner) || !NAME.test(repo) || repo.includes("..")) {
    throw new TypeError(
      `Cannot resolve ${url}: owner and repo take letters, digits, '.', '_' and '-'`,
    );
  }
  if (revision === "" || revision.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw new TypeError(`Cannot resolve ${url}: the revision is empty or has an empty segment`);
  }
  const segments = path.map((s) => decodeSegment(s, url));
  if (segments.some((s) => s === "" || s === "." || s === ".." || s.includes("/"))) {
    throw new TypeError(
      `Cannot resolve ${url}: the file path has an empty, '.' or '..' segment`,
    );
  }
  const endpoint = (options.endpoint ?? DEFAULT_HF_ENDPOINT).replace(/\/+$/, "");
  const file = segments.map((s) => encodeURIComponent(s)).join("/");
  return `${endpoint}/${owner}/${repo}/resolve/${encodeURIComponent(revision)}/${file}`;
}

function decodeSegment(segment: string, url: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new TypeError(`Cannot resolve ${url}: the file path is not valid percent-encoding`);
  }
}
