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
 * `w_scale[n] = max_k |W[k, n]| / 127`, `w_q = round(W / w_scale)` in
 * [-127, 127], so no B zero point is needed (onnxruntime's CPU kernel takes
 * uint8 A with int8 B; `DynamicQuantizeLinear` only produces uint8). A MatMul
 * input shared by several products (q, k and v read one LayerNorm) is
 * quantized once. This is the pattern onnxruntime's own `quantize_dynamic`
 * writes, which its optimizer fuses into one `DynamicQuantizeMatMul` kernel
 * (VNNI / AMX on CPUs that have them).
 *
 * Left in float: products of two activations (attention's `q k^T` and
 * `attn v`), `Gemm`, and convolutions. `ConvInteger` in onnxruntime's CPU
 * provider takes uint8 weights with per-tensor zero points only, which loses
 * too much on per-channel conv weights (and has no fused fast path), so conv
 * nets such as the TF.js imports stay fp32: quantizing one changes nothing.
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
export const QUANTIZER_VERSION = 1;

/** What {@linkcode quantizeMatMulsInt8} did. */
export interface QuantizedModel {
  /** The rewritten model. */
  bytes: Uint8Array;
  /** MatMuls replaced. */
  quantized: number;
  /** MatMuls left in float (B not a constant 2-D float initializer). */
  kept: number;
}

/** Per-column symmetric int8 quantization of a row-major `[K, N]` matrix. */
export function quantizeColumnsInt8(
  w: Float32Array,
  k: number,
  n: number,
): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(n);
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < n; c++) scale[c] = Math.max(scale[c], Math.abs(w[r * n + c]));
  }
  for (let c = 0; c < n; c++) scale[c] = scale[c] > 0 ? scale[c] / 127 : 1;
  const q = new Int8Array(k * n);
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < n; c++) {
      q[r * n + c] = Math.max(-127, Math.min(127, Math.round(w[r * n + c] / scale[c])));
    }
  }
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

/**
 * Rewrites a model's constant-weight MatMuls as dynamically quantized int8
 * products (see the module doc). The model needs opset 11 or later
 * (`DynamicQuantizeLinear`); other opsets, metadata and unknown fields are
 * kept as they are.
 *
 * @param bytes The fp32 model.
 * @returns The rewritten model and counts.
 * @throws {RangeError} When the bytes are not an ONNX model, or its opset is below 11.
 */
export function quantizeMatMulsInt8(bytes: Uint8Array): QuantizedModel {
  const model = readOnnxModel(bytes);
  if (model.opset < 11) {
    throw new RangeError(
      `Cannot quantize an ONNX model of opset ${model.opset}: DynamicQuantizeLinear needs 11`,
    );
  }
  const { graph } = model;
  const inits = new Map(graph.initializers.map((t) => [t.name, t]));
  const uses = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  const taken = new Set<string>([...inits.keys(), ...graph.nodes.flatMap((n) => n.outputs)]);
  const fresh = (base: string) => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const quantizedInputs = new Map<string, [string, string, string]>();
  const nodes: OnnxNode[] = [];
  const added: OnnxTensor[] = [];
  const dropped = new Set<string>();
  let quantized = 0;
  let kept = 0;
  for (const n of graph.nodes) {
    if (n.opType !== "MatMul" || n.domain !== "") {
      nodes.push(n);
      continue;
    }
    const [a, b] = n.inputs;
    const w = inits.get(b);
    const values = w && w.dims.length === 2 ? w.floats() : null;
    if (!w || !values) {
      kept++;
      nodes.push(n);
      continue;
    }
    const [k, cols] = w.dims;
    let aq = quantizedInputs.get(a);
    if (!aq) {
      aq = [fresh(`${a}_quant`), fresh(`${a}_scale`), fresh(`${a}_zero_point`)];
      quantizedInputs.set(a, aq);
      nodes.push(node("DynamicQuantizeLinear", [a], [...aq]));
    }
    const { q, scale } = quantizeColumnsInt8(values, k, cols);
    const wq = fresh(`${b}_int8`);
    const ws = fresh(`${b}_scale`);
    added.push(OnnxTensor.from(wq, [k, cols], TENSOR_TYPE.int8, new Uint8Array(q.buffer)));
    added.push(OnnxTensor.from(ws, [cols], TENSOR_TYPE.float, new Uint8Array(scale.buffer)));
    const y = n.outputs[0];
    const yInt = fresh(`${y}_int32`);
    const yCast = fresh(`${y}_cast`);
    const yScale = fresh(`${y}_rescale`);
    nodes.push(node("MatMulInteger", [aq[0], wq, aq[2]], [yInt]));
    nodes.push(node("Cast", [yInt], [yCast], CAST_TO_FLOAT));
    nodes.push(node("Mul", [aq[1], ws], [yScale]));
    nodes.push(node("Mul", [yCast, yScale], [y]));
    const left = (uses.get(b) ?? 1) - 1;
    uses.set(b, left);
    if (left === 0) dropped.add(b);
    quantized++;
  }
  graph.nodes = nodes;
  graph.initializers = [...graph.initializers.filter((t) => !dropped.has(t.name)), ...added];
  return { bytes: writeOnnxModel(model), quantized, kept };
}
