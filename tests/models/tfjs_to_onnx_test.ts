import assert from "node:assert/strict";
import { appendTfjsGraph, SUPPORTED_TFJS_OPS } from "../../models/tfjs_to_onnx.ts";
import { parseTfjsModel } from "../../models/tfjs_model.ts";
import { decodeTfjsWeights } from "../../models/tfjs_weights.ts";
import { OnnxGraph } from "../../core/onnx_graph.ts";
import { UnsupportedModelError } from "../../errors/mod.ts";
import { attr, type StoredAs, TfjsGraphBuilder, waves } from "../fixtures/tfjs_graph.ts";
import { loadTfjs, relativeError, runImported, runTfjs } from "./_tfjs_runtime.ts";

const NHWC = attr.s("NHWC");

/**
 * One graph with a branch per op feature, on an odd-sized NHWC input so SAME
 * padding rounds: each output is compared with the TF.js runtime.
 */
function opsGraph() {
  const b = new TfjsGraphBuilder();
  const x = b.placeholder("x", [1, 9, 11, 3]);
  const conv = (name: string, k: number, cin: number, cout: number, stored: StoredAs = "float32") =>
    b.constant(name, [k, k, cin, cout], waves(k * k * cin * cout, 0.5, cout), stored);
  const outs: string[] = [];
  const add = (name: string) => (outs.push(name), name);
  // Convolution attributes as the TF.js converter writes them, plus fused ops.
  const convAttrs = (s: number, padding: string, d = 1, fused?: string[], args = 1) => ({
    strides: attr.ints([1, s, s, 1]),
    padding: attr.s(padding),
    data_format: NHWC,
    dilations: attr.ints([1, d, d, 1]),
    ...(fused ? { fused_ops: attr.strings(fused), num_args: attr.i(args) } : {}),
  });

  add(b.op("conv_same_s2", "Conv2D", [x, conv("w1", 3, 3, 4, "uint8")], convAttrs(2, "SAME")));
  add(b.op("conv_valid_dilated", "Conv2D", [x, conv("w2", 3, 3, 2)], convAttrs(1, "VALID", 2)));
  for (const act of ["Relu", "Relu6", "LeakyRelu", "Elu", "Sigmoid"]) {
    add(
      b.op(`fused_${act}`, "_FusedConv2D", [
        x,
        conv(`wf_${act}`, 3, 3, 5, "float16"),
        b.constant(`bf_${act}`, [5], waves(5, 2)),
      ], { ...convAttrs(1, "SAME", 1, ["BiasAdd", act]), leakyrelu_alpha: attr.f(0.1) }),
    );
  }
  add(
    b.op("fused_prelu", "_FusedConv2D", [
      x,
      conv("wp", 1, 3, 4),
      b.constant("bp", [4], waves(4)),
      b.constant("alpha", [4], [0.1, 0.2, 0.3, 0.4]),
    ], convAttrs(1, "VALID", 1, ["BiasAdd", "Prelu"], 2)),
  );
  add(b.op("dw5_s2", "DepthwiseConv2dNative", [x, conv("wd", 5, 3, 2)], convAttrs(2, "SAME")));
  add(
    b.op("fdw3", "FusedDepthwiseConv2dNative", [
      x,
      conv("wfd", 3, 3, 1),
      b.constant("bfd", [3], waves(3)),
    ], convAttrs(1, "SAME", 1, ["BiasAdd", "Relu"])),
  );
  const window = (k: number, s: number, padding: string) => ({
    ksize: attr.ints([1, k, k, 1]),
    strides: attr.ints([1, s, s, 1]),
    padding: attr.s(padding),
    data_format: NHWC,
  });
  add(b.op("maxpool_same", "MaxPool", [x], window(3, 2, "SAME")));
  add(b.op("avgpool_same", "AvgPool", [x], window(3, 2, "SAME")));
  add(b.op("avgpool_valid", "AvgPool", [x], window(2, 2, "VALID")));
  const size = b.ints("size", [7, 5]);
  for (
    const [name, ac, hp] of [["align", true, false], ["half", false, true], [
      "asym",
      false,
      false,
    ]] as const
  ) {
    add(b.op(`resize_${name}`, "ResizeBilinear", [x, size], {
      align_corners: attr.b(ac),
      half_pixel_centers: attr.b(hp),
    }));
  }
  const pads = b.ints("pads", [0, 0, 1, 2, 2, 1, 0, 0], [4, 2]);
  add(b.op("pad", "Pad", [x, pads]));
  add(b.op("padv2", "PadV2", [x, pads, b.constant("minus_one", [], [-1])]));
  add(b.op("mirror", "MirrorPad", [x, pads], { mode: attr.s("REFLECT") }));
  const perm = b.op("perm", "Transpose", [x, b.ints("perm_axes", [0, 3, 1, 2])]);
  add(b.op("reshape", "Reshape", [perm, b.ints("shape", [1, 3, -1])]));
  add(
    b.op("concat", "ConcatV2", [x, b.op("relu", "Relu", [x]), b.ints("axis", [-1], [])], {
      N: attr.i(2),
    }),
  );
  add(b.op("mean", "Mean", [x, b.ints("axes", [1, 2])], { keep_dims: attr.b(false) }));
  const c = b.constant("c", [3], [0.5, -1.5, 2]);
  for (
    const [op, inputs] of [
      ["AddV2", [x, c]],
      ["Sub", [c, x]],
      ["Mul", [x, x]],
      ["RealDiv", [x, c]],
      ["Maximum", [x, c]],
      ["Minimum", [x, c]],
      ["BiasAdd", [x, c]],
    ] as const
  ) {
    add(b.op(`bin_${op}`, op, [...inputs], op === "BiasAdd" ? { data_format: NHWC } : {}));
  }
  const positive = b.op("positive", "Add", [b.op("abs", "Abs", [x]), b.constant("one", [], [1])]);
  for (const op of ["Sigmoid", "Tanh", "Elu", "Neg", "Exp", "Relu6", "Square", "Identity"]) {
    add(b.op(`un_${op}`, op, [x]));
  }
  add(b.op("un_LeakyRelu", "LeakyRelu", [x], { alpha: attr.f(0.3) }));
  add(b.op("un_Sqrt", "Sqrt", [positive]));
  add(b.op("un_Rsqrt", "Rsqrt", [positive]));
  return { files: b.build(), outputs: outs };
}

Deno.test("appendTfjsGraph() converts every supported op as the TF.js runtime computes it", async () => {
  const { files, outputs } = opsGraph();
  const shape = [1, 9, 11, 3];
  const input = waves(9 * 11 * 3, 3, 0.5);
  const model = await loadTfjs(files.json, files.shard, [1, 2]);
  const expected = runTfjs(model, input, shape, outputs);
  const actual = await runImported(files.json, files.shard, input, shape, outputs);
  for (let i = 0; i < outputs.length; i++) {
    const err = relativeError(actual[i].data, expected[i]);
    assert.ok(err < 1e-5, `${outputs[i]}: relative error ${err} (dims [${actual[i].dims}])`);
  }
  const covered = new Set((files.json.modelTopology.node as { op: string }[]).map((n) => n.op));
  assert.deepEqual(SUPPORTED_TFJS_OPS.filter((op) => !covered.has(op)), []);
});

Deno.test("appendTfjsGraph() names the op and the node it cannot convert", () => {
  const b = new TfjsGraphBuilder();
  const x = b.placeholder("x", [1, 4, 4, 3]);
  b.op("head/topk", "TopKV2", [b.op("relu", "Relu", [x]), b.ints("k", [2], [])]);
  b.op("out", "Sigmoid", ["head/topk"]);
  const files = b.build();
  const model = parseTfjsModel(files.json);
  const weights = decodeTfjsWeights(model.weightGroups, [files.shard]);
  const g = new OnnxGraph("t");
  const input = g.input("x", [1, "h", "w", 3]);
  const cut = (outputs: string[]) =>
    appendTfjsGraph(g, model, weights, { input, inputShape: [1, 4, 4, 3], outputs });
  assert.throws(() => cut(["out"]), (e: unknown) => {
    assert.ok(e instanceof UnsupportedModelError);
    assert.equal(e.code, "unsupported_model");
    assert.match(
      e.message,
      /^Cannot convert op `TopKV2` \(node `head\/topk`\): the importer does not convert it/,
    );
    assert.deepEqual(e.details, { op: "TopKV2", node: "head/topk" });
    return true;
  });
  // Cut before the unknown op, the same graph converts.
  assert.deepEqual(cut(["relu"]).outputs[0].shape, [1, 4, 4, 3]);
  assert.throws(() => cut(["nope"]), /Cannot cut the graph at `nope`: no node has that name/);
  assert.throws(() => cut(["k"]), /it is a constant, not a layer/);
});

Deno.test("appendTfjsGraph() reports a graph that fixes its input size as not dynamic", () => {
  const b = new TfjsGraphBuilder();
  const x = b.placeholder("x", [1, 4, 4, 3]);
  b.op("flat", "Reshape", [x, b.ints("shape", [1, 48])]);
  b.op("relu", "Relu", [x]);
  const files = b.build();
  const model = parseTfjsModel(files.json);
  const weights = decodeTfjsWeights(model.weightGroups, [files.shard]);
  const run = (outputs: string[]) => {
    const g = new OnnxGraph("t");
    const input = g.input("x", [1, 4, 4, 3]);
    return appendTfjsGraph(g, model, weights, { input, inputShape: [1, 4, 4, 3], outputs });
  };
  assert.equal(run(["flat"]).dynamic, false);
  assert.deepEqual(run(["flat"]).outputs[0].shape, [1, 48]);
  assert.equal(run(["relu"]).dynamic, true);
});
