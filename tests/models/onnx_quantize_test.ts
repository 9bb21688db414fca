import assert from "node:assert/strict";
import { readOnnxModel, writeOnnxModel } from "../../models/onnx_proto.ts";
import { quantizeColumnsInt8, quantizeMatMulsInt8 } from "../../models/onnx_quantize.ts";
import { createSession } from "../../workers/backend.ts";
import { buildTinyVitGraph } from "../fixtures/tiny_vit_graph.ts";

const VIT = { dim: 64, heads: 4, depth: 2, seed: 3 };

Deno.test("a tiny ViT read and written without edits is byte for byte the same", () => {
  const bytes = buildTinyVitGraph(VIT);
  assert.deepEqual(writeOnnxModel(readOnnxModel(bytes)), bytes);
});

Deno.test("int8: every constant-weight MatMul is quantized, activation products stay float", () => {
  const { bytes, quantized, kept } = quantizeMatMulsInt8(buildTinyVitGraph(VIT));
  // Per block: q, k, v, output, fc1, fc2 have weights; q k^T and attn v do not.
  assert.equal(quantized, 6 * VIT.depth);
  assert.equal(kept, 2 * VIT.depth);
  const model = readOnnxModel(bytes);
  const ops = model.graph.nodes.map((n) => n.opType);
  assert.equal(ops.filter((o) => o === "MatMulInteger").length, 6 * VIT.depth);
  // q, k and v read one LayerNorm: 4 quantized activations per block.
  assert.equal(ops.filter((o) => o === "DynamicQuantizeLinear").length, 4 * VIT.depth);
  assert.equal(model.opset, 17);
  assert.ok(!model.graph.initializers.some((t) => t.name === "blocks.0.mlp.fc1.weight"));
});

Deno.test("per-column int8 weights reconstruct within half a step of their column's scale", () => {
  const w = Float32Array.from({ length: 6 * 5 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 5)));
  const { q, scale } = quantizeColumnsInt8(w, 6, 5);
  for (let i = 0; i < w.length; i++) {
    assert.ok(Math.abs(q[i] * scale[i % 5] - w[i]) <= scale[i % 5] / 2 + 1e-7);
  }
  assert.ok(q.some((v) => v === 127 || v === -127));
});

Deno.test("int8 ViT runs on native and WASM and stays close to fp32", async () => {
  const fp32 = buildTinyVitGraph(VIT);
  const int8 = quantizeMatMulsInt8(fp32).bytes;
  const side = 56;
  const pixels = new Float32Array(3 * side * side).map((_, i) => Math.sin(i * 0.013));
  const feeds = { pixel_values: { data: pixels, dims: [1, 3, side, side] } };
  for (const backend of ["native", "wasm"] as const) {
    const outs: Float32Array[] = [];
    for (const bytes of [fp32, int8]) {
      const s = await createSession(bytes, { label: "vit", backend });
      outs.push((await s.run(feeds)).last_hidden_state.data);
      await s.release();
    }
    const [a, b] = outs;
    assert.equal(a.length, b.length);
    let dot = 0, na = 0, nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    const cosine = dot / Math.sqrt(na * nb);
    assert.ok(cosine > 0.99, `${backend}: cosine ${cosine}`);
    assert.ok(cosine < 1, `${backend}: the int8 graph computed exactly fp32`);
  }
});
