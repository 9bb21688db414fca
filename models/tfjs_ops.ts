// This module is browser compatible.
/**
 * The TensorFlow ops the TF.js importer converts, each as ONNX nodes with
 * the same meaning, plus the output shape at the probe size (for checks and
 * for choosing the finest tap). Tensors keep TensorFlow's layout in the
 * converted graph; an NHWC convolution or pooling becomes
 * `Transpose -> Conv -> Transpose`, and onnxruntime's transpose optimizer
 * removes the pairs that cancel.
 *
 * Semantics that differ between the two formats and are handled here:
 * - `SAME` padding puts the odd pixel at the end in both (ONNX `SAME_UPPER`);
 * - filters are `[kh, kw, in, out]` (depthwise `[kh, kw, in, multiplier]`)
 *   in TensorFlow, `[out, in / group, kh, kw]` in ONNX;
 * - `_FusedConv2D` / `FusedDepthwiseConv2dNative` carry their bias and
 *   activation in `fused_ops` (Grappler's fusion that TF.js keeps);
 * - a constant `Reshape` target or `ResizeBilinear` size fixes the graph to
 *   its export size (`fixesShape`);
 * - `Relu6` is `Clip(0, 6)`; `Rsqrt` is `Reciprocal(Sqrt)`;
 * - `ResizeBilinear`'s `align_corners` / `half_pixel_centers` pick the
 *   coordinate transformation.
 *
 * @example Usage
 * ```ts
 * import { TFJS_OPS } from "./tfjs_ops.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok("_FusedConv2D" in TFJS_OPS);
 * assert.ok(!("TopKV2" in TFJS_OPS));
 * ```
 *
 * @module
 */

import type { OnnxGraph } from "../core/onnx_graph.ts";
import {
  attrBool,
  attrInts,
  attrNumber,
  attrString,
  attrStrings,
  type TfjsNode,
} from "./tfjs_model.ts";
import type { TfjsTensor } from "./tfjs_weights.ts";

/** What an op converter can ask about the node it converts. */
export interface OpContext {
  /** The graph being built. */
  readonly g: OnnxGraph;
  /** The node. */
  readonly node: TfjsNode;
  /** Number of data inputs (control inputs `^x` left out). */
  readonly inputCount: number;
  /** ONNX tensor of data input `i` (a float constant is embedded on first use). */
  tensor(i: number): string;
  /** Shape of data input `i` at the probe size. */
  shape(i: number): number[];
  /** Value of data input `i`, which must be a `Const`. */
  constant(i: number): TfjsTensor;
  /** An error naming the node, for attributes or inputs the converter cannot take. */
  fail(reason: string): Error;
}

/** What an op converter returns: its ONNX tensor and its shape at the probe size. */
export interface OpResult {
  tensor: string;
  shape: number[];
  /** True when the op ties the graph to its input size (a constant `Reshape`). */
  fixesShape?: boolean;
}

/** Converts one node. */
export type OpConverter = (ctx: OpContext) => OpResult;

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];

function permute(shape: number[], perm: number[]): number[] {
  return perm.map((p) => shape[p]);
}

function broadcast(ctx: OpContext, a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw ctx.fail(`shapes [${a}] and [${b}] do not broadcast`);
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}

function dataFormat(ctx: OpContext): "NHWC" | "NCHW" {
  const f = attrString(ctx.node, "data_format", "NHWC");
  if (f !== "NHWC" && f !== "NCHW") throw ctx.fail(`data_format ${f} is not supported`);
  return f;
}

/** The spatial entries of a 4-item attribute in the node's data format. */
function spatial(ctx: OpContext, values: number[], fallback: number): [number, number] {
  if (values.length === 0) return [fallback, fallback];
  if (values.length !== 4) throw ctx.fail(`expected 4 values, got [${values}]`);
  return dataFormat(ctx) === "NHWC" ? [values[1], values[2]] : [values[2], values[3]];
}

interface Window {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
}

/** ONNX padding attributes and output sides for TF's `padding` of a window op. */
function padding(
  ctx: OpContext,
  inSides: [number, number],
  w: Window,
): { attrs: Record<string, string | number[]>; out: [number, number] } {
  const mode = attrString(ctx.node, "padding", "VALID");
  const extent = (i: 0 | 1) => (w.kernel[i] - 1) * w.dilations[i] + 1;
  if (mode === "SAME") {
    return {
      attrs: { auto_pad: "SAME_UPPER" },
      out: [Math.ceil(inSides[0] / w.strides[0]), Math.ceil(inSides[1] / w.strides[1])],
    };
  }
  let pads = [0, 0, 0, 0];
  if (mode === "EXPLICIT") {
    const e = attrInts(ctx.node, "explicit_paddings");
    if (e.length !== 8) throw ctx.fail(`explicit_paddings has ${e.length} values, expected 8`);
    const [h, w2] = dataFormat(ctx) === "NHWC" ? [2, 4] : [4, 6];
    pads = [e[h], e[w2], e[h + 1], e[w2 + 1]];
  } else if (mode !== "VALID") {
    throw ctx.fail(`padding ${mode} is not supported`);
  }
  const side = (i: 0 | 1) =>
    Math.floor((inSides[i] + pads[i] + pads[i + 2] - extent(i)) / w.strides[i]) + 1;
  return { attrs: { pads }, out: [side(0), side(1)] };
}

/** Runs `build` on the input in NCHW, whatever the node's data format, and returns in that format. */
function inNchw(
  ctx: OpContext,
  x: string,
  shape: number[],
  build: (x: string, nchw: number[]) => { tensor: string; shape: number[] },
): OpResult {
  if (shape.length !== 4) throw ctx.fail(`expects a 4-D input, got [${shape}]`);
  const nhwc = dataFormat(ctx) === "NHWC";
  const input = nhwc ? ctx.g.node("Transpose", [x], { perm: NHWC_TO_NCHW }) : x;
  const r = build(input, nhwc ? permute(shape, NHWC_TO_NCHW) : shape);
  if (!nhwc) return r;
  return {
    tensor: ctx.g.node("Transpose", [r.tensor], { perm: NCHW_TO_NHWC }),
    shape: permute(r.shape, NCHW_TO_NHWC),
  };
}

/** An activation on an NCHW tensor (`fused_ops` of the fused convolutions). */
function activation(ctx: OpContext, op: string, x: string, channels: number): string {
  const g = ctx.g;
  switch (op) {
    case "Relu":
      return g.node("Relu", [x]);
    case "Relu6":
      return relu6(g, x);
    case "LeakyRelu":
      return g.node("LeakyRelu", [x], {
        alpha: { float: attrNumber(ctx.node, "leakyrelu_alpha", 0.2) },
      });
    case "Elu":
      return g.node("Elu", [x]);
    case "Sigmoid":
      return g.node("Sigmoid", [x]);
    case "Prelu": {
      const alpha = ctx.constant(3);
      if (alpha.values.length !== channels) {
        throw ctx.fail(`Prelu alpha has ${alpha.values.length} values for ${channels} channels`);
      }
      const slope = g.constFloat(`${ctx.node.name}/prelu_alpha`, [channels, 1, 1], alpha.values);
      return g.node("PRelu", [x, slope]);
    }
  }
  throw ctx.fail(`fused activation ${op} is not supported`);
}

function relu6(g: OnnxGraph, x: string): string {
  return g.node("Clip", [x, g.constFloat("zero", [], [0]), g.constFloat("six", [], [6])]);
}

/** `Conv2D`, `DepthwiseConv2dNative` and their fused forms. */
function convolution(depthwise: boolean, fused: boolean): OpConverter {
  return (ctx) => {
    const filter = ctx.constant(1);
    if (filter.shape.length !== 4 || filter.dtype !== "float32") {
      throw ctx.fail(`filter must be a 4-D float constant, got [${filter.shape}]`);
    }
    const [kh, kw, cin, cout] = filter.shape;
    const outChannels = depthwise ? cin * cout : cout;
    const x = ctx.tensor(0);
    const inShape = ctx.shape(0);
    const ops = fused ? attrStrings(ctx.node, "fused_ops") : [];
    if (fused && ops[0] !== "BiasAdd") {
      throw ctx.fail(`fused_ops [${ops}] are not supported (expected BiasAdd first)`);
    }
    if (ops.length > 2) throw ctx.fail(`fused_ops [${ops}] are not supported`);
    // TF [kh, kw, in, out] -> ONNX [out, in, kh, kw]; depthwise [kh, kw, c, m] -> [c*m, 1, kh, kw].
    const w = new Float32Array(filter.values.length);
    const f = filter.values;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        for (let c = 0; c < cin; c++) {
          for (let o = 0; o < cout; o++) {
            const src = ((i * kw + j) * cin + c) * cout + o;
            const dst = depthwise
              ? (((c * cout + o) * kh + i) * kw + j)
              : (((o * cin + c) * kh + i) * kw + j);
            w[dst] = f[src];
          }
        }
      }
    }
    const weight = ctx.g.constFloat(
      `${ctx.node.name}/weights`,
      depthwise ? [outChannels, 1, kh, kw] : [cout, cin, kh, kw],
      w,
    );
    const inputs = [x, weight];
    if (fused) {
      const bias = ctx.constant(2);
      if (bias.values.length !== outChannels) {
        throw ctx.fail(`bias has ${bias.values.length} values for ${outChannels} channels`);
      }
      inputs.push(ctx.g.constFloat(`${ctx.node.name}/bias`, [outChannels], bias.values));
    }
    const win: Window = {
      kernel: [kh, kw],
      strides: spatial(ctx, attrInts(ctx.node, "strides"), 1),
      dilations: spatial(ctx, attrInts(ctx.node, "dilations"), 1),
    };
    return inNchw(ctx, x, inShape, (input, nchw) => {
      if (nchw[1] !== cin) {
        throw ctx.fail(`input has ${nchw[1]} channels, the filter expects ${cin}`);
      }
      const pad = padding(ctx, [nchw[2], nchw[3]], win);
      inputs[0] = input;
      let y = ctx.g.node("Conv", inputs, {
        kernel_shape: [kh, kw],
        strides: win.strides,
        dilations: win.dilations,
        group: depthwise ? cin : 1,
        ...pad.attrs,
      });
      if (ops[1] !== undefined) y = activation(ctx, ops[1], y, outChannels);
      return { tensor: y, shape: [nchw[0], outChannels, ...pad.out] };
    });
  };
}

function pool(op: "MaxPool" | "AveragePool"): OpConverter {
  return (ctx) => {
    const win: Window = {
      kernel: spatial(ctx, attrInts(ctx.node, "ksize"), 1),
      strides: spatial(ctx, attrInts(ctx.node, "strides"), 1),
      dilations: [1, 1],
    };
    return inNchw(ctx, ctx.tensor(0), ctx.shape(0), (x, nchw) => {
      const pad = padding(ctx, [nchw[2], nchw[3]], win);
      const tensor = ctx.g.node(op, [x], {
        kernel_shape: win.kernel,
        strides: win.strides,
        ...pad.attrs,
      });
      return { tensor, shape: [nchw[0], nchw[1], ...pad.out] };
    });
  };
}

function binary(op: string): OpConverter {
  return (ctx) => ({
    tensor: ctx.g.node(op, [ctx.tensor(0), ctx.tensor(1)]),
    shape: broadcast(ctx, ctx.shape(0), ctx.shape(1)),
  });
}

function unary(build: (g: OnnxGraph, x: string, ctx: OpContext) => string): OpConverter {
  return (ctx) => ({ tensor: build(ctx.g, ctx.tensor(0), ctx), shape: ctx.shape(0) });
}

function intList(ctx: OpContext, i: number): number[] {
  const c = ctx.constant(i);
  if (c.dtype === "float32") throw ctx.fail(`input ${i} must be an integer constant`);
  return Array.from(c.values);
}

function axis(ctx: OpContext, value: number, rank: number): number {
  const a = value < 0 ? value + rank : value;
  if (a < 0 || a >= rank) throw ctx.fail(`axis ${value} is out of range for rank ${rank}`);
  return a;
}

function pad(mode: "constant" | "reflect"): OpConverter {
  return (ctx) => {
    const shape = ctx.shape(0);
    const p = intList(ctx, 1);
    if (p.length !== 2 * shape.length) {
      throw ctx.fail(`paddings have ${p.length} values for rank ${shape.length}`);
    }
    const begins = shape.map((_, i) => p[2 * i]);
    const ends = shape.map((_, i) => p[2 * i + 1]);
    const inputs = [ctx.tensor(0), ctx.g.constInt64(`${ctx.node.name}/pads`, [...begins, ...ends])];
    if (mode === "constant" && ctx.inputCount > 2) {
      const v = ctx.constant(2).values[0];
      inputs.push(ctx.g.constFloat(`${ctx.node.name}/value`, [], [v]));
    }
    return {
      tensor: ctx.g.node("Pad", inputs, { mode }),
      shape: shape.map((d, i) => d + begins[i] + ends[i]),
    };
  };
}

function mean(ctx: OpContext): OpResult {
  const shape = ctx.shape(0);
  const axes = [...new Set(intList(ctx, 1).map((a) => axis(ctx, a, shape.length)))];
  const keep = attrBool(ctx.node, "keep_dims");
  return {
    tensor: ctx.g.node("ReduceMean", [ctx.tensor(0)], { axes, keepdims: keep ? 1 : 0 }),
    shape: keep
      ? shape.map((d, i) => (axes.includes(i) ? 1 : d))
      : shape.filter((_, i) => !axes.includes(i)),
  };
}

function concat(ctx: OpContext): OpResult {
  const n = ctx.inputCount - 1;
  const shapes = Array.from({ length: n }, (_, i) => ctx.shape(i));
  const a = axis(ctx, intList(ctx, n)[0], shapes[0].length);
  const shape = [...shapes[0]];
  for (const s of shapes.slice(1)) {
    if (s.length !== shape.length || s.some((d, i) => i !== a && d !== shape[i])) {
      throw ctx.fail(`cannot concatenate [${shapes[0]}] and [${s}] on axis ${a}`);
    }
    shape[a] += s[a];
  }
  const inputs = Array.from({ length: n }, (_, i) => ctx.tensor(i));
  return { tensor: ctx.g.node("Concat", inputs, { axis: a }), shape };
}

function transpose(ctx: OpContext): OpResult {
  const perm = intList(ctx, 1);
  return {
    tensor: ctx.g.node("Transpose", [ctx.tensor(0)], { perm }),
    shape: permute(ctx.shape(0), perm),
  };
}

function reshape(ctx: OpContext): OpResult {
  const target = intList(ctx, 1);
  const total = ctx.shape(0).reduce((a, b) => a * b, 1);
  const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const shape = target.map((d) => (d === -1 ? total / known : d));
  if (shape.reduce((a, b) => a * b, 1) !== total) {
    throw ctx.fail(`cannot reshape [${ctx.shape(0)}] to [${target}]`);
  }
  const dims = ctx.g.constInt64(`${ctx.node.name}/shape`, target);
  return { tensor: ctx.g.node("Reshape", [ctx.tensor(0), dims]), shape, fixesShape: true };
}

function resizeBilinear(ctx: OpContext): OpResult {
  const [h, w] = intList(ctx, 1);
  const mode = attrBool(ctx.node, "align_corners")
    ? "align_corners"
    : attrBool(ctx.node, "half_pixel_centers")
    ? "half_pixel"
    : "asymmetric";
  // ResizeBilinear is NHWC only in TensorFlow.
  const shape = ctx.shape(0);
  if (shape.length !== 4) throw ctx.fail(`expects a 4-D input, got [${shape}]`);
  const g = ctx.g;
  const x = g.node("Transpose", [ctx.tensor(0)], { perm: NHWC_TO_NCHW });
  const sizes = g.constInt64(`${ctx.node.name}/sizes`, [shape[0], shape[3], h, w]);
  const y = g.node("Resize", [x, "", "", sizes], {
    mode: "linear",
    coordinate_transformation_mode: mode,
  });
  // A constant output size ties the graph to the input size it was exported for.
  return {
    tensor: g.node("Transpose", [y], { perm: NCHW_TO_NHWC }),
    shape: [shape[0], h, w, shape[3]],
    fixesShape: true,
  };
}

function biasAdd(ctx: OpContext): OpResult {
  const shape = ctx.shape(0);
  if (dataFormat(ctx) === "NHWC") return binary("Add")(ctx);
  const bias = ctx.constant(1);
  const b = ctx.g.constFloat(`${ctx.node.name}/bias`, [bias.values.length, 1, 1], bias.values);
  return { tensor: ctx.g.node("Add", [ctx.tensor(0), b]), shape };
}

/** The ops the importer converts, by TensorFlow name. */
export const TFJS_OPS: Readonly<Record<string, OpConverter>> = Object.freeze({
  Conv2D: convolution(false, false),
  _FusedConv2D: convolution(false, true),
  DepthwiseConv2dNative: convolution(true, false),
  FusedDepthwiseConv2dNative: convolution(true, true),
  MaxPool: pool("MaxPool"),
  AvgPool: pool("AveragePool"),
  Add: binary("Add"),
  AddV2: binary("Add"),
  BiasAdd: biasAdd,
  Sub: binary("Sub"),
  Mul: binary("Mul"),
  RealDiv: binary("Div"),
  Maximum: binary("Max"),
  Minimum: binary("Min"),
  Relu: unary((g, x) => g.node("Relu", [x])),
  Relu6: unary((g, x) => relu6(g, x)),
  LeakyRelu: unary((g, x, ctx) =>
    g.node("LeakyRelu", [x], { alpha: { float: attrNumber(ctx.node, "alpha", 0.2) } })
  ),
  Elu: unary((g, x) => g.node("Elu", [x])),
  Sigmoid: unary((g, x) => g.node("Sigmoid", [x])),
  Tanh: unary((g, x) => g.node("Tanh", [x])),
  Neg: unary((g, x) => g.node("Neg", [x])),
  Abs: unary((g, x) => g.node("Abs", [x])),
  Exp: unary((g, x) => g.node("Exp", [x])),
  Sqrt: unary((g, x) => g.node("Sqrt", [x])),
  Rsqrt: unary((g, x) => g.node("Reciprocal", [g.node("Sqrt", [x])])),
  Square: unary((g, x) => g.node("Mul", [x, x])),
  Identity: unary((g, x) => g.node("Identity", [x])),
  Mean: mean,
  Pad: pad("constant"),
  PadV2: pad("constant"),
  MirrorPad: (ctx) => {
    const mode = attrString(ctx.node, "mode", "REFLECT");
    if (mode !== "REFLECT") throw ctx.fail(`MirrorPad mode ${mode} is not supported`);
    return pad("reflect")(ctx);
  },
  ConcatV2: concat,
  Transpose: transpose,
  Reshape: reshape,
  ResizeBilinear: resizeBilinear,
});
