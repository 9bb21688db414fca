/**
 * Starts the real service (real server, real worker pool, real model) for a
 * test, and stops it afterwards.
 *
 * @module
 */

import { startService } from "../../main.ts";
import { loadConfig } from "../../service/config.ts";

/** Where the read-only PF-WILLOW data lies. */
export const WILLOW = new URL("../../../shared/data/pf-willow/PF-dataset/", import.meta.url);

/** Reads one PF-WILLOW image. */
export function willowImage(path: string): Promise<Uint8Array> {
  return Deno.readFile(new URL(path, WILLOW));
}

/**
 * Runs `fn` against a freshly started service.
 *
 * @param env Settings as environment variables (PORT and HOST are set).
 * @param fn The test body, given the base URL.
 * @param options `workerUrl` swaps in a fixture worker; `awaitReady: false`
 *   starts `fn` at once, without waiting for (or failing on) the model load.
 */
export async function withService(
  env: Record<string, string>,
  fn: (url: string) => Promise<void>,
  options: { workerUrl?: URL; awaitReady?: boolean } = {},
): Promise<void> {
  const { awaitReady = true, ...startOptions } = options;
  const service = await startService(
    // Each service gets its own in-memory jobs KV unless the test shares one.
    loadConfig({
      WORKERS: "1",
      KV_PATH: ":memory:",
      ACCESS_LOG: "0",
      ...env,
      PORT: "0",
      HOST: "127.0.0.1",
    }),
    { ...startOptions, quiet: true },
  );
  try {
    if (awaitReady) await service.ready;
    else service.ready.catch(() => {});
    await fn(service.url);
  } finally {
    await service.close();
  }
}

/** Builds a multipart match request body. */
export function matchForm(
  source: Uint8Array,
  target: Uint8Array,
  points: unknown,
  options: Record<string, string> = {},
): FormData {
  const form = new FormData();
  form.set("source", new Blob([source as BlobPart]), "source.png");
  form.set("target", new Blob([target as BlobPart]), "target.png");
  form.set("points", typeof points === "string" ? points : JSON.stringify(points));
  for (const [k, v] of Object.entries(options)) form.set(k, v);
  return form;
}

/** POSTs to /v1/match and returns status, headers and JSON. */
export async function postMatch(
  url: string,
  body: FormData | string,
  headers: Record<string, string> = {},
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(`${url}/v1/match`, { method: "POST", body, headers });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`Not JSON (${res.status}): ${text.slice(0, 200)}`);
  }
  return { status: res.status, headers: res.headers, json };
}

/** Bytes as base64, as the JSON request form carries images. */
export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}
