/**
 * How fast an int8 ViT-B/14 at 840 can get on this machine, from
 * onnxruntime's own profile: one native forward of the random-weight
 * ViT-B/14 (12 blocks, DINOv2 contract) at 840, fp32 and its served int8
 * variant (`models/onnx_quantize.ts`), with the kernel time split by what
 * the kernels compute. int8 replaces only the products with a weight, so
 * everything else (attention's two activation products per head, softmax
 * over 3,601 x 3,601 scores, GELU, LayerNorm, the element-wise rest) is a
 * floor no int8 variant of the linear layers can go below: the table prints
 * it beside the 2 s target.
 *
 * It also times the kernels alone on the issue's shapes: 12 products of
 * [3601 x 768] x [768 x 3072] and back, fp32 `MatMul` against
 * `DynamicQuantizeLinear` + `MatMulInteger` (the served pattern), so the
 * int8 kernel speed-up of this CPU is known apart from the graph, and the
 * same products as `MatMulNBits` with 8-bit weights scaled per block of 32
 * inputs (finer steps than per column, for agreement) beside them; and one
 * forward of each graph with its attention fused into onnxruntime's
 * `MultiHeadAttention`, the other lever the floor leaves.
 *
 * Run alone: `deno run -A tests/bench/int8_ceiling_bench.ts` (about a
 * two and a half minutes on 2 cores; `deno task bench` runs it too).
 *
 * @module
 */

import { loadNativeRuntime } from "../../workers/ort_native.ts";
import { quantizeMatMulsInt8 } from "../../models/onnx_quantize.ts";
import { OnnxGraph } from "../../core/onnx_graph.ts";
import {
  intField,
  type OnnxModelProto,
  type OnnxNode,
  OnnxTensor,
  type ProtoField,
  readOnnxModel,
  stringField,
  TENSOR_TYPE,
  writeFields,
  writeOnnxModel,
} from "../../models/onnx_proto.ts";
import { buildTinyVitGraph } from "../fixtures/tiny_vit_graph.ts";
import { seededUniform } from "../fixtures/_seeded_normal.ts";
import { describeCpu } from "./_cpu.ts";
import { fastestForwards } from "./_fastest_forwards.ts";
import { configureOrt } from "../../workers/ort.ts";

/**
 * What a kernel computes, by its op type and input shapes: attention's
 * products read two 4-D `[batch, heads, ...]` activations; a product with a
 * weight reads one activation (onnxruntime prepacks the weight, and the
 * profile lists neither its shape nor its size).
 */
function kernelClass(op: string, inputRanks: number[]): string {
  const products = ["MatMul", "FusedMatMul", "Gemm", "MatMulInteger", "DynamicQuantizeMatMul"];
  if (products.includes(op) || op === "MatMulIntegerToFloat") {
    return inputRanks.filter((r) => r >= 4).length >= 2
      ? "attention products"
      : "products with a weight (int8 replaces these)";
  }
  if (op === "DynamicQuantizeLinear") return "activation quantization";
  if (op === "Softmax") return "softmax";
  if (["Erf", "Gelu", "BiasGelu", "FastGelu"].includes(op)) return "GELU";
  if (op.endsWith("LayerNormalization")) return "LayerNorm";
  return "element-wise and layout (Add, Mul, Transpose, ...)";
}

interface ProfileEvent {
  cat: string;
  dur: number;
  args?: { op_name?: string; input_type_shape?: Record<string, number[]>[] };
}

/** Kernel ms by class, and wall ms, of the second of two profiled forwards. */
async function profiledForward(
  bytes: Uint8Array,
  feeds: Record<string, unknown>,
  threads: number,
): Promise<{ wall: number; classes: Map<string, number> }> {
  const ort = await loadNativeRuntime();
  const dir = await Deno.makeTempDir();
  try {
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ["cpu"],
      graphOptimizationLevel: "all",
      intraOpNumThreads: threads,
      enableProfiling: true,
      profileFilePrefix: `${dir}/profile`,
    });
    // The first run also plans memory and packs weights; only the second is counted.
    await session.run(feeds as never);
    const t0 = performance.now();
    await session.run(feeds as never);
    const wall = performance.now() - t0;
    session.endProfiling();
    await session.release();
    let events: ProfileEvent[] = [];
    for await (const e of Deno.readDir(dir)) {
      events = JSON.parse(await Deno.readTextFile(`${dir}/${e.name}`));
    }
    const nodes = events.filter((e) => e.cat === "Node" && e.args?.op_name);
    // Two runs were profiled; the second half of the kernel events is the counted run.
    const counted = nodes.slice(nodes.length / 2);
    const classes = new Map<string, number>();
    for (const e of counted) {
      const ranks = (e.args!.input_type_shape ?? []).map((t) => Object.values(t)[0]?.length ?? 0);
      const c = kernelClass(e.args!.op_name!, ranks);
      classes.set(c, (classes.get(c) ?? 0) + e.dur / 1000);
    }
    return { wall, classes };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The graph with each attention of `buildTinyVitGraph` (q k^T, scale,
 * softmax, attn v and the head split and merge around them) as one
 * onnxruntime `MultiHeadAttention` (com.microsoft) on the q, k and v
 * projections, which computes softmax(q k^T / sqrt(d)) v per head without
 * writing the 3,601 x 3,601 scores of every head out: what a fused
 * attention kernel buys on this CPU. It follows the builder's node pattern
 * only (a bench graph, not a general rewrite).
 */
function fusedAttention(bytes: Uint8Array, heads: number, headDim: number): Uint8Array {
  const model = readOnnxModel(bytes);
  const { nodes } = model.graph;
  const producer = new Map(nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const reader = (name: string) => nodes.find((n) => n.inputs.includes(name))!;
  const split = (name: string) => producer.get(producer.get(name)!.inputs[0])!; // Transpose <- Reshape
  const dropped = new Set<OnnxNode>();
  const fused = new Map<OnnxNode, OnnxNode>();
  const scale = new Uint8Array(Float32Array.of(1 / Math.sqrt(headDim)).buffer);
  for (const softmax of nodes.filter((n) => n.opType === "Softmax")) {
    const mul = producer.get(softmax.inputs[0])!;
    const scores = producer.get(mul.inputs[0])!;
    const [q, k] = scores.inputs.map(split);
    const context = reader(softmax.outputs[0]);
    const v = split(context.inputs[1]);
    const merge = reader(context.outputs[0]); // Transpose, then the Reshape to [B, N, dim]
    const merged = reader(merge.outputs[0]);
    for (const n of [mul, scores, q, k, v, context, merge, softmax]) dropped.add(n);
    for (const r of [q, k, v]) dropped.add(reader(r.outputs[0]));
    fused.set(merged, {
      opType: "MultiHeadAttention",
      domain: "com.microsoft",
      name: "",
      inputs: [q.inputs[0], k.inputs[0], v.inputs[0]],
      outputs: merged.outputs,
      rest: [
        attribute("num_heads", [intField(3, heads), intField(20, 2)]),
        attribute("scale", [{ field: 2, wire: 5, bytes: scale }, intField(20, 1)]),
      ],
    });
  }
  model.graph.nodes = nodes.filter((n) => !dropped.has(n)).map((n) => fused.get(n) ?? n);
  importMicrosoftOps(model);
  return writeOnnxModel(model);
}

/** An attribute entry of a node: its name, then its value and type fields. */
function attribute(name: string, value: ProtoField[]): ProtoField {
  return { field: 5, wire: 2, bytes: writeFields([stringField(1, name), ...value]) };
}

/** Adds the `com.microsoft` opset (onnxruntime's contrib ops) to the model's imports. */
function importMicrosoftOps(model: OnnxModelProto): void {
  model.fields.push({
    field: 8,
    wire: 2,
    bytes: writeFields([stringField(1, "com.microsoft"), intField(2, 1)]),
  });
}

/** 12 products, [M x K] x [K x N] then [M x N] x [N x K], in fp32, served int8 and MatMulNBits: the fastest of `runs` rounds over the three. */
async function linearKernels(
  runs: number,
): Promise<{ fp32: number; int8: number; blocks: number }> {
  const [m, k, n] = [3601, 768, 3072];
  const uniform = seededUniform(7);
  const values = (count: number, scale: number) =>
    Float32Array.from({ length: count }, () => (2 * uniform() - 1) * scale);
  const g = new OnnxGraph("vit_b_840_linears");
  let x = g.input("x", [1, m, k]);
  for (let i = 0; i < 6; i++) {
    x = g.node("MatMul", [x, g.constFloat(`fc1_${i}`, [k, n], values(k * n, 1 / Math.sqrt(k)))]);
    x = g.node("MatMul", [x, g.constFloat(`fc2_${i}`, [n, k], values(n * k, 1 / Math.sqrt(n)))]);
  }
  g.output(x, [1, m, k]);
  const fp32 = g.toBytes();
  const feeds = { x: { data: values(m * k, 1), dims: [1, m, k] } };
  const [f, i8, blocks] = await fastestForwards(
    [fp32, quantizeMatMulsInt8(fp32).bytes, blockQuantized(fp32)],
    feeds,
    { backend: "native", rounds: runs, label: "ViT-B/14 840 linears" },
  );
  return { fp32: f, int8: i8, blocks };
}

/**
 * The graph with every weighted MatMul as onnxruntime's `MatMulNBits`
 * (com.microsoft): 8-bit weights with a scale per block of 32 inputs of a
 * column (zero point 128, the default), computed in int8
 * (`accuracy_level` 4): finer steps than one scale per column, the lever
 * left when per-column weights flip too many matches.
 */
export function blockQuantized(bytes: Uint8Array): Uint8Array {
  const model = readOnnxModel(bytes);
  const inits = new Map(model.graph.initializers.map((t) => [t.name, t]));
  const added: OnnxTensor[] = [];
  const attr = (name: string, v: number) => attribute(name, [intField(3, v), intField(20, 2)]);
  const block = 32;
  model.graph.nodes = model.graph.nodes.map((node) => {
    const w = node.opType === "MatMul" ? inits.get(node.inputs[1]) : undefined;
    const values = w?.floats();
    if (!w || !values) return node;
    const [k, n] = w.dims;
    const blocks = k / block;
    const q = new Uint8Array(n * k);
    const scales = new Float32Array(n * blocks);
    for (let c = 0; c < n; c++) {
      for (let b = 0; b < blocks; b++) {
        let max = 0;
        for (let r = b * block; r < (b + 1) * block; r++) {
          max = Math.max(max, Math.abs(values[r * n + c]));
        }
        const step = max / 127 || 1;
        scales[c * blocks + b] = step;
        for (let j = 0; j < block; j++) {
          q[(c * blocks + b) * block + j] = Math.round(values[(b * block + j) * n + c] / step) +
            128;
        }
      }
    }
    added.push(OnnxTensor.from(`${w.name}_q`, [n, blocks, block], TENSOR_TYPE.uint8, q));
    added.push(
      OnnxTensor.from(
        `${w.name}_s`,
        [n * blocks],
        TENSOR_TYPE.float,
        new Uint8Array(scales.buffer),
      ),
    );
    return {
      ...node,
      opType: "MatMulNBits",
      domain: "com.microsoft",
      inputs: [node.inputs[0], `${w.name}_q`, `${w.name}_s`],
      rest: [
        attr("K", k),
        attr("N", n),
        attr("bits", 8),
        attr("block_size", block),
        attr("accuracy_level", 4),
      ],
    };
  });
  const replaced = new Set(added.map((t) => t.name.slice(0, -2)));
  const stillRead = new Set(model.graph.nodes.flatMap((n) => n.inputs));
  model.graph.initializers = [
    ...model.graph.initializers.filter((t) => !replaced.has(t.name) || stillRead.has(t.name)),
    ...added,
  ];
  importMicrosoftOps(model);
  return writeOnnxModel(model);
}

/** Prints the kernel split of ViT-B/14 at 840, fp32 against int8, and the floor it implies. */
export async function benchInt8Ceiling(): Promise<void> {
  const threads = navigator.hardwareConcurrency;
  try {
    await loadNativeRuntime();
  } catch (e) {
    console.log(`\nint8 ceiling skipped: native backend unavailable (${(e as Error).message})`);
    return;
  }
  const side = 840;
  const ort = await loadNativeRuntime();
  const pixels = Float32Array.from({ length: 3 * side * side }, (_, i) => Math.sin(i * 0.001));
  const feeds = { pixel_values: new ort.Tensor("float32", pixels, [1, 3, side, side]) };
  const tensorFeeds = { pixel_values: { data: pixels, dims: [1, 3, side, side] } };
  configureOrt({ numThreads: threads });
  const fp32 = buildTinyVitGraph({ dim: 768, heads: 12, depth: 12, seed: 1 });
  const a = await profiledForward(fp32, feeds, threads);
  const b = await profiledForward(quantizeMatMulsInt8(fp32).bytes, feeds, threads);
  const kernels = await linearKernels(3);
  // One graph at a time: two ViT-B/14 840 sessions hold gigabytes each.
  const fusedWall = async (bytes: Uint8Array) =>
    (await fastestForwards([fusedAttention(bytes, 12, 64)], tensorFeeds, {
      backend: "native",
      rounds: 1,
      label: "ViT-B/14 840, fused attention",
    }))[0];
  const fused = {
    fp32: await fusedWall(fp32),
    int8: await fusedWall(quantizeMatMulsInt8(fp32).bytes),
  };
  console.log(
    `\nint8 ceiling: random-weight ViT-B/14 (12 blocks) @ ${side}, one native forward each` +
      ` (onnxruntime's profile of the second run), ${threads} thread(s); ${await describeCpu()}`,
  );
  const names = [...new Set([...a.classes.keys(), ...b.classes.keys()])].sort((x, y) =>
    (a.classes.get(y) ?? 0) - (a.classes.get(x) ?? 0)
  );
  const total = (m: Map<string, number>) => [...m.values()].reduce((s, v) => s + v, 0);
  const [ta, tb] = [total(a.classes), total(b.classes)];
  console.log("| kernels | fp32 ms | share | int8 ms | share |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  const cell = (m: Map<string, number>, t: number, k: string) =>
    m.has(k) ? `${m.get(k)!.toFixed(0)} | ${(100 * m.get(k)! / t).toFixed(1)}%` : "- | -";
  for (const k of names) {
    console.log(`| ${k} | ${cell(a.classes, ta, k)} | ${cell(b.classes, tb, k)} |`);
  }
  console.log(`| all kernels | ${ta.toFixed(0)} | | ${tb.toFixed(0)} | |`);
  console.log(`| forward, wall | ${a.wall.toFixed(0)} | | ${b.wall.toFixed(0)} | |`);
  const weighted = "products with a weight (int8 replaces these)";
  const floor = tb - (b.classes.get(weighted) ?? 0) -
    (b.classes.get("activation quantization") ?? 0);
  // Multiply-adds of one forward, from the shapes: per block q, k, v,
  // output (4 d^2 per token) and the MLP (8 d^2 per token) with a weight;
  // q k^T and attn v (2 t^2 d) between activations.
  const [tokens, dim] = [(side / 14) ** 2 + 1, 768];
  const weightedMacs = 12 * 12 * tokens * dim * dim;
  const attentionMacs = 12 * 2 * tokens * tokens * dim;
  const issueMacs = 12 * 3601 * 768 * 3072;
  const rate = (ms: number) => issueMacs / ms / 1e6; // GMAC/s
  const allInt8 = (weightedMacs + attentionMacs) / rate(kernels.int8) / 1e6; // ms
  console.log(
    `floor: the int8 forward's kernels other than the weighted products and their quantization take` +
      ` ${floor.toFixed(0)} ms (${(floor / 2000).toFixed(2)}x the 2 s target); int8 speed-up` +
      ` ${(a.wall / b.wall).toFixed(2)}x end to end.\nThe 12 products of the issue's shapes alone` +
      ` (fastest of 3): fp32 ${kernels.fp32.toFixed(0)} ms (${
        rate(kernels.fp32).toFixed(0)
      } GMAC/s),` +
      ` int8 ${kernels.int8.toFixed(0)} ms (${rate(kernels.int8).toFixed(0)} GMAC/s,` +
      ` ${
        (kernels.fp32 / kernels.int8).toFixed(2)
      }x); as MatMulNBits (8-bit, a scale per 32 inputs,` +
      ` int8 compute) ${kernels.blocks.toFixed(0)} ms (${
        (kernels.fp32 / kernels.blocks).toFixed(2)
      }x).` +
      `\nThe forward multiplies ${(weightedMacs / 1e9).toFixed(0)} G times with a weight and` +
      ` ${
        (attentionMacs / 1e9).toFixed(0)
      } G between activations (attention); all of them at the int8` +
      ` kernel's rate would take ${allInt8.toFixed(0)} ms, so 2 s needs` +
      ` ${((weightedMacs + attentionMacs) / 2e9).toFixed(0)} GMAC/s,` +
      ` ${
        ((weightedMacs + attentionMacs) / 2e9 / rate(kernels.int8)).toFixed(1)
      }x this CPU's int8 rate.` +
      `\nWith each attention fused into onnxruntime's MultiHeadAttention (one run after a warm-up):` +
      ` fp32 ${fused.fp32.toFixed(0)} ms (${(a.wall / fused.fp32).toFixed(2)}x the unfused fp32),` +
      ` int8 ${fused.int8.toFixed(0)} ms (${(a.wall / fused.int8).toFixed(2)}x the unfused fp32)`,
  );
}

if (import.meta.main) await benchInt8Ceiling();
