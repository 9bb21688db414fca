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

/** Names of the graphs' inputs and outputs. */
export const COST_VOLUME_IO = Object.freeze({
  /** `[Q, C]` query features, one row per query. */
  queries: "queries",
  /** `[C, cells]` target features (CHW with h*w flattened); L2-normalized per cell for `"scores"`. */
  target: "target",
  /** `[Q, cells]` cosine similarities. */
  output: "scores",
  /** `[C, cells]` target features divided by their per-cell norms (the `"target"` part). */
  normalizedTarget: "normalized_target",
});

/**
 * Which graph to build:
 * - `"full"`: scores from raw queries and a raw target;
 * - `"target"`: only the normalized target, to compute once per image;
 * - `"scores"`: scores from raw queries and an already normalized target.
 *
 * `"target"` then `"scores"` computes the same nodes as `"full"`, so the
 * scores are bit-identical; a target used by many pairs is normalized once.
 */
export type CostVolumePart = "full" | "target" | "scores";

/** Divides `x` by `max(||x||, 1e-12)` along `axis`, as torch's `F.normalize`. */
function l2Normalize(g: OnnxGraph, x: string, axis: number, eps: string): string {
  return g.node("Div", [
    x,
    g.node("Max", [g.node("ReduceL2", [x], { axes: [axis], keepdims: 1 }), eps]),
  ]);
}

/**
 * Builds the graph `scores = normalize(queries, axis 1) @ normalize(target, axis 0)`,
 * or one of its two halves (see {@linkcode CostVolumePart}).
 *
 * Normalization divides by `max(||v||, 1e-12)`, as torch's `F.normalize` does,
 * so a zero feature scores 0 against everything instead of NaN.
 *
 * @param options `part` picks the graph (default `"full"`).
 * @returns ONNX model bytes.
 *
 * @example The two halves
 * ```ts
 * import { buildCostVolumeGraph, COST_VOLUME_IO } from "./cost_volume_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const once = buildCostVolumeGraph({ part: "target" });
 * const perPair = buildCostVolumeGraph({ part: "scores" });
 * assert.notDeepEqual(once, perPair);
 * assert.equal(COST_VOLUME_IO.normalizedTarget, "normalized_target");
 * ```
 */
export function buildCostVolumeGraph(options: { part?: CostVolumePart } = {}): Uint8Array {
  const part = options.part ?? "full";
  const g = new OnnxGraph(`cost_volume_${part}`);
  const eps = g.constFloat("eps", [], [1e-12]);
  const t = g.input(COST_VOLUME_IO.target, ["channels", "cells"]);
  if (part === "target") {
    g.output(l2Normalize(g, t, 0, eps), ["channels", "cells"], {
      as: COST_VOLUME_IO.normalizedTarget,
    });
    return g.toBytes();
  }
  const q = g.input(COST_VOLUME_IO.queries, ["queries", "channels"]);
  const tn = part === "full" ? l2Normalize(g, t, 0, eps) : t;
  g.output(g.node("MatMul", [l2Normalize(g, q, 1, eps), tn]), ["queries", "cells"], {
    as: COST_VOLUME_IO.output,
  });
  return g.toBytes();
}
