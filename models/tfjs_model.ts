// This module is browser compatible.
/**
 * The TF.js graph-model format (`model.json` of `tensorflowjs_converter
 * --output_format tfjs_graph_model`), as far as the importer reads it: the
 * graph's nodes (`modelTopology.node`, TensorFlow `NodeDef`s in protobuf
 * JSON) and the weights manifest (which shard files hold which tensors, with
 * their dtype and quantization). The weights themselves are decoded by
 * {@linkcode decodeTfjsWeights}.
 *
 * Attribute values are protobuf JSON: strings base64 (`{"s": "U0FNRQ=="}` is
 * `SAME`), 64-bit integers as decimal strings (`{"i": "2"}`), lists under
 * `list`. The readers below turn them into plain values.
 *
 * @example Usage
 * ```ts
 * import { attrInts, attrString, parseTfjsModel } from "./tfjs_model.ts";
 * import assert from "node:assert/strict";
 *
 * const model = parseTfjsModel({
 *   format: "graph-model",
 *   modelTopology: {
 *     node: [
 *       { name: "x", op: "Placeholder", attr: { shape: { shape: { dim: [{ size: "1" }, { size: "-1" }] } } } },
 *       { name: "y", op: "Relu", input: ["x"], attr: { padding: { s: "U0FNRQ==" }, strides: { list: { i: ["1", "2"] } } } },
 *     ],
 *   },
 *   weightsManifest: [{ paths: ["group1-shard1of1.bin"], weights: [] }],
 * });
 * assert.equal(model.nodes.get("y")?.op, "Relu");
 * assert.equal(attrString(model.nodes.get("y")!, "padding"), "SAME");
 * assert.deepEqual(attrInts(model.nodes.get("y")!, "strides"), [1, 2]);
 * assert.deepEqual(model.shardPaths, ["group1-shard1of1.bin"]);
 * ```
 *
 * @module
 */

import { z } from "zod";

const attrValue = z.object({
  s: z.string().optional(),
  i: z.union([z.string(), z.number()]).optional(),
  f: z.number().optional(),
  b: z.boolean().optional(),
  type: z.string().optional(),
  shape: z.object({
    dim: z.array(z.object({ size: z.union([z.string(), z.number()]).optional() })).optional(),
    unknownRank: z.boolean().optional(),
  }).optional(),
  list: z.object({
    s: z.array(z.string()).optional(),
    i: z.array(z.union([z.string(), z.number()])).optional(),
    f: z.array(z.number()).optional(),
  }).optional(),
}).loose();

const nodeSchema = z.object({
  name: z.string().min(1),
  op: z.string().min(1),
  input: z.array(z.string()).optional(),
  attr: z.record(z.string(), attrValue).optional(),
}).loose();

/** The dtypes of stored tensors the importer reads. */
export const TFJS_DTYPES = Object.freeze(["float32", "int32", "bool"] as const);

/** The storage forms of quantized weights. */
export const TFJS_QUANTIZATIONS = Object.freeze(["float16", "uint8", "uint16"] as const);

const weightSchema = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(TFJS_DTYPES),
  quantization: z.object({
    dtype: z.enum(TFJS_QUANTIZATIONS),
    scale: z.number().optional(),
    min: z.number().optional(),
    original_dtype: z.string().optional(),
  }).loose().optional(),
}).loose();

const modelSchema = z.object({
  format: z.string().optional(),
  generatedBy: z.string().optional(),
  convertedBy: z.string().nullish(),
  modelTopology: z.object({ node: z.array(nodeSchema).min(1) }).loose(),
  weightsManifest: z.array(z.object({
    paths: z.array(z.string().min(1)).min(1),
    weights: z.array(weightSchema),
  })).min(1),
}).loose();

/** One graph node (a TensorFlow `NodeDef`). */
export type TfjsNode = z.output<typeof nodeSchema>;

/** One stored tensor of the weights manifest. */
export type TfjsWeightSpec = z.output<typeof weightSchema>;

/** One group of the weights manifest: shard files read back to back, and the tensors they hold. */
export type TfjsWeightGroup = { paths: string[]; weights: TfjsWeightSpec[] };

/** A parsed `model.json`. */
export interface TfjsModel {
  /** Nodes by name, in file order. */
  nodes: Map<string, TfjsNode>;
  /** The manifest's groups. */
  weightGroups: TfjsWeightGroup[];
  /** Every shard path, in manifest order (relative to `model.json`). */
  shardPaths: string[];
  /** Who produced the weights (`generatedBy`; often the upstream repository). */
  generatedBy?: string;
}

/**
 * Validates a `model.json` and indexes its nodes.
 *
 * @param json The parsed JSON.
 * @returns The model.
 * @throws {TypeError} When it is not a TF.js graph model (a layers model, a
 *   missing manifest, a duplicate node name, a shard path that leaves the
 *   model's folder); the message names the field.
 */
export function parseTfjsModel(json: unknown): TfjsModel {
  const r = modelSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new TypeError(`Cannot read a TF.js graph model: ${issues.slice(0, 5).join("; ")}`);
  }
  const m = r.data;
  if (m.format !== undefined && m.format !== "graph-model") {
    throw new TypeError(
      `Cannot read a TF.js graph model: its format is \`${m.format}\` (only graph-model is supported)`,
    );
  }
  const nodes = new Map<string, TfjsNode>();
  for (const n of m.modelTopology.node) {
    if (nodes.has(n.name)) {
      throw new TypeError(`Cannot read a TF.js graph model: node \`${n.name}\` appears twice`);
    }
    nodes.set(n.name, n);
  }
  const shardPaths = m.weightsManifest.flatMap((g) => g.paths);
  for (const p of shardPaths) {
    if (
      p.startsWith("/") || p.split(/[\\/]/).includes("..") || /^[A-Za-z][A-Za-z0-9+.-]*:/.test(p)
    ) {
      throw new TypeError(
        `Cannot read a TF.js graph model: weight shard path \`${p}\` must stay beside model.json`,
      );
    }
  }
  return {
    nodes,
    weightGroups: m.weightsManifest,
    shardPaths,
    generatedBy: m.generatedBy,
  };
}

/** A node input reference split into node name and output index (`name:1`), `null` for control inputs (`^name`). */
export function parseInputRef(ref: string): { node: string; index: number } | null {
  if (ref.startsWith("^")) return null;
  const m = /^(.*):(\d+)$/.exec(ref);
  return m ? { node: m[1], index: Number(m[2]) } : { node: ref, index: 0 };
}

function attr(node: TfjsNode, name: string) {
  return node.attr?.[name];
}

function decodeBase64(s: string): string {
  const bin = atob(s);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/**
 * A string attribute (base64 in the file).
 *
 * @param node The node.
 * @param name Attribute name, e.g. `padding`.
 * @param fallback Value when absent.
 * @returns The decoded string, or `fallback`.
 */
export function attrString(node: TfjsNode, name: string, fallback?: string): string | undefined {
  const v = attr(node, name)?.s;
  return v === undefined ? fallback : decodeBase64(v);
}

/**
 * A list-of-strings attribute (`fused_ops`).
 *
 * @param node The node.
 * @param name Attribute name.
 * @returns The decoded strings (empty when absent).
 */
export function attrStrings(node: TfjsNode, name: string): string[] {
  return (attr(node, name)?.list?.s ?? []).map(decodeBase64);
}

/**
 * A list-of-integers attribute (`strides`, `dilations`, `ksize`).
 *
 * @param node The node.
 * @param name Attribute name.
 * @returns The integers (empty when absent).
 */
export function attrInts(node: TfjsNode, name: string): number[] {
  return (attr(node, name)?.list?.i ?? []).map(Number);
}

/**
 * A number attribute: `f` (float) or `i` (integer).
 *
 * @param node The node.
 * @param name Attribute name (`alpha`, `epsilon`).
 * @param fallback Value when absent.
 * @returns The number.
 */
export function attrNumber(node: TfjsNode, name: string, fallback: number): number {
  const a = attr(node, name);
  if (a?.f !== undefined) return a.f;
  if (a?.i !== undefined) return Number(a.i);
  return fallback;
}

/**
 * A boolean attribute (`align_corners`, `keep_dims`).
 *
 * @param node The node.
 * @param name Attribute name.
 * @returns The value, false when absent.
 */
export function attrBool(node: TfjsNode, name: string): boolean {
  return attr(node, name)?.b ?? false;
}

/**
 * The shape of a `Placeholder` (`-1` for unknown sizes).
 *
 * @param node The placeholder.
 * @returns Its dims, or undefined when it declares none.
 */
export function attrShape(node: TfjsNode): number[] | undefined {
  const dims = attr(node, "shape")?.shape?.dim;
  return dims?.map((d) => Number(d.size ?? -1));
}
