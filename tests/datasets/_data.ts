/**
 * Where the tests find the shared benchmark data (read in place, never
 * copied): `../shared/data` from the project root.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** Absolute path of `shared/data`, with a trailing separator. */
export const SHARED_DATA: string = fileURLToPath(new URL("../../../shared/data/", import.meta.url));

/** Absolute path of the PF-WILLOW slice. */
export const PF_WILLOW_ROOT: string = `${SHARED_DATA}pf-willow`;

/** Absolute path of the SPair-71k slice (the folder holding `Layout/`). */
export const SPAIR_ROOT: string = `${SHARED_DATA}spair-71k/SPair-71k`;

/** Absolute path of the PF-PASCAL pair lists' root. */
export const PF_PASCAL_ROOT: string = `${SHARED_DATA}pf-pascal`;

/** Absolute path of the AP-10K sample. */
export const AP10K_ROOT: string = `${SHARED_DATA}ap-10k`;

/** Decodes base64 to bytes. */
export function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * Whether the tests may write (temporary copies of malformed files). The
 * project's `deno task test` grants it; a run without `--allow-write` skips
 * the tests that need it, and says so as "ignored".
 */
export const CAN_WRITE: boolean =
  (await Deno.permissions.query({ name: "write" })).state === "granted";

/**
 * Runs a test step that writes temporary files; ignored (and reported as
 * such) when the run has no write permission.
 *
 * @param t The test context.
 * @param name The step's name.
 * @param fn The step.
 * @returns Whether the step passed.
 */
export function writeStep(
  t: Deno.TestContext,
  name: string,
  fn: () => Promise<void>,
): Promise<boolean> {
  return t.step({ name, ignore: !CAN_WRITE, fn });
}
