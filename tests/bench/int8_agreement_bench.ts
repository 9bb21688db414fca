/**
 * Agreement and speed of int8 variants of the random-weight ViT-S/14 or
 * ViT-B/14 (DINOv2 contract, 12 blocks, the extraction bench's models) against their fp32
 * original, in one run: each variant is evaluated on real PF-WILLOW pairs
 * through the normal evaluation path (`nn` localizer, predictions returned),
 * its matches compared point by point with fp32's
 * (`evaluation/agreement.ts`), and one forward timed on the native backend.
 *
 * The variants are `models/onnx_quantize.ts` options (`quantize: "int8"`
 * serves the first int8 row), onnxruntime's own block-wise `MatMulNBits`
 * (`./int8_ceiling_bench.ts`), plus diagnostics that are not int8 graphs:
 * fp32 products of weights rounded to int8 (the weights' share of the error
 * alone: to the served steps, to full-range steps, to full-range steps
 * scaled per block of 32 inputs) and to fp16 (how sensitive the check is).
 *
 * Settings: `BENCH_AGREEMENT_MODEL` (`vit-s`, default, or `vit-b`: ViT-B/14,
 * 12 blocks), `BENCH_AGREEMENT_ROWS` (the table's rows to run, 0-based and
 * comma-separated, fp32 always included; default all),
 * `BENCH_AGREEMENT_SIDE` (default 448), `BENCH_AGREEMENT_CATEGORIES`
 * (default `car(G),car(M)`: 180 pairs, 1,800 points), `BENCH_AGREEMENT_RUNS`
 * rounds of one timed forward per variant, the fastest kept (default 5,
 * after one warm-up), `DATA_PFWILLOW`
 * (default `../shared/data/pf-willow`). Run alone:
 * `deno run -A tests/bench/int8_agreement_bench.ts` (a few minutes on 2 cores).
 *
 * @module
 */

import { join } from "node:path";
import { buildTinyVitGraph } from "../fixtures/tiny_vit_graph.ts";
import { tinyVitDescriptor } from "../fixtures/models.ts";
import {
  quantizeColumnsInt8,
  quantizeMatMulsInt8,
  type QuantizeOptions,
} from "../../models/onnx_quantize.ts";
import { OnnxTensor, readOnnxModel, TENSOR_TYPE, writeOnnxModel } from "../../models/onnx_proto.ts";
import { fastestForwards } from "./_fastest_forwards.ts";
import { agreementCells, evaluateVariants } from "./_variant_agreement.ts";
import { describeCpu } from "./_cpu.ts";
import { blockQuantized } from "./int8_ceiling_bench.ts";
import { configureOrt } from "../../workers/ort.ts";

/** The fp32 graph with each MatMul weight replaced by `round(W)`, products in float. */
function roundedWeights(
  bytes: Uint8Array,
  round: (w: Float32Array, k: number, n: number) => Float32Array,
): Uint8Array {
  const model = readOnnxModel(bytes);
  const weights = new Set(
    model.graph.nodes.filter((n) => n.opType === "MatMul").map((n) => n.inputs[1]),
  );
  model.graph.initializers = model.graph.initializers.map((t) => {
    const v = weights.has(t.name) && t.dims.length === 2 ? t.floats() : null;
    if (!v) return t;
    const r = round(v, t.dims[0], t.dims[1]);
    return OnnxTensor.from(t.name, t.dims, TENSOR_TYPE.float, new Uint8Array(r.buffer));
  });
  return writeOnnxModel(model);
}

/** `W` rounded to the int8 steps of `quantizeColumnsInt8` with `qmax` steps per column. */
const toInt8 = (qmax?: number) => (w: Float32Array, k: number, n: number) => {
  const { q, scale } = quantizeColumnsInt8(w, k, n, qmax);
  return Float32Array.from(q, (x, i) => x * scale[i % n]);
};
/** `W` rounded to int8 steps scaled per block of 32 rows of a column (finer than per column). */
const toInt8Blocks = (w: Float32Array, k: number, n: number) => {
  const out = new Float32Array(w.length);
  for (let r0 = 0; r0 < k; r0 += 32) {
    const rows = Math.min(32, k - r0);
    const block = quantizeColumnsInt8(w.subarray(r0 * n, (r0 + rows) * n), rows, n, 127);
    block.q.forEach((x, i) => out[r0 * n + i] = x * block.scale[i % n]);
  }
  return out;
};
const half = new Float16Array(1);
const toFp16 = (w: Float32Array) => Float32Array.from(w, (x) => (half[0] = x, half[0]));

/** Graph order of a block's weighted MatMuls: q, k, v, output, fc1, fc2. */
const isMlp = (m: { index: number }) => m.index % 6 >= 4;
const isAttention = (m: { index: number }) => m.index % 6 < 4;

/** The rows of the table: a name and how its graph is made from the fp32 one. */
const VARIANTS: [string, (fp32: Uint8Array) => Uint8Array][] = [
  ["fp32", (b) => b],
  ["fp32, weights rounded to fp16 (diagnostic)", (b) => roundedWeights(b, toFp16)],
  [
    "fp32, weights rounded to served int8, [-64, 64] (diagnostic)",
    (b) => roundedWeights(b, toInt8()),
  ],
  ["fp32, weights rounded to [-127, 127] (diagnostic)", (b) => roundedWeights(b, toInt8(127))],
  [
    "fp32, weights rounded to [-127, 127] per block of 32 (diagnostic)",
    (b) => roundedWeights(b, toInt8Blocks),
  ],
  ...([
    ["int8: all MatMuls, per-tensor activations (served)", {}],
    ["int8, full-range weights [-127, 127] (saturates without VNNI)", { weights: "int8" }],
    ["int8, uint8 weights around 128 (u8u8 kernel)", { weights: "uint8" }],
    ["int8, per-token activations", { activations: "token" }],
    ["int8, two-part weights", { weights: "int8x2" }],
    ["int8, two-part weights, per-token activations", { weights: "int8x2", activations: "token" }],
    ["int8 MLP only (fc1, fc2)", { include: isMlp }],
    ["int8 MLP only, per-token activations", { include: isMlp, activations: "token" }],
    ["int8 attention only (q, k, v, output)", { include: isAttention }],
    ["int8 all but q, k", { include: (m) => m.index % 6 > 1 }],
    ["int8 v, output only", { include: (m) => m.index % 6 === 2 || m.index % 6 === 3 }],
    ["int8 fc1 only", { include: (m) => m.index % 6 === 4 }],
    ["int8 fc2 only", { include: (m) => m.index % 6 === 5 }],
    ["int8, last block fp32", { include: (m) => m.index < m.count - 6 }],
  ] as [string, QuantizeOptions][]).map(([name, o]): [string, (b: Uint8Array) => Uint8Array] => [
    name,
    (b) => quantizeMatMulsInt8(b, o).bytes,
  ]),
  [
    "MatMulNBits: 8-bit weights and activations per block of 32 (onnxruntime contrib)",
    blockQuantized,
  ],
];

if (import.meta.main) {
  const env = (k: string, d: string) => Deno.env.get(k) ?? d;
  const side = Number(env("BENCH_AGREEMENT_SIDE", "448"));
  const categories = env("BENCH_AGREEMENT_CATEGORIES", "car(G),car(M)").split(",");
  const runs = Number(env("BENCH_AGREEMENT_RUNS", "5"));
  const willow = env(
    "DATA_PFWILLOW",
    new URL("../../../shared/data/pf-willow", import.meta.url).pathname,
  );
  const dir = await Deno.makeTempDir();
  const vit = env("BENCH_AGREEMENT_MODEL", "vit-s") === "vit-b"
    ? { name: "ViT-B/14", dim: 768, heads: 12 }
    : { name: "ViT-S/14", dim: 384, heads: 6 };
  const picked = Deno.env.get("BENCH_AGREEMENT_ROWS")?.split(",").map(Number);
  const fp32 = buildTinyVitGraph({ dim: vit.dim, heads: vit.heads, depth: 12, seed: 1 });
  const files = VARIANTS.map(([name, make], i) => ({ name, i, make }))
    .filter(({ i }) => i === 0 || !picked || picked.includes(i))
    .map(({ name, i, make }) => ({ name, id: `v${i}`, bytes: make(fp32) }));
  const descriptors = [];
  for (const f of files) {
    await Deno.writeFile(join(dir, `${f.id}.onnx`), f.bytes);
    descriptors.push(
      tinyVitDescriptor(f.id, join(dir, `${f.id}.onnx`), {
        feature_dim: vit.dim,
        resolutions: { min: 112, max: 840 },
      }),
    );
  }
  configureOrt({ numThreads: navigator.hardwareConcurrency });
  const pixels = new Float32Array(3 * side * side).map((_, i) => Math.sin(i * 0.001));
  const feeds = { pixel_values: { data: pixels, dims: [1, 3, side, side] } };
  try {
    console.log(
      `\nint8 agreement: random-weight ${vit.name} (12 blocks) @ ${side}, PF-WILLOW ` +
        `${categories.join(" + ")}, nn matches identical to fp32; one native forward, ` +
        `fastest of ${runs} rounds over all variants after 1 warm-up, ` +
        `${navigator.hardwareConcurrency} thread(s); ${await describeCpu()}`,
    );
    console.log(
      "| variant | identical | % | median / max px of disagreements | PCK@0.1 | forward ms | vs fp32 |",
    );
    console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    // Agreement first, through the service; then the forwards, timed in
    // rounds over every variant so load from other work hits them alike.
    const rows = await evaluateVariants(
      descriptors,
      files.map((f) => f.id),
      { categories, resolution: side },
      { dir, willow },
    );
    const fastest = await fastestForwards(files.map((f) => f.bytes), feeds, {
      backend: "native",
      rounds: runs,
      label: "int8 variant",
    });
    for (const [i, row] of rows.entries()) {
      console.log(
        `| ${files[i].name} | ${agreementCells(row)} | ${fastest[i].toFixed(0)} | ${
          (fastest[0] / fastest[i]).toFixed(2)
        }x |`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
