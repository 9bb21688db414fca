// This module is browser compatible.
/**
 * Builds a backbone's ONNX graph from a TF.js graph model and its
 * descriptor: the source's pixel convention in front, the converted graph
 * cut at the descriptor's outputs, and the hypercolumn behind, so the
 * result has the I/O contract of every backbone (`input` `[1, 3, H, W]`
 * RGB normalized with the descriptor's `mean` / `std`, `output`
 * `[1, feature_dim, H / patch_size, W / patch_size]`) and the worker runs
 * it like any ONNX file.
 *
 * - Pixels: `* pixel_scale`, channels reordered for `bgr`, transposed to
 *   NHWC for an `nhwc` graph.
 * - Hypercolumn: each output (taken as NCHW) divided by
 *   `max(||f||, 1e-12)` per cell (torch's `F.normalize`), multiplied by its
 *   weight, resized bilinearly with `align_corners` to the grid of the finest
 *   output (the one with the most cells at the probe side), concatenated.
 *
 * The probe side (the descriptor's `default_resolution`) checks the
 * descriptor against the graph: the finest output's grid must be
 * `side / patch_size`, the outputs' channels must add up to `feature_dim`,
 * and a graph that fixes its input size (see `appendTfjsGraph`) must be
 * described with exactly that side.
 *
 * @example Usage
 * ```ts
 * import { buildTfjsBackbone } from "./tfjs_backbone.ts";
 * import { parseTfjsModel } from "./tfjs_model.ts";
 * import { BUILTIN_MODELS } from "./registry.ts";
 * import assert from "node:assert/strict";
 *
 * // A graph of one layer: a 2x2 stride-2 average pool.
 * const model = parseTfjsModel({
 *   modelTopology: {
 *     node: [
 *       { name: "image", op: "Placeholder" },
 *       {
 *         name: "pool",
 *         op: "AvgPool",
 *         input: ["image"],
 *         attr: { ksize: { list: { i: ["1", "2", "2", "1"] } }, strides: { list: { i: ["1", "2", "2", "1"] } } },
 *       },
 *     ],
 *   },
 *   weightsManifest: [{ paths: ["w.bin"], weights: [] }],
 * });
 * const built = buildTfjsBackbone({
 *   ...BUILTIN_MODELS.dsift,
 *   id: "pool",
 *   url: "model.json",
 *   patch_size: 2,
 *   feature_dim: 3,
 *   tfjs: { outputs: ["pool"], layout: "nhwc" },
 * }, model, new Map());
 * assert.ok(built.bytes.length > 0);
 * assert.deepEqual(built.outputs, [{ node: "pool", channels: 3, grid: [128, 128] }]);
 * ```
 *
 * @module
 */

import { OnnxGraph } from "../core/onnx_graph.ts";
import { UnsupportedModelError } from "../errors/mod.ts";
import type { BackboneDescriptor, TfjsSource } from "./descriptor.ts";
import type { TfjsModel } from "./tfjs_model.ts";
import type { TfjsTensor } from "./tfjs_weights.ts";
import { appendTfjsGraph } from "./tfjs_to_onnx.ts";

/** A backbone descriptor that names a TF.js source. */
export type TfjsBackboneDescriptor = BackboneDescriptor & { tfjs: TfjsSource };

/** The built graph. */
export interface TfjsBackbone {
  /** ONNX model bytes. */
  bytes: Uint8Array;
  /** Each tapped output at the probe side: channels and grid `[h, w]`. */
  outputs: { node: string; channels: number; grid: [number, number] }[];
  /** Whether the graph takes any input side (false: only the probe side). */
  dynamic: boolean;
  /** Converted nodes per op. */
  ops: Record<string, number>;
}

/** Smallest norm a cell is divided by, as torch's `F.normalize` (`eps = 1e-12`). */
const NORM_EPSILON = 1e-12;

/**
 * Builds the ONNX backbone of a TF.js descriptor.
 *
 * @param d The descriptor (its `tfjs`, `input`, `output`, `patch_size`,
 *   `feature_dim`, `default_resolution` and `resolutions` are used).
 * @param model The parsed `model.json`.
 * @param weights Its decoded weights.
 * @returns The ONNX bytes and what the outputs are at the probe side.
 * @throws {UnsupportedModelError} When the graph cannot be converted (see
 *   `appendTfjsGraph`), an output is not a 4-D map, or the descriptor's
 *   `patch_size`, `feature_dim` or resolutions do not fit the graph.
 */
export function buildTfjsBackbone(
  d: TfjsBackboneDescriptor,
  model: TfjsModel,
  weights: ReadonlyMap<string, TfjsTensor>,
): TfjsBackbone {
  const spec = d.tfjs;
  const fail = (reason: string, details: Record<string, unknown> = {}) =>
    new UnsupportedModelError(`Cannot import model \`${d.id}\`: ${reason}`, {
      details: { model: d.id, ...details },
    });
  const nhwc = spec.layout === "nhwc";
  const side = d.default_resolution;
  const g = new OnnxGraph(d.id);
  let x = g.input(d.input, [1, 3, "height", "width"]);
  if ((spec.pixel_scale ?? 1) !== 1) {
    x = g.node("Mul", [x, g.constFloat("pixel_scale", [], [spec.pixel_scale!])]);
  }
  if (spec.channel_order === "bgr") {
    x = g.node("Gather", [x, g.constInt64("bgr", [2, 1, 0])], { axis: 1 });
  }
  if (nhwc) x = g.node("Transpose", [x], { perm: [0, 2, 3, 1] });

  const converted = appendTfjsGraph(g, model, weights, {
    input: x,
    inputShape: nhwc ? [1, side, side, 3] : [1, 3, side, side],
    outputs: spec.outputs,
  });
  const taps = converted.outputs.map((o) => {
    if (o.shape.length !== 4 || o.shape[0] !== 1) {
      throw fail(`output \`${o.node}\` is not a [1, C, h, w] map (its shape is [${o.shape}])`, {
        node: o.node,
      });
    }
    const [channels, h, w] = nhwc ? [o.shape[3], o.shape[1], o.shape[2]] : o.shape.slice(1);
    const tensor = nhwc ? g.node("Transpose", [o.tensor], { perm: [0, 3, 1, 2] }) : o.tensor;
    return { node: o.node, tensor, channels, grid: [h, w] as [number, number] };
  });
  const finest = taps.reduce((
    best,
    t,
  ) => (t.grid[0] * t.grid[1] > best.grid[0] * best.grid[1] ? t : best));
  const cells = side / d.patch_size;
  if (finest.grid[0] !== cells || finest.grid[1] !== cells) {
    throw fail(
      `at ${side} px its finest output \`${finest.node}\` is ${finest.grid[0]}x${
        finest.grid[1]
      }, but patch_size ${d.patch_size} means ${cells}x${cells} (patch_size should be ${
        side / finest.grid[0]
      })`,
      { node: finest.node, grid: finest.grid },
    );
  }
  const dims = taps.map((t) => t.channels);
  const sum = dims.reduce((a, b) => a + b, 0);
  if (sum !== d.feature_dim) {
    throw fail(
      `feature_dim is ${d.feature_dim}, but its outputs give ${dims.join(" + ")} = ${sum}`,
      {
        channels: dims,
      },
    );
  }
  if (!converted.dynamic && (d.resolutions.min !== side || d.resolutions.max !== side)) {
    throw fail(
      `its graph fixes the input size (a constant Reshape or resize), so resolutions must be { min: ${side}, max: ${side} }`,
    );
  }

  const eps = g.constFloat("norm_epsilon", [], [NORM_EPSILON]);
  const grid = g.node("Slice", [
    g.node("Shape", [finest.tensor]),
    g.constInt64("grid_start", [2]),
    g.constInt64("grid_end", [4]),
  ]);
  const parts = taps.map((t, i) => {
    const norm = g.node("ReduceL2", [t.tensor], { axes: [1], keepdims: 1 });
    let f = g.node("Div", [t.tensor, g.node("Max", [norm, eps])]);
    const weight = spec.weights?.[i] ?? 1;
    if (weight !== 1) f = g.node("Mul", [f, g.constFloat(`weight_${i}`, [], [weight])]);
    if (t === finest) return f;
    const lead = g.node("Slice", [
      g.node("Shape", [f]),
      g.constInt64("lead_start", [0]),
      g.constInt64("lead_end", [2]),
    ]);
    const sizes = g.node("Concat", [lead, grid], { axis: 0 });
    return g.node("Resize", [f, "", "", sizes], {
      mode: "linear",
      coordinate_transformation_mode: "align_corners",
    });
  });
  const features = parts.length === 1 ? parts[0] : g.node("Concat", parts, { axis: 1 });
  g.output(features, [1, d.feature_dim, "cells_h", "cells_w"], { as: d.output });
  return {
    bytes: g.toBytes(),
    outputs: taps.map((t) => ({ node: t.node, channels: t.channels, grid: t.grid })),
    dynamic: converted.dynamic,
    ops: converted.ops,
  };
}
