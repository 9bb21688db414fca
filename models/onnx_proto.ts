// This module is browser compatible.
/**
 * A minimal reader and rewriter of ONNX `ModelProto` bytes: the graph's
 * nodes and initializers become editable records, every other field (opset
 * imports, metadata, value infos, attributes, fields this module does not
 * know) is kept as its original bytes and written back unchanged.
 *
 * Protobuf is a list of `(field, wire type, payload)` entries; a message is
 * re-serialized by writing its entries in their original order, replacing
 * only what was edited. A node is written as inputs, outputs, name, op type,
 * domain, then its other entries: the order `core/onnx_graph.ts` writes, so
 * its models read and written without edits come out byte for byte the same.
 *
 * Read (field numbers of `onnx.proto`): `ModelProto.graph` (7),
 * `ModelProto.opset_import` (8); `GraphProto.node` (1) and
 * `GraphProto.initializer` (5); of a node its inputs (1), outputs (2),
 * name (3), op type (4), domain (7); of a tensor its dims (1), data type (2),
 * name (8), `float_data` (4) and `raw_data` (9). Tensors with external data
 * are kept as they are (their values are not read).
 *
 * @example Usage
 * ```ts
 * import { readOnnxModel, writeOnnxModel } from "./onnx_proto.ts";
 * import { OnnxGraph } from "../core/onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const g = new OnnxGraph("mm");
 * g.input("x", [1, 2]);
 * g.output(g.node("MatMul", ["x", g.constFloat("w", [2, 3], [1, 2, 3, 4, 5, 6])]), [1, 3]);
 * const bytes = g.toBytes();
 * const model = readOnnxModel(bytes);
 * assert.deepEqual(model.graph.nodes.map((n) => n.opType), ["MatMul"]);
 * assert.deepEqual([...model.graph.initializers[0].floats()!], [1, 2, 3, 4, 5, 6]);
 * assert.deepEqual(writeOnnxModel(model), bytes);
 * ```
 *
 * @module
 */

/** ONNX `TensorProto.DataType` values this module reads or writes. */
export const TENSOR_TYPE = Object.freeze({ float: 1, uint8: 2, int8: 3, int32: 6, int64: 7 });

/** One protobuf entry: field number, wire type, and its payload. */
export interface ProtoField {
  field: number;
  wire: number;
  /** Varint value (wire 0). */
  varint?: bigint;
  /** Payload bytes: length-delimited (wire 2), or the 4 / 8 fixed bytes (wires 5 / 1). */
  bytes?: Uint8Array;
}

/** Splits a message into its entries, in order. */
export function readFields(buf: Uint8Array): ProtoField[] {
  const out: ProtoField[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new RangeError("Cannot read protobuf: truncated varint");
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, varint: varint() });
    else if (wire === 2 || wire === 1 || wire === 5) {
      const n = wire === 2 ? Number(varint()) : wire === 1 ? 8 : 4;
      if (pos + n > buf.length) throw new RangeError("Cannot read protobuf: truncated field");
      out.push({ field, wire, bytes: buf.subarray(pos, pos + n) });
      pos += n;
    } else {
      throw new RangeError(`Cannot read protobuf: unsupported wire type ${wire}`);
    }
  }
  return out;
}

function varintBytes(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** Serializes entries (the inverse of {@linkcode readFields}). */
export function writeFields(fields: ProtoField[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let length = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    length += b.length;
  };
  for (const f of fields) {
    const head = varintBytes(BigInt((f.field << 3) | f.wire));
    if (f.wire === 0) head.push(...varintBytes(f.varint ?? 0n));
    else if (f.wire === 2) head.push(...varintBytes(BigInt(f.bytes!.length)));
    push(Uint8Array.from(head));
    if (f.wire !== 0) push(f.bytes!);
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/** A length-delimited string entry. */
export function stringField(field: number, value: string): ProtoField {
  return { field, wire: 2, bytes: encoder.encode(value) };
}

/** A varint entry. */
export function intField(field: number, value: number | bigint): ProtoField {
  return { field, wire: 0, varint: BigInt(value) };
}

/** A node of the graph: the fields the rewriter needs, the rest kept as read. */
export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  domain: string;
  /** Entries other than inputs, outputs, name, op type and domain (attributes, doc string). */
  rest: ProtoField[];
}

/** An initializer: name, shape, type and its entries as read. */
export class OnnxTensor {
  /** Entries as read (or as built by {@linkcode OnnxTensor.from}). */
  readonly fields: ProtoField[];
  readonly name: string;
  readonly dims: number[];
  readonly dataType: number;

  constructor(fields: ProtoField[]) {
    this.fields = fields;
    this.name = "";
    this.dims = [];
    this.dataType = 0;
    for (const f of fields) {
      if (f.field === 8) this.name = utf8.decode(f.bytes);
      else if (f.field === 2) this.dataType = Number(f.varint);
      else if (f.field === 1 && f.wire === 0) this.dims.push(Number(f.varint));
      else if (f.field === 1 && f.wire === 2) {
        for (const d of readPackedVarints(f.bytes!)) this.dims.push(Number(d));
      }
    }
  }

  /** A tensor of raw little-endian data. */
  static from(name: string, dims: number[], dataType: number, raw: Uint8Array): OnnxTensor {
    return new OnnxTensor([
      ...dims.map((d) => intField(1, d)),
      intField(2, dataType),
      stringField(8, name),
      { field: 9, wire: 2, bytes: raw },
    ]);
  }

  /** Whether the values live in another file (`data_location` EXTERNAL). */
  get external(): boolean {
    return this.fields.some((f) => f.field === 14 && f.varint === 1n);
  }

  /** The values of a float tensor stored in the model (raw or `float_data`), else null. */
  floats(): Float32Array | null {
    if (this.dataType !== TENSOR_TYPE.float || this.external) return null;
    const n = this.dims.reduce((a, b) => a * b, 1);
    const raw = this.fields.find((f) => f.field === 9);
    if (raw) {
      if (raw.bytes!.length !== n * 4) return null;
      const copy = raw.bytes!.slice();
      return new Float32Array(copy.buffer, 0, n);
    }
    const values: number[] = [];
    for (const f of this.fields) {
      if (f.field !== 4) continue;
      const b = f.bytes!;
      const view = new DataView(b.buffer, b.byteOffset, b.length);
      for (let i = 0; i + 4 <= b.length; i += 4) values.push(view.getFloat32(i, true));
    }
    return values.length === n ? Float32Array.from(values) : null;
  }
}

function readPackedVarints(b: Uint8Array): bigint[] {
  const out: bigint[] = [];
  let v = 0n;
  let shift = 0n;
  for (const byte of b) {
    v |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
    if (byte < 0x80) {
      out.push(v);
      v = 0n;
      shift = 0n;
    }
  }
  return out;
}

/** The graph: editable nodes and initializers; other entries kept in place. */
export interface OnnxGraphProto {
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  /** Every entry of the GraphProto as read; nodes (1) and initializers (5) are rewritten. */
  fields: ProtoField[];
}

/** What a graph rewrite looks up: see {@linkcode indexGraph}. */
export interface GraphIndex {
  /** Initializers by name. */
  inits: Map<string, OnnxTensor>;
  /** How many node inputs read each name (an initializer read once can be replaced). */
  uses: Map<string, number>;
  /** A name no initializer or node output has yet, based on `base`; taken from then on. */
  fresh(base: string): string;
}

/**
 * Indexes a graph for a rewrite that adds nodes and initializers: the new
 * names must not collide with any existing one, or the graph would be invalid.
 *
 * @example Usage
 * ```ts
 * import { indexGraph } from "./onnx_proto.ts";
 * import assert from "node:assert/strict";
 *
 * const graph = {
 *   nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"], name: "", domain: "", rest: [] }],
 *   initializers: [],
 *   fields: [],
 * };
 * const { uses, fresh } = indexGraph(graph);
 * assert.equal(uses.get("x"), 1);
 * assert.equal(fresh("y"), "y_1");
 * assert.equal(fresh("y"), "y_2");
 * assert.equal(fresh("z"), "z");
 * ```
 *
 * @param graph The graph as read.
 * @returns Its initializers, input use counts, and a fresh-name maker.
 */
export function indexGraph(graph: OnnxGraphProto): GraphIndex {
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
  return { inits, uses, fresh };
}

/** A model: its graph and every other entry of the ModelProto. */
export interface OnnxModelProto {
  graph: OnnxGraphProto;
  /** Every entry of the ModelProto as read; the graph (7) is rewritten. */
  fields: ProtoField[];
  /** The default-domain opset version (0 when none is imported). */
  opset: number;
}

function readNode(bytes: Uint8Array): OnnxNode {
  const node: OnnxNode = { opType: "", inputs: [], outputs: [], name: "", domain: "", rest: [] };
  for (const f of readFields(bytes)) {
    const s = () => utf8.decode(f.bytes);
    if (f.field === 1) node.inputs.push(s());
    else if (f.field === 2) node.outputs.push(s());
    else if (f.field === 3) node.name = s();
    else if (f.field === 4) node.opType = s();
    else if (f.field === 7) node.domain = s();
    else node.rest.push(f);
  }
  return node;
}

function writeNode(n: OnnxNode): Uint8Array {
  return writeFields([
    ...n.inputs.map((i) => stringField(1, i)),
    ...n.outputs.map((o) => stringField(2, o)),
    ...(n.name ? [stringField(3, n.name)] : []),
    stringField(4, n.opType),
    ...(n.domain ? [stringField(7, n.domain)] : []),
    ...n.rest,
  ]);
}

/**
 * Reads an ONNX model.
 *
 * @param bytes The `.onnx` file's bytes.
 * @returns The editable model.
 * @throws {RangeError} When the bytes are not a protobuf message or have no graph.
 */
export function readOnnxModel(bytes: Uint8Array): OnnxModelProto {
  const fields = readFields(bytes);
  const graphField = fields.find((f) => f.field === 7 && f.wire === 2);
  if (!graphField) throw new RangeError("Cannot read ONNX model: it has no graph");
  const graphFields = readFields(graphField.bytes!);
  let opset = 0;
  for (const f of fields) {
    if (f.field !== 8 || f.wire !== 2) continue;
    const entries = readFields(f.bytes!);
    const domain = entries.find((e) => e.field === 1);
    const version = entries.find((e) => e.field === 2);
    if (
      (!domain || domain.bytes!.length === 0 || utf8.decode(domain.bytes) === "ai.onnx") && version
    ) {
      opset = Number(version.varint);
    }
  }
  return {
    fields,
    opset,
    graph: {
      fields: graphFields,
      nodes: graphFields.filter((f) => f.field === 1).map((f) => readNode(f.bytes!)),
      initializers: graphFields.filter((f) => f.field === 5).map((f) =>
        new OnnxTensor(readFields(f.bytes!))
      ),
    },
  };
}

/**
 * Writes a model read by {@linkcode readOnnxModel}, with its edited nodes and
 * initializers: nodes where the first node was, initializers where the
 * first initializer was (or after the nodes), everything else in place.
 */
export function writeOnnxModel(model: OnnxModelProto): Uint8Array {
  const { graph } = model;
  const nodes = () => graph.nodes.map((n) => ({ field: 1, wire: 2, bytes: writeNode(n) }));
  const inits = () =>
    graph.initializers.map((t) => ({ field: 5, wire: 2, bytes: writeFields(t.fields) }));
  const out: ProtoField[] = [];
  let nodesDone = false;
  let initsDone = false;
  for (const f of graph.fields) {
    if (f.field === 1) {
      if (!nodesDone) out.push(...nodes());
      nodesDone = true;
    } else if (f.field === 5) {
      if (!initsDone) out.push(...inits());
      initsDone = true;
    } else {
      out.push(f);
    }
  }
  if (!nodesDone) out.unshift(...nodes());
  if (!initsDone) out.push(...inits());
  const graphBytes = writeFields(out);
  return writeFields(
    model.fields.map((f) => f.field === 7 && f.wire === 2 ? { ...f, bytes: graphBytes } : f),
  );
}
