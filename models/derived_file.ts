/**
 * A file the service derives from others and keeps in the model cache (a
 * converted TF.js graph, a quantized variant): `<dir>/model.onnx` beside a
 * JSON sidecar `model.onnx.json` that records what made it and its size.
 *
 * The file and its sidecar are each written under a temporary name and renamed
 * into place, sidecar last, so a reader that finds a sidecar whose size
 * matches the file never sees a half-written graph; concurrent loads of the
 * same entry share one derivation.
 *
 * @example Usage
 * ```ts
 * import { deriveOnce, isDerivedFile, writeDerivedFile } from "./derived_file.ts";
 * import assert from "node:assert/strict";
 *
 * const dest = `${await Deno.makeTempDir()}/entry/model.onnx`;
 * const fresh = (m: Record<string, unknown>) => m.version === 1;
 * assert.equal(await isDerivedFile(dest, fresh), false);
 * const pending = new Map<string, Promise<string>>();
 * const write = () =>
 *   deriveOnce(pending, dest, async () => {
 *     await writeDerivedFile(dest, new Uint8Array([1, 2, 3]), { version: 1, bytes: 3 });
 *     return dest;
 *   });
 * assert.deepEqual(await Promise.all([write(), write()]), [dest, dest]);
 * assert.equal(await isDerivedFile(dest, fresh), true);
 * ```
 *
 * @module
 */

import { dirname } from "node:path";

/**
 * Whether `dest` holds a complete entry: its sidecar parses, `fresh` accepts
 * it (the deriving code's version), and the file has the size it records.
 *
 * @param dest The entry's file.
 * @param fresh Accepts a sidecar made by the current version of the deriver.
 * @returns `true` when the entry can be used as it is.
 */
export async function isDerivedFile(
  dest: string,
  fresh: (sidecar: Record<string, unknown>) => boolean,
): Promise<boolean> {
  try {
    const meta = JSON.parse(await Deno.readTextFile(`${dest}.json`)) as Record<string, unknown>;
    const stat = await Deno.stat(dest);
    return stat.isFile && fresh(meta) && stat.size === meta.bytes;
  } catch {
    return false;
  }
}

/**
 * Writes `bytes` to `dest` and `sidecar` to `dest.json`, each through a
 * temporary name; on failure removes what it wrote and rethrows.
 *
 * @param dest The entry's file; its folder is created.
 * @param bytes The derived file.
 * @param sidecar What made it; `bytes` should hold `bytes.length`.
 * @throws {Error} The file system's error, after cleaning up.
 */
export async function writeDerivedFile(
  dest: string,
  bytes: Uint8Array,
  sidecar: Record<string, unknown>,
): Promise<void> {
  const tag = crypto.randomUUID().slice(0, 8);
  try {
    await Deno.mkdir(dirname(dest), { recursive: true });
    await Deno.writeFile(`${dest}.partial-${tag}`, bytes);
    await Deno.rename(`${dest}.partial-${tag}`, dest);
    await Deno.writeTextFile(
      `${dest}.json.partial-${tag}`,
      JSON.stringify(sidecar, null, 2) + "\n",
    );
    await Deno.rename(`${dest}.json.partial-${tag}`, `${dest}.json`);
  } catch (e) {
    await Deno.remove(`${dest}.partial-${tag}`).catch(() => {});
    await Deno.remove(`${dest}.json.partial-${tag}`).catch(() => {});
    throw e;
  }
}

/**
 * Runs `derive` for `dest` unless a derivation of it is already in flight,
 * in which case its result is shared.
 *
 * @param pending The deriver's in-flight derivations, by entry.
 * @param dest The entry.
 * @param derive Makes the entry.
 * @returns What `derive` returned (for this call or the one in flight).
 */
export async function deriveOnce<T>(
  pending: Map<string, Promise<T>>,
  dest: string,
  derive: () => Promise<T>,
): Promise<T> {
  const shared = pending.get(dest);
  if (shared) return await shared;
  const work = derive();
  pending.set(dest, work);
  try {
    return await work;
  } finally {
    if (pending.get(dest) === work) pending.delete(dest);
  }
}
