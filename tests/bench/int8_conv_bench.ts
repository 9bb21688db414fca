/**
 * Int8 convolutions for the learned default (`mnv3-nanodet-coco`): speed and
 * PF-WILLOW agreement of its two TF.js conv nets with their constant-weight
 * `Conv`s rewritten as
 *
 * ```
 * x_q, x_scale, x_zp = DynamicQuantizeLinear(X)        uint8, per tensor, at run time
 * y_i32 = ConvInteger(x_q, w_q, x_zp, 128)              w_q uint8, ONE zero point 128
 * Y = Cast(y_i32, float) * (x_scale * w_scale) + B      w_scale float [M, 1, 1]
 * ```
 *
 * onnxruntime's CPU `ConvInteger` takes one weight zero point per tensor, but
 * symmetric per-output-channel scales need none per channel: channel `m` is
 * stored as `round(W[m] / w_scale[m]) + 128`, `w_scale[m] = max |W[m]| / 127`,
 * and its scale applied to the integer output channel afterwards (int8
 * weights with zero point 0 are accepted too, but ran 4-8x slower than fp32
 * here: no fast kernel). Variants:
 * dense (`group = 1`) convs only, or depthwise ones too. The rewrite lives
 * here, not in `models/`, because it earns nothing: no descriptor mode
 * serves it (README, "int8 agreement").
 *
 * Each variant runs through the normal evaluation (`nn` localizer,
 * predictions returned) on every PF-WILLOW pair, its matches compared point
 * by point with the fp32 default's (`evaluation/agreement.ts`); then one
 * forward of each part at its side (mnv3-coco 384, nanodet-coco 208) is
 * timed on the native and the WASM backend, fastest of `BENCH_CONV_RUNS`
 * rounds (default 10) over all graphs, at 1 and at 2 threads. `DATA_PFWILLOW` (default
 * `../shared/data/pf-willow`). Run alone:
 * `deno run -A tests/bench/int8_conv_bench.ts` (under a minute on 2 cores).
 *
 * @module
 */

import { join } from "node:path";
import {
  indexGraph,
  intField,
  type OnnxNode,
  OnnxTensor,
  type ProtoField,
  readFields,
  readOnnxModel,
  stringField,
  TENSOR_TYPE,
  writeFields,
  writeOnnxModel,
} from "../../models/onnx_proto.ts";
import { NPM_MODELS } from "../../models/npm_models.ts";
import { importTfjsModel } from "../../models/tfjs_import.ts";
import type { TfjsBackboneDescriptor } from "../../models/tfjs_backbone.ts";
import { fastestForwards } from "./_fastest_forwards.ts";
import { agreementCells, evaluateVariants } from "./_variant_agreement.ts";
import { configureOrt } from "../../workers/ort.ts";

/**
 * Per-output-channel symmetric quantization of a `[M, ...]` weight to uint8
 * around the zero point 128.
 */
function quantizeChannelsUint8(
  w: Float32Array,
  channels: number,
): { q: Uint8Array; scale: Float32Array } {
  const per = w.length / channels;
  const scale = new Float32Array(channels);
  const q = new Uint8Array(w.length);
  for (let m = 0; m < channels; m++) {
    let max = 0;
    for (let i = m * per; i < (m + 1) * per; i++) max = Math.max(max, Math.abs(w[i]));
    const s = max > 0 ? max / 127 : 1;
    scale[m] = s;
    for (let i = m * per; i < (m + 1) * per; i++) {
      q[i] = 128 + Math.max(-127, Math.min(127, Math.round(w[i] / s)));
    }
  }
  return { q, scale };
}

const utf8 = new TextDecoder();

/** The INT attribute `name` of a node, or `fallback`. */
function intAttribute(n: OnnxNode, name: string, fallback: number): number {
  for (const f of n.rest) {
    if (f.field !== 5 || !f.bytes) continue;
    const a = readFields(f.bytes);
    const key = a.find((x) => x.field === 1);
    if (key?.bytes && utf8.decode(key.bytes) === name) {
      return Number(a.find((x) => x.field === 3)?.varint ?? fallback);
    }
  }
  return fallback;
}

const CAST_TO_FLOAT: ProtoField[] = [{
  field: 5,
  wire: 2,
  bytes: writeFields([stringField(1, "to"), intField(3, TENSOR_TYPE.float), intField(20, 2)]),
}];

function node(opType: string, inputs: string[], outputs: string[], rest: ProtoField[] = []) {
  return { opType, inputs, outputs, name: "", domain: "", rest };
}

/** The conv rewrite of the module doc; `"dense"`: `group = 1` convs only. */
function quantizeConvsInt8(
  bytes: Uint8Array,
  groups: "dense" | "all",
): { bytes: Uint8Array; quantized: number } {
  const model = readOnnxModel(bytes);
  const { graph } = model;
  const { inits, uses, fresh } = indexGraph(graph);
  const nodes: OnnxNode[] = [];
  const added: OnnxTensor[] = [];
  const dropped = new Set<string>();
  const quantizedInputs = new Map<string, [string, string, string]>();
  let zeroPoint: string | undefined;
  let quantized = 0;
  for (const n of graph.nodes) {
    if (n.opType !== "Conv" || n.domain !== "") {
      nodes.push(n);
      continue;
    }
    const w = inits.get(n.inputs[1]);
    const values = w && w.dims.length === 4 ? w.floats() : null;
    const bias = n.inputs[2] ? inits.get(n.inputs[2]) : undefined;
    const biasOk = !n.inputs[2] || (bias !== undefined && bias.floats() !== null);
    const group = intAttribute(n, "group", 1);
    if (!w || !values || !biasOk || (group !== 1 && groups !== "all")) {
      nodes.push(n);
      continue;
    }
    const x = n.inputs[0];
    let xq = quantizedInputs.get(x);
    if (!xq) {
      xq = [fresh(`${x}_quant`), fresh(`${x}_scale`), fresh(`${x}_zero_point`)];
      quantizedInputs.set(x, xq);
      nodes.push(node("DynamicQuantizeLinear", [x], [...xq]));
    }
    if (!zeroPoint) {
      zeroPoint = fresh("conv_weight_zero_point");
      added.push(OnnxTensor.from(zeroPoint, [], TENSOR_TYPE.uint8, Uint8Array.of(128)));
    }
    const channels = w.dims[0];
    const { q, scale } = quantizeChannelsUint8(values, channels);
    const wq = fresh(`${w.name}_uint8`);
    const ws = fresh(`${w.name}_scale`);
    added.push(OnnxTensor.from(wq, w.dims, TENSOR_TYPE.uint8, q));
    added.push(
      OnnxTensor.from(ws, [channels, 1, 1], TENSOR_TYPE.float, new Uint8Array(scale.buffer)),
    );
    const y = n.outputs[0];
    const yInt = fresh(`${y}_int32`);
    const yCast = fresh(`${y}_cast`);
    const yScale = fresh(`${y}_rescale`);
    const yScaled = bias ? fresh(`${y}_scaled`) : y;
    nodes.push(node("ConvInteger", [xq[0], wq, xq[2], zeroPoint], [yInt], n.rest));
    nodes.push(node("Cast", [yInt], [yCast], CAST_TO_FLOAT));
    nodes.push(node("Mul", [xq[1], ws], [yScale]));
    nodes.push(node("Mul", [yCast, yScale], [yScaled]));
    const release = (name: string) => {
      const left = (uses.get(name) ?? 1) - 1;
      uses.set(name, left);
      if (left === 0) dropped.add(name);
    };
    release(w.name);
    if (bias) {
      const b = fresh(`${bias.name}_channels`);
      added.push(
        OnnxTensor.from(
          b,
          [channels, 1, 1],
          TENSOR_TYPE.float,
          new Uint8Array(bias.floats()!.buffer),
        ),
      );
      nodes.push(node("Add", [yScaled, b], [y]));
      release(bias.name);
    }
    quantized++;
  }
  graph.nodes = nodes;
  graph.initializers = [...graph.initializers.filter((t) => !dropped.has(t.name)), ...added];
  return { bytes: writeOnnxModel(model), quantized };
}

/** The rows: which parts of the default get int8 convs, and which of their convs. */
const VARIANTS: {
  name: string;
  mnv3: boolean;
  nanodet: boolean;
  groups: "dense" | "all" | "rounded";
}[] = [
  { name: "fp32 (the default)", mnv3: false, nanodet: false, groups: "dense" },
  { name: "int8 dense convs, both parts", mnv3: true, nanodet: true, groups: "dense" },
  { name: "int8 dense convs, nanodet-coco only", mnv3: false, nanodet: true, groups: "dense" },
  { name: "int8 dense convs, mnv3-coco only", mnv3: true, nanodet: false, groups: "dense" },
  { name: "int8 dense + depthwise convs, both parts", mnv3: true, nanodet: true, groups: "all" },
  {
    name: "fp32, dense conv weights rounded to int8 (diagnostic)",
    mnv3: true,
    nanodet: true,
    groups: "rounded",
  },
];

/**
 * The fp32 graph with each dense conv's weight replaced by its int8
 * rounding (`(q - 128) w_scale`), convolved in float: the weights' share of
 * the error alone.
 */
function roundedConvWeights(bytes: Uint8Array): Uint8Array {
  const model = readOnnxModel(bytes);
  const weights = new Set(
    model.graph.nodes
      .filter((n) => n.opType === "Conv" && intAttribute(n, "group", 1) === 1)
      .map((n) => n.inputs[1]),
  );
  model.graph.initializers = model.graph.initializers.map((t) => {
    const v = weights.has(t.name) && t.dims.length === 4 ? t.floats() : null;
    if (!v) return t;
    const { q, scale } = quantizeChannelsUint8(v, t.dims[0]);
    const per = v.length / t.dims[0];
    const r = Float32Array.from(q, (x, i) => (x - 128) * scale[Math.floor(i / per)]);
    return OnnxTensor.from(t.name, t.dims, TENSOR_TYPE.float, new Uint8Array(r.buffer));
  });
  return writeOnnxModel(model);
}

if (import.meta.main) {
  const runs = Number(Deno.env.get("BENCH_CONV_RUNS") ?? "10");
  const willow = Deno.env.get("DATA_PFWILLOW") ??
    new URL("../../../shared/data/pf-willow", import.meta.url).pathname;
  const dir = await Deno.makeTempDir();
  const composite = NPM_MODELS["mnv3-nanodet-coco"];
  const parts = composite.components.map((c) => ({
    d: NPM_MODELS[c.model as "mnv3-coco" | "nanodet-coco"] as TfjsBackboneDescriptor,
    side: c.resolution,
  }));
  const fp32 = await Promise.all(
    parts.map(async (p) =>
      await Deno.readFile(
        (await importTfjsModel(p.d, { cacheDir: join(dir, "cache"), offline: true })).path,
      )
    ),
  );
  // One file per distinct part graph: [part][fp32 | dense | all].
  const graphs = fp32.map((bytes) => ({
    fp32: { bytes, quantized: 0 },
    dense: quantizeConvsInt8(bytes, "dense"),
    all: quantizeConvsInt8(bytes, "all"),
    rounded: { bytes: roundedConvWeights(bytes), quantized: 0 },
  }));
  const descriptors: unknown[] = [];
  for (const [i, p] of parts.entries()) {
    for (const [kind, g] of Object.entries(graphs[i])) {
      const file = join(dir, `${p.d.id}-${kind}.onnx`);
      await Deno.writeFile(file, g.bytes);
      const { tfjs: _, ...rest } = p.d;
      descriptors.push({ ...rest, id: `${p.d.id}-${kind}`, url: file });
    }
  }
  const idOf = (v: typeof VARIANTS[number]) => `fused-${VARIANTS.indexOf(v)}`;
  for (const v of VARIANTS) {
    const kinds = [v.mnv3, v.nanodet].map((q) => (q ? v.groups : "fp32"));
    descriptors.push({
      ...composite,
      id: idOf(v),
      components: composite.components.map((c, i) => ({
        ...c,
        model: `${parts[i].d.id}-${kinds[i]}`,
      })),
    });
  }
  try {
    const evaluated = await evaluateVariants(descriptors, VARIANTS.map(idOf), {}, {
      dir,
      willow,
    });
    const rows = evaluated.map((row, i) => `| ${VARIANTS[i].name} | ${agreementCells(row)} |`);
    console.log(
      `\nint8 convs of mnv3-nanodet-coco, PF-WILLOW (all pairs), nn matches identical to fp32's:`,
    );
    console.log("| variant | identical | % | median / max px of disagreements | PCK@0.1 |");
    console.log("| --- | ---: | ---: | ---: | ---: |");
    for (const r of rows) console.log(r);
    console.log(
      `\none forward per part, fastest of ${runs} rounds over all graphs (ms):` +
        `\n| part @ side | backend | threads | fp32 | int8 dense | vs fp32 | int8 dense + depthwise | vs fp32 | convs quantized (dense / all) |` +
        "\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    );
    for (
      const [backend, threads] of [["native", 1], ["native", 2], ["wasm", 1], ["wasm", 2]] as const
    ) {
      configureOrt({ numThreads: threads });
      for (const [i, p] of parts.entries()) {
        const side = p.side;
        const pixels = new Float32Array(3 * side * side).map((_, k) => Math.sin(k * 0.001));
        const feeds = { pixel_values: { data: pixels, dims: [1, 3, side, side] } };
        const g = graphs[i];
        const fastest = await fastestForwards([g.fp32, g.dense, g.all].map((x) => x.bytes), feeds, {
          backend,
          rounds: runs,
          label: p.d.id,
        });
        const [f, dn, al] = fastest;
        console.log(
          `| ${p.d.id} @ ${side} | ${backend} | ${threads} | ${f.toFixed(1)} | ${dn.toFixed(1)} | ${
            (f / dn).toFixed(2)
          }x | ${al.toFixed(1)} | ${
            (f / al).toFixed(2)
          }x | ${g.dense.quantized} / ${g.all.quantized} |`,
        );
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
