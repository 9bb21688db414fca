/**
 * The TF.js runtime the importer is checked against: `@tensorflow/tfjs-core`
 * with its pure JavaScript CPU backend and `@tensorflow/tfjs-converter`'s
 * GraphModel, loading the same `model.json` and shard bytes the importer
 * reads; plus the importer's side of the comparison (the cut graph as ONNX
 * with its raw outputs, run by onnxruntime).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { type GraphModel, loadGraphModel } from "@tensorflow/tfjs-converter";
import { OnnxGraph } from "../../core/onnx_graph.ts";
import { parseTfjsModel } from "../../models/tfjs_model.ts";
import { decodeTfjsWeights } from "../../models/tfjs_weights.ts";
import { appendTfjsGraph } from "../../models/tfjs_to_onnx.ts";
import { createSession } from "../../workers/backend.ts";
import type { BackendName } from "../../workers/session.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/**
 * Loads a graph model into TF.js, its placeholder's height and width made
 * dynamic (TF.js checks input shapes against it; the weights and ops stay
 * the file's).
 */
export async function loadTfjs(
  json: Json,
  shard: Uint8Array,
  spatial: [number, number],
): Promise<GraphModel> {
  await tf.setBackend("cpu");
  const topology = structuredClone(json.modelTopology);
  for (const n of topology.node) {
    if (n.op !== "Placeholder") continue;
    for (const i of spatial) n.attr.shape.shape.dim[i].size = "-1";
  }
  const bytes = shard.slice();
  return await loadGraphModel(tf.io.fromMemory({
    modelTopology: topology,
    weightSpecs: json.weightsManifest.flatMap((g: Json) => g.weights),
    weightData: bytes.buffer,
  }));
}

/** Runs TF.js on one input and reads the named node outputs back. */
export function runTfjs(
  model: GraphModel,
  input: Float32Array,
  shape: number[],
  outputs: string[],
): Float32Array[] {
  return tf.tidy(() => {
    const r = model.execute(tf.tensor(input, shape), outputs);
    return (Array.isArray(r) ? r : [r]).map((t) => t.dataSync() as Float32Array);
  });
}

/** Converts the graph cut at `outputs` (raw, no pixel convention nor hypercolumn) and runs it. */
export async function runImported(
  json: Json,
  shard: Uint8Array,
  input: Float32Array,
  shape: number[],
  outputs: string[],
  backend: BackendName = "wasm",
): Promise<{ data: Float32Array; dims: number[] }[]> {
  const model = parseTfjsModel(json);
  const weights = decodeTfjsWeights(model.weightGroups, [shard]);
  const g = new OnnxGraph("raw");
  const x = g.input("x", shape.map((d, i) => (i === 0 ? d : `d${i}`)));
  const r = appendTfjsGraph(g, model, weights, { input: x, inputShape: shape, outputs });
  r.outputs.forEach((o, i) =>
    g.output(o.tensor, o.shape.map((_, k) => `o${i}_${k}`), { as: `out${i}` })
  );
  const session = await createSession(g.toBytes(), { label: "imported", backend });
  try {
    const res = await session.run({ x: { data: input, dims: shape } });
    return outputs.map((_, i) => res[`out${i}`]);
  } finally {
    await session.release();
  }
}

/** `max |a - b| / max |b|`: the relative error the parity checks bound. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}
