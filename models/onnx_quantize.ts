// This module is browser compatible.
/**
 * Dynamic int8 quantization of an ONNX model's matrix products, with the
 * project's own graph tooling (`./onnx_proto.ts`): every `MatMul` whose B
 * input is a constant float initializer `[K, N]` becomes
 *
 * ```
 * a_q, a_scale, a_zp = DynamicQuantizeLinear(A)          uint8, per tensor, at run time
 * y_i32 = MatMulInteger(a_q, w_q, a_zp)                  w_q int8 [K, N], zero point 0
 * Y = Cast(y_i32, float) * (a_scale * w_scale)           w_scale float [N], per output column
 * ```
 *
 * Weights are quantized symmetrically per output column:
 * `w_scale[n] = max_k |W[k, n]| / 64`, `w_q = round(W / w_scale)` in
 * [-64, 64], so no B zero point is needed (onnxruntime's CPU kernel takes
 * uint8 A with int8 B; `DynamicQuantizeLinear` only produces uint8). 64,
 * not 127 ({@linkcode INT8_WEIGHT_MAX}): on x86 CPUs without VNNI (AVX2,
 * AVX-512 without VNNI) onnxruntime's u8s8 kernel multiplies with
 * `vpmaddubsw`, which adds two adjacent u8 x s8 products into a saturating
 * int16. Full-range weights overflow it (255 x 127 x 2 = 64,770 > 32,767):
 * on an AVX2 EPYC a [3601 x 768] x [768 x 3072] product came out 18.5% off
 * (relative RMS) instead of 0.9%, and the ViT-S/14 variant's nn agreement
 * fell by about 1 point. With 64 the pair is at most 32,640, exact on every kernel
 * (VNNI and AMX, AVX2, WASM) at the cost of one bit of weight precision.
 * A MatMul input shared by several products (q, k and v read one LayerNorm)
 * is quantized once. This is the pattern onnxruntime's own
 * `quantize_dynamic` writes (with `reduce_range`), which its optimizer fuses
 * into one `DynamicQuantizeMatMul` kernel (VNNI / AMX on CPUs that have them).
 *
 * {@linkcode QuantizeOptions} select other variants (per-token activation
 * scales, two-part weights, a subset of the MatMuls); `quantize: "int8"`
 * serves the default, the fastest. None of them reaches 98% identical nn
 * matches on the random-weight ViT-S/14 at 448 (README, "int8 agreement";
 * `tests/bench/int8_agreement_bench.ts` measures them).
 *
 * Left in float: products of two activations (attention's `q k^T` and
 * `attn v`), `Gemm`, and convolutions, so conv nets such as the TF.js
 * imports stay fp32: quantizing one changes nothing. Convolutions earn
 * nothing in int8 here: onnxruntime's CPU `ConvInteger` (uint8 weights, one
 * zero point 128 with per-channel symmetric scales applied after it) ran the
 * learned default's parts 1.3-1.7x slower natively than its fp32 convs,
 * which fuse with their activations, and matched only 92% of fp32's nn matches on
 * PF-WILLOW (`tests/bench/int8_conv_bench.ts`; README, "int8 agreement").
 *
 * @example Usage
 * ```ts
 * import { quantizeMatMulsInt8 } from "./onnx_quantize.ts";
 * import { readOnnxModel } from "./onnx_proto.ts";
 * import { OnnxGraph } from "../core/onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const g = new OnnxGraph("mm");
 * g.input("x", [1, 2]);
 * g.output(g.node("MatMul", ["x", g.constFloat("w", [2, 3], [1, -2, 3, 4, 5, -6])]), [1, 3]);
 * const { bytes, quantized } = quantizeMatMulsInt8(g.toBytes());
 * assert.equal(quantized, 1);
 * const ops = readOnnxModel(bytes).graph.nodes.map((n) => n.opType);
 * assert.deepEqual(ops, ["DynamicQuantizeLinear", "MatMulInteger", "Cast", "Mul", "Mul"]);
 * ```
 *
 * @module
 */

import {
  indexGraph,
  intField,
  type OnnxNode,
  OnnxTensor,
  readOnnxModel,
  stringField,
  TENSOR_TYPE,
  writeFields,
  writeOnnxModel,
} from "./onnx_proto.ts";

/** Bump when the quantizer writes different graphs for the same input: cached variants stop matching. */
export const QUANTIZER_VERSION = 2;

/** What {@linkcode quantizeMatMulsInt8} did. */
export interface QuantizedModel {
  /** The rewritten model. */
  bytes: Uint8Array;
  /** MatMuls replaced. */
  quantized: number;
  /** MatMuls left in float (B not a constant 2-D float initializer). */
  kept: number;
}

/**
 * The largest int8 weight step the served variant uses: u8 x s8 pairs then
 * sum to at most 255 x 64 x 2 = 32,640, inside the int16 that non-VNNI x86
 * kernels add them in (see the module doc).
 */
export const INT8_WEIGHT_MAX = 64;

/**
 * Per-column symmetric int8 quantization of a row-major `[K, N]` matrix:
 * each column's largest magnitude becomes `qmax` steps.
 */
export function quantizeColumnsInt8(
  w: Float32Array,
  k: number,
  n: number,
  qmax: number = INT8_WEIGHT_MAX,
): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(n);
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < n; c++) scale[c] = Math.max(scale[c], Math.abs(w[r * n + c]));
  }
  for (let c = 0; c < n; c++) scale[c] = scale[c] > 0 ? scale[c] / qmax : 1;
  const q = new Int8Array(k * n);
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < n; c++) {
      q[r * n + c] = Math.max(-qmax, Math.min(qmax, Math.round(w[r * n + c] / scale[c])));
    }
  }
  return { q, scale };
}

/**
 * Two-part int8 of a row-major `[K, N]` matrix, as one `[K, 2N]` matrix:
 * columns `0..N` are {@linkcode quantizeColumnsInt8} of `W`, columns
 * `N..2N` the same of its rounding error, so `W ~ q1 s1 + q2 s2`.
 */
export function residualColumnsInt8(
  w: Float32Array,
  k: number,
  n: number,
): { q: Int8Array; scale: Float32Array } {
  const first = quantizeColumnsInt8(w, k, n);
  const rest = new Float32Array(k * n);
  for (let i = 0; i < k * n; i++) rest[i] = w[i] - first.q[i] * first.scale[i % n];
  const second = quantizeColumnsInt8(rest, k, n);
  const q = new Int8Array(k * 2 * n);
  for (let r = 0; r < k; r++) {
    q.set(first.q.subarray(r * n, (r + 1) * n), r * 2 * n);
    q.set(second.q.subarray(r * n, (r + 1) * n), r * 2 * n + n);
  }
  const scale = new Float32Array(2 * n);
  scale.set(first.scale);
  scale.set(second.scale, n);
  return { q, scale };
}

function node(opType: string, inputs: string[], outputs: string[], attrs: OnnxNode["rest"] = []) {
  return { opType, inputs, outputs, name: "", domain: "", rest: attrs };
}

/** `Cast` to float: attribute `to` (INT, type 2) = FLOAT. */
const CAST_TO_FLOAT = [{
  field: 5,
  wire: 2,
  bytes: writeFields([stringField(1, "to"), intField(3, TENSOR_TYPE.float), intField(20, 2)]),
}];

/** A constant-weight MatMul the quantizer could rewrite, as {@linkcode QuantizeOptions.include} sees it. */
export interface QuantizableMatMul {
  /** Its place among the quantizable MatMuls, in graph order (0-based). */
  index: number;
  /** How many quantizable MatMuls the graph has. */
  count: number;
  /** Rows of the weight (the input width). */
  k: number;
  /** Columns of the weight (the output width). */
  n: number;
}

/** How {@linkcode quantizeMatMulsInt8} rewrites a graph. */
export interface QuantizeOptions {
  /**
   * The activation's scale: `"tensor"` (default), one scale and zero point
   * for the whole input by `DynamicQuantizeLinear` (uint8); `"token"`, one
   * symmetric scale per row (per token of a ViT), computed with
   * `Abs`/`ReduceMax`, the row rounded to [-127, 127] and stored as uint8
   * with zero point 128 (onnxruntime's fast kernel takes uint8 A), so one
   * large token does not coarsen every other token's steps.
   */
  activations?: "tensor" | "token";
  /**
   * The weight: `"int7"` (default), one int8 matrix in [-64, 64] with a
   * scale per column, exact on every kernel (see the module doc);
   * `"int8"`, the same in [-127, 127], one bit finer but wrong where the
   * kernel saturates (x86 without VNNI); `"uint8"`, [-127, 127] stored
   * around the zero point 128, exact everywhere but run by onnxruntime's
   * u8u8 kernel, which has no VNNI or AMX path; `"int8x2"`, the `"int7"`
   * matrix plus a second one of what it misses (`W - q1 s1`, quantized per
   * column again), both in one `MatMulInteger` of twice the width, their
   * products added: about 14-bit weights at twice the integer work.
   */
  weights?: "int7" | "int8" | "uint8" | "int8x2";
  /** Which constant-weight MatMuls to quantize (default: all); the others stay float. */
  include?: (m: QuantizableMatMul) => boolean;
}

/** `Cast` to uint8. */
const CAST_TO_UINT8 = [{
  field: 5,
  wire: 2,
  bytes: writeFields([stringField(1, "to"), intField(3, TENSOR_TYPE.uint8), intField(20, 2)]),
}];

/** An INT attribute. */
function intAttr(name: string, value: number) {
  return {
    field: 5,
    wire: 2 as const,
    bytes: writeFields([stringField(1, name), intField(3, value), intField(20, 2)]),
  };
}

/** An INTS attribute. */
function intsAttr(name: string, values: number[]) {
  return {
    field: 5,
    wire: 2 as const,
    bytes: writeFields([
      stringField(1, name),
      ...values.map((v) => intField(8, v)),
      intField(20, 7),
    ]),
  };
}

/**
 * Rewrites a model's constant-weight MatMuls as dynamically quantized int8
 * products (see the module doc). The model needs opset 11 or later
 * (`DynamicQuantizeLinear`); other opsets, metadata and unknown fields are
 * kept as they are.
 *
 * @param bytes The fp32 model.
 * @param options Activation scales and which MatMuls to quantize.
 * @returns The rewritten model and counts.
 * @throws {RangeError} When the bytes are not an ONNX model, or its opset is below 11.
 */
export function quantizeMatMulsInt8(
  bytes: Uint8Array,
  options: QuantizeOptions = {},
): QuantizedModel {
  const activations = options.activations ?? "tensor";
  const model = readOnnxModel(bytes);
  if (model.opset < 11) {
    throw new RangeError(
      `Cannot quantize an ONNX model of opset ${model.opset}: DynamicQuantizeLinear needs 11`,
    );
  }
  const { graph } = model;
  const { inits, uses, fresh } = indexGraph(graph);
  const weightOf = (n: OnnxNode) => {
    if (n.opType !== "MatMul" || n.domain !== "") return null;
    const w = inits.get(n.inputs[1]);
    const values = w && w.dims.length === 2 ? w.floats() : null;
    return w && values ? { w, values } : null;
  };
  const count = graph.nodes.filter((n) => weightOf(n) !== null).length;
  const quantizedInputs = new Map<string, [string, string, string]>();
  const nodes: OnnxNode[] = [];
  const added: OnnxTensor[] = [];
  const dropped = new Set<string>();
  let quantized = 0;
  let kept = 0;
  let index = 0;
  /** Constants of the per-token path, added once. */
  let tokenConsts:
    | { axes?: string; qmax: string; tiny: string; mid: string; zp: string }
    | undefined;
  const scalar = (base: string, v: number) => {
    const name = fresh(base);
    added.push(
      OnnxTensor.from(name, [], TENSOR_TYPE.float, new Uint8Array(Float32Array.of(v).buffer)),
    );
    return name;
  };
  /** A 1-D int64 constant of one value. */
  const int64Const = (base: string, v: number) => {
    const name = fresh(base);
    added.push(
      OnnxTensor.from(
        name,
        [1],
        TENSOR_TYPE.int64,
        new Uint8Array(BigInt64Array.of(BigInt(v)).buffer),
      ),
    );
    return name;
  };
  let weightZp: string | undefined;
  const weightZeroPoint = () => {
    if (!weightZp) {
      weightZp = fresh("weight_zero_point");
      added.push(OnnxTensor.from(weightZp, [], TENSOR_TYPE.uint8, Uint8Array.of(128)));
    }
    return weightZp;
  };
  /** Per-row symmetric int8: q = round(A / s), s = max(|A| over the row) / 127. */
  const quantizeRows = (a: string, out: [string, string, string]) => {
    if (!tokenConsts) {
      const zp = fresh("token_quant_zero_point");
      added.push(OnnxTensor.from(zp, [], TENSOR_TYPE.uint8, Uint8Array.of(128)));
      tokenConsts = {
        qmax: scalar("token_quant_qmax", 127),
        tiny: scalar("token_quant_tiny", 1e-30),
        mid: scalar("token_quant_mid", 128),
        zp,
      };
      if (model.opset >= 18) tokenConsts.axes = int64Const("token_quant_axes", -1);
    }
    const [q, scale] = out;
    const abs = fresh(`${a}_abs`);
    const max = fresh(`${a}_absmax`);
    const raw = fresh(`${a}_rawscale`);
    const scaled = fresh(`${a}_scaled`);
    const rounded = fresh(`${a}_rounded`);
    const shifted = fresh(`${a}_shifted`);
    nodes.push(node("Abs", [a], [abs]));
    nodes.push(
      tokenConsts.axes
        ? node("ReduceMax", [abs, tokenConsts.axes], [max], [intAttr("keepdims", 1)])
        : node("ReduceMax", [abs], [max], [intsAttr("axes", [-1]), intAttr("keepdims", 1)]),
    );
    nodes.push(node("Div", [max, tokenConsts.qmax], [raw]));
    nodes.push(node("Max", [raw, tokenConsts.tiny], [scale]));
    nodes.push(node("Div", [a, scale], [scaled]));
    nodes.push(node("Round", [scaled], [rounded]));
    // uint8 with the zero point 128 (onnxruntime's fast kernel takes uint8 A).
    nodes.push(node("Add", [rounded, tokenConsts.mid], [shifted]));
    nodes.push(node("Cast", [shifted], [q], CAST_TO_UINT8));
  };
  for (const n of graph.nodes) {
    const found = weightOf(n);
    if (!found) {
      if (n.opType === "MatMul" && n.domain === "") kept++;
      nodes.push(n);
      continue;
    }
    const [k, cols] = found.w.dims;
    const candidate = { index: index++, count, k, n: cols };
    if (options.include && !options.include(candidate)) {
      kept++;
      nodes.push(n);
      continue;
    }
    const [a, b] = n.inputs;
    let aq = quantizedInputs.get(a);
    if (!aq) {
      aq = [fresh(`${a}_quant`), fresh(`${a}_scale`), fresh(`${a}_zero_point`)];
      quantizedInputs.set(a, aq);
      if (activations === "token") quantizeRows(a, aq);
      else nodes.push(node("DynamicQuantizeLinear", [a], [aq[0], aq[1], aq[2]]));
    }
    const twice = options.weights === "int8x2";
    const unsigned = options.weights === "uint8";
    const { q, scale } = twice ? residualColumnsInt8(found.values, k, cols) : quantizeColumnsInt8(
      found.values,
      k,
      cols,
      unsigned || options.weights === "int8" ? 127 : undefined,
    );
    const width = twice ? 2 * cols : cols;
    const wq = fresh(`${b}_int8`);
    const ws = fresh(`${b}_scale`);
    if (unsigned) {
      added.push(
        OnnxTensor.from(wq, [k, width], TENSOR_TYPE.uint8, Uint8Array.from(q, (v) => v + 128)),
      );
    } else {
      added.push(OnnxTensor.from(wq, [k, width], TENSOR_TYPE.int8, new Uint8Array(q.buffer)));
    }
    added.push(OnnxTensor.from(ws, [width], TENSOR_TYPE.float, new Uint8Array(scale.buffer)));
    const y = n.outputs[0];
    const yInt = fresh(`${y}_int32`);
    const yCast = fresh(`${y}_cast`);
    const yScale = fresh(`${y}_rescale`);
    const yBoth = twice ? fresh(`${y}_parts`) : y;
    nodes.push(
      node("MatMulInteger", [
        aq[0],
        wq,
        activations === "token" ? tokenConsts!.zp : aq[2],
        ...(unsigned ? [weightZeroPoint()] : []),
      ], [yInt]),
    );
    nodes.push(node("Cast", [yInt], [yCast], CAST_TO_FLOAT));
    if (activations === "token") {
      // [.., M, N] * [.., M, 1] * [N]: the row's scale, then the column's.
      nodes.push(node("Mul", [yCast, aq[1]], [yScale]));
      nodes.push(node("Mul", [yScale, ws], [yBoth]));
    } else {
      nodes.push(node("Mul", [aq[1], ws], [yScale]));
      nodes.push(node("Mul", [yCast, yScale], [yBoth]));
    }
    if (twice) {
      const axis = int64Const(`${y}_axis`, -1);
      const zero = int64Const(`${y}_start`, 0);
      const mid = int64Const(`${y}_mid`, cols);
      const end = int64Const(`${y}_end`, 2 * cols);
      const first = fresh(`${y}_first`);
      const second = fresh(`${y}_second`);
      nodes.push(node("Slice", [yBoth, zero, mid, axis], [first]));
      nodes.push(node("Slice", [yBoth, mid, end, axis], [second]));
      nodes.push(node("Add", [first, second], [y]));
    }
    const left = (uses.get(b) ?? 1) - 1;
    uses.set(b, left);
    if (left === 0) dropped.add(b);
    quantized++;
  }
  graph.nodes = nodes;
  graph.initializers = [...graph.initializers.filter((t) => !dropped.has(t.name)), ...added];
  return { bytes: writeOnnxModel(model), quantized, kept };
}
