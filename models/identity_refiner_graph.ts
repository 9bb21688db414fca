// This module is browser compatible.
/**
 * A refiner that changes nothing: one `Identity` node from `correlation` to
 * `refined`. With it, matching takes the dense refined path and must give
 * what the plain path gives (exactly for the `bilinear` localizer and for
 * queries on grid cells), which tests check.
 *
 * @example Usage
 * ```ts
 * import { buildIdentityRefinerGraph } from "./identity_refiner_graph.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(buildIdentityRefinerGraph().length > 20);
 * ```
 *
 * @module
 */

import { OnnxGraph } from "../core/onnx_graph.ts";
import { MUTUAL_MATCHING_IO } from "./mutual_matching_graph.ts";

/**
 * Builds the identity refiner as ONNX bytes, with the input and output names
 * of the mutual-matching refiner (`correlation`, `refined`).
 *
 * @returns ONNX model bytes.
 */
export function buildIdentityRefinerGraph(): Uint8Array {
  const g = new OnnxGraph("identity_refiner");
  const dims = [1, "source", "target"];
  const corr = g.input(MUTUAL_MATCHING_IO.input, dims);
  g.output(corr, dims, { as: MUTUAL_MATCHING_IO.output });
  return g.toBytes();
}
