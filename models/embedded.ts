// This module is browser compatible.
/**
 * Models the service builds from its own code, addressed as `embedded:<name>`.
 *
 * @example Usage
 * ```ts
 * import { embeddedModelBytes } from "./embedded.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(embeddedModelBytes("embedded:dsift").length > 0);
 * ```
 *
 * @module
 */

import { buildDsiftGraph } from "./dsift_graph.ts";

const BUILDERS: Record<string, () => Uint8Array> = {
  dsift: () => buildDsiftGraph(),
};

/**
 * Builds the ONNX bytes of an embedded model.
 *
 * @param url `embedded:<name>`.
 * @returns ONNX model bytes.
 * @throws {RangeError} When no embedded model has that name.
 */
export function embeddedModelBytes(url: string): Uint8Array {
  const name = url.replace(/^embedded:/, "");
  const build = BUILDERS[name];
  if (!build) {
    throw new RangeError(
      `Cannot build embedded model ${name}: known are ${Object.keys(BUILDERS).join(", ")}`,
    );
  }
  return build();
}
