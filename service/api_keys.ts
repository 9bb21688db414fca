/**
 * The API keys in force: `API_KEYS` plus the lines of `API_KEYS_FILE` (one
 * key per line; blank lines and `#` comments skipped), read once at start.
 *
 * @example Usage
 * ```ts
 * import { loadApiKeys } from "./api_keys.ts";
 * import assert from "node:assert/strict";
 *
 * const file = await Deno.makeTempFile();
 * await Deno.writeTextFile(file, "# ops\nsecond-key-b\n\n  third-key-c  \n");
 * const keys = await loadApiKeys({ keys: ["first-key-a"], keysFile: file });
 * assert.deepEqual(keys, ["first-key-a", "second-key-b", "third-key-c"]);
 * await Deno.remove(file);
 * ```
 *
 * @module
 */

/**
 * Reads the keys.
 *
 * @param access `keys` from `API_KEYS`, `keysFile` from `API_KEYS_FILE`.
 * @returns The keys, without duplicates.
 * @throws {TypeError} When the file cannot be read, or a key is shorter than 8 characters.
 */
export async function loadApiKeys(
  access: { keys: readonly string[]; keysFile?: string },
): Promise<string[]> {
  const keys = [...access.keys];
  if (access.keysFile) {
    let text: string;
    try {
      text = await Deno.readTextFile(access.keysFile);
    } catch (e) {
      throw new TypeError(
        `Cannot start: cannot read API_KEYS_FILE ${access.keysFile}: ${(e as Error).message}`,
      );
    }
    for (const line of text.split("\n")) {
      const key = line.trim();
      if (key && !key.startsWith("#")) keys.push(key);
    }
  }
  const short = keys.filter((k) => k.length < 8);
  if (short.length) {
    throw new TypeError(`Cannot start: ${short.length} API key(s) shorter than 8 characters`);
  }
  return [...new Set(keys)];
}
