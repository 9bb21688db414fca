// This module is browser compatible.
/**
 * The cosine cost volume as an ONNX graph: the heavy product of matching runs
 * in onnxruntime (multithreaded SIMD MatMul) instead of a TypeScript loop,
 * and only the `[Q, cells]` score rows come back.
 *
 * @example Usage
 * ```ts
 * import { buildCostVolumeGraph, COST_VOLUME_IO } from "./cost_volume_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = buildCostVolumeGraph();
 * assert.ok(bytes.length > 0);
 * assert.equal(COST_VOLUME_IO.output, "scores");
 * ```
 *
 * @module
 */

import { OnnxGraph } from "./onnx_graph.ts";

/** Names of the graph's inputs and output. */
export const COST_VOLUME_IO = Object.freeze({
  /** `[Q, C]` query features, one row per query. */
  queries: "queries",
  /** `[C, cells]` target features (CHW with h*w flattened). */
  target: "target",
  /** `[Q, cells]` cosine similarities. */
  output: "scores",
});

/**
 * Builds the graph `scores = normalize(queries, axis 1) @ normalize(target, axis 0)`.
 *
 * Normalization divides by `max(||v||, 1e-12)`, as torch's `F.normalize` does,
 * so a zero feature scores 0 against everything instead of NaN.
 *
 * @returns ONNX model bytes.
 */
export function buildCostVolumeGraph(): Uint8Array {
  const g = new OnnxGraph("cost_volume");
  const q = g.input(COST_VOLUME_IO.queries, ["queries", "channels"]);
  const t = g.input(COST_VOLUME_IO.target, ["channels", "cells"]);
  const eps = g.constFloat("eps", [], [1e-12]);
  const qn = g.node("Div", [
    q,
    g.node("Max", [g.node("ReduceL2", [q], { axes: [1], keepdims: 1 }), eps]),
  ]);
  const tn = g.node("Div", [
    t,
    g.node("Max", [g.node("ReduceL2", [t], { axes: [0], keepdims: 1 }), eps]),
  ]);
  g.output(g.node("MatMul", [qn, tn]), ["queries", "cells"], { as: COST_VOLUME_IO.output });
  return g.toBytes();
}
