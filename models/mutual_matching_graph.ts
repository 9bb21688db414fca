// This module is browser compatible.
/**
 * NCNet's soft mutual nearest-neighbour filter (Rocco et al. 2018,
 * `MutualMatching`) as a cost-volume refiner graph, for the `refiner`
 * descriptor field:
 *
 * ```
 * r = relu(corr)                                   # [1, source, target]
 * out = r * (r / (max over source + eps)) * (r / (max over target + eps))
 * ```
 *
 * A score that is the best of both its row and its column keeps its value;
 * every other score shrinks by how far it is from those maxima, so
 * one-sided matches fade. Output has the input's shape. Deterministic, no
 * weights.
 *
 * @example Usage
 * ```ts
 * import { buildMutualMatchingGraph, MUTUAL_MATCHING_IO } from "./mutual_matching_graph.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(buildMutualMatchingGraph().length > 100);
 * assert.equal(MUTUAL_MATCHING_IO.input, "correlation");
 * assert.throws(() => buildMutualMatchingGraph({ epsilon: 0 }), RangeError);
 * ```
 *
 * @module
 */

import { OnnxGraph } from "../core/onnx_graph.ts";

/** Names of the refiner's input and output. */
export const MUTUAL_MATCHING_IO = Object.freeze({
  /** `[1, source cells, target cells]` cosine correlation. */
  input: "correlation",
  /** Refined scores, same shape. */
  output: "refined",
});

/**
 * Builds the mutual-matching refiner as ONNX bytes (opset 17).
 *
 * @param options `epsilon` added to each maximum (default 1e-5, NCNet's).
 * @returns ONNX model bytes; names in {@linkcode MUTUAL_MATCHING_IO}.
 * @throws {RangeError} When `epsilon` is not a positive finite number.
 */
export function buildMutualMatchingGraph(options: { epsilon?: number } = {}): Uint8Array {
  const epsilon = options.epsilon ?? 1e-5;
  if (!(Number.isFinite(epsilon) && epsilon > 0)) {
    throw new RangeError(`Cannot build mutual matching: epsilon must be positive, got ${epsilon}`);
  }
  const g = new OnnxGraph("mutual_matching");
  const dims = [1, "source", "target"];
  const corr = g.input(MUTUAL_MATCHING_IO.input, dims);
  const r = g.node("Relu", [corr]);
  const eps = g.constFloat("eps", [], [epsilon]);
  const ratio = (axis: number) =>
    g.node("Div", [
      r,
      g.node("Add", [g.node("ReduceMax", [r], { axes: [axis], keepdims: 1 }), eps]),
    ]);
  const out = g.node("Mul", [r, g.node("Mul", [ratio(1), ratio(2)])]);
  g.output(out, dims, { as: MUTUAL_MATCHING_IO.output });
  return g.toBytes();
}
