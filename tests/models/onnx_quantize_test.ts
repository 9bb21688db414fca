import assert from "node:assert/strict";
import { readOnnxModel, writeOnnxModel } from "../../models/onnx_proto.ts";
import {
  quantizeColumnsInt8,
  quantizeMatMulsInt8,
  residualColumnsInt8,
} from "../../models/onnx_quantize.ts";
import { OnnxGraph } from "../../core/onnx_graph.ts";
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
  assert.ok(q.some((v) => v === 64 || v === -64));
  assert.ok(q.every((v) => Math.abs(v) <= 64));
});

Deno.test("int8 products are exact on every CPU: the largest activation times the largest weight does not saturate", async () => {
  // x = 1 everywhere quantizes to 255 (zero point 0, scale 1/255); each
  // column of w is constant, so every weight is its column's largest,
  // +-64 steps. A kernel that adds u8 x s8 pairs in a saturating int16
  // (onnxruntime's on x86 without VNNI) gets 255 x 64 x 2 = 32,640 per pair
  // exactly; with 127 steps the pair would be 64,770, clamped to 32,767,
  // and y about half of x w. Either way y must be x w: 64 x 0.5 and 64 x -3.
  const k = 64;
  const g = new OnnxGraph("mm");
  g.input("x", [2, k]);
  const w = Float32Array.from({ length: k * 2 }, (_, i) => i % 2 === 0 ? 0.5 : -3);
  g.output(g.node("MatMul", ["x", g.constFloat("w", [k, 2], w)]), [2, 2]);
  const x = new Float32Array(2 * k).fill(1);
  for (const weights of [undefined, "uint8", "int8x2"] as const) {
    const bytes = quantizeMatMulsInt8(g.toBytes(), { weights }).bytes;
    for (const backend of ["native", "wasm"] as const) {
      const s = await createSession(bytes, { label: "mm", backend });
      const y = Object.values(await s.run({ x: { data: x, dims: [2, k] } }))[0].data;
      await s.release();
      [32, -192, 32, -192].forEach((v, i) =>
        assert.ok(Math.abs(y[i] - v) < 1e-3, `${weights ?? "int7"} ${backend} [${i}]: ${y[i]}`)
      );
    }
  }
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

/** Cosine similarity of the two graphs' `last_hidden_state` on one input. */
async function cosineToFp32(
  fp32: Uint8Array,
  other: Uint8Array,
  backend: "native" | "wasm",
): Promise<number> {
  const side = 56;
  const pixels = new Float32Array(3 * side * side).map((_, i) => Math.sin(i * 0.013));
  const feeds = { pixel_values: { data: pixels, dims: [1, 3, side, side] } };
  const outs: Float32Array[] = [];
  for (const bytes of [fp32, other]) {
    const s = await createSession(bytes, { label: "vit", backend });
    outs.push((await s.run(feeds)).last_hidden_state.data);
    await s.release();
  }
  const [a, b] = outs;
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

Deno.test("include: only the chosen MatMuls are quantized, the others stay MatMul", () => {
  const seen: number[] = [];
  const { bytes, quantized, kept } = quantizeMatMulsInt8(buildTinyVitGraph(VIT), {
    include: (m) => {
      seen.push(m.index);
      assert.equal(m.count, 6 * VIT.depth);
      return m.k !== m.n; // fc1 [dim, 4 dim] and fc2 [4 dim, dim]
    },
  });
  assert.deepEqual(seen, [...Array(6 * VIT.depth).keys()]);
  assert.equal(quantized, 2 * VIT.depth);
  assert.equal(kept, 6 * VIT.depth);
  const ops = readOnnxModel(bytes).graph.nodes.map((n) => n.opType);
  assert.equal(ops.filter((o) => o === "MatMulInteger").length, 2 * VIT.depth);
  assert.equal(ops.filter((o) => o === "MatMul").length, 6 * VIT.depth);
});

Deno.test("per-token activations and two-part weights run on native and WASM, close to fp32", async () => {
  const fp32 = buildTinyVitGraph(VIT);
  const token = quantizeMatMulsInt8(fp32, { activations: "token" }).bytes;
  const tokenOps = readOnnxModel(token).graph.nodes.map((n) => n.opType);
  assert.equal(tokenOps.filter((o) => o === "DynamicQuantizeLinear").length, 0);
  assert.equal(tokenOps.filter((o) => o === "ReduceMax").length, 4 * VIT.depth);
  const twice = readOnnxModel(quantizeMatMulsInt8(fp32, { weights: "int8x2" }).bytes);
  const fc1 = twice.graph.initializers.find((t) => t.name === "blocks.0.mlp.fc1.weight_int8")!;
  assert.deepEqual(fc1.dims, [VIT.dim, 2 * 4 * VIT.dim]);
  // Opset 18 takes ReduceMax's axes as an input.
  const g = new OnnxGraph("mm", { opset: 18 });
  g.input("x", [3, 2]);
  g.output(g.node("MatMul", ["x", g.constFloat("w", [2, 2], [1, -2, 3, 4])]), [3, 2]);
  const mm = quantizeMatMulsInt8(g.toBytes(), { activations: "token" }).bytes;
  const s = await createSession(mm, { label: "mm", backend: "native" });
  const out = await s.run({ x: { data: Float32Array.of(1, 1, -2, 0.5, 0, 0), dims: [3, 2] } });
  await s.release();
  // Rows [1, 1], [-2, 0.5] and an all-zero row (scale floored, not a division by 0) times w.
  const y = Object.values(out)[0].data;
  [4, 2, -0.5, 6, 0, 0].forEach((v, i) => assert.ok(Math.abs(y[i] - v) < 0.05, `${i}: ${y[i]}`));
  for (const backend of ["native", "wasm"] as const) {
    for (const [name, bytes] of [["token", token], ["int8x2", writeOnnxModel(twice)]] as const) {
      const c = await cosineToFp32(fp32, bytes, backend);
      assert.ok(c > 0.99 && c < 1, `${backend} ${name}: cosine ${c}`);
    }
  }
});

Deno.test("two-part int8 weights reconstruct within half a step of the second part's scale", () => {
  const w = Float32Array.from({ length: 6 * 5 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 5)));
  const { q, scale } = residualColumnsInt8(w, 6, 5);
  assert.equal(q.length, 6 * 10);
  for (let r = 0; r < 6; r++) {
    for (let c = 0; c < 5; c++) {
      const v = q[r * 10 + c] * scale[c] + q[r * 10 + 5 + c] * scale[5 + c];
      assert.ok(Math.abs(v - w[r * 5 + c]) <= scale[5 + c] / 2 + 1e-7);
      assert.ok(scale[5 + c] <= scale[c] / 100);
    }
  }
});
