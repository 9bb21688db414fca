// This module is browser compatible.
/**
 * A small builder for ONNX models, serialized straight to protobuf bytes.
 *
 * The service builds its own graphs (the embedded `dsift` backbone, the cosine
 * cost volume, test ViTs) so that every model it runs comes from readable code,
 * never from an opaque blob. Only the subset of `onnx.proto` those graphs need
 * is written: tensors (float32 and int64), attributes, nodes, graph inputs and
 * outputs with symbolic or fixed dims.
 *
 * @example Usage
 * ```ts
 * import { OnnxGraph } from "./onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const g = new OnnxGraph("double");
 * g.input("x", [1, "n"]);
 * const two = g.constFloat("two", [1], [2]);
 * g.output(g.node("Mul", ["x", two]), [1, "n"]);
 * const bytes = g.toBytes();
 * assert.ok(bytes.length > 20);
 * ```
 *
 * @module
 */

/** A dimension: a fixed size or a symbolic name such as `"batch"`. */
export type Dim = number | string;

/** ONNX element types used by the service's graphs. */
export const ELEMENT_TYPE = Object.freeze({ float: 1, int32: 6, int64: 7, bool: 9 });

/** An element type name accepted by {@linkcode OnnxGraph}. */
export type ElementType = keyof typeof ELEMENT_TYPE;

/** An attribute value: numbers that are integers are written as INT. */
export type AttributeValue =
  | number
  | string
  | number[]
  | { floats: number[] }
  | { float: number }
  | { tensor: TensorInit };

/** A constant tensor to embed in a graph. */
export interface TensorInit {
  /** Shape of the tensor. */
  dims: number[];
  /** Element type (default float). */
  type?: "float" | "int64";
  /** Values in row-major order. */
  values: ArrayLike<number>;
}

// Chunks of bytes, concatenated once: large float tensors are copied a few
// times at most, never pushed byte by byte.
class Writer {
  #chunks: Uint8Array[] = [];
  #small: number[] = [];
  #length = 0;

  #flush(): void {
    if (this.#small.length) {
      this.#chunks.push(Uint8Array.from(this.#small));
      this.#small = [];
    }
  }

  bytes(): Uint8Array {
    this.#flush();
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const c of this.#chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }

  #byte(b: number): void {
    this.#small.push(b);
    this.#length++;
  }

  varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.#byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.#byte(Number(v));
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): void {
    this.tag(field, 0);
    this.varint(value);
  }

  raw(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.#flush();
    this.#chunks.push(data);
    this.#length += data.length;
  }

  string(field: number, value: string): void {
    this.raw(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (w: Writer) => void): void {
    const inner = new Writer();
    build(inner);
    this.raw(field, inner.bytes());
  }

  float(field: number, value: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    for (const x of b) this.#byte(x);
  }

  packedFloats(field: number, values: ArrayLike<number>): void {
    const b = new Uint8Array(values.length * 4);
    const view = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
    this.raw(field, b);
  }

  packedInts(field: number, values: ArrayLike<number>): void {
    const inner = new Writer();
    for (let i = 0; i < values.length; i++) inner.varint(values[i]);
    this.raw(field, inner.bytes());
  }
}

function writeTensor(w: Writer, name: string, t: TensorInit): void {
  const type = t.type ?? "float";
  for (const d of t.dims) w.int(1, d);
  w.int(2, ELEMENT_TYPE[type]);
  w.string(8, name);
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (t.values.length !== n) {
    throw new RangeError(
      `Cannot write tensor ${name}: ${t.values.length} values for shape [${t.dims}]`,
    );
  }
  if (type === "float") {
    const raw = new Uint8Array(n * 4);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < n; i++) view.setFloat32(i * 4, t.values[i], true);
    w.raw(9, raw);
  } else {
    const raw = new Uint8Array(n * 8);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < n; i++) view.setBigInt64(i * 8, BigInt(t.values[i]), true);
    w.raw(9, raw);
  }
}

function writeValueInfo(w: Writer, name: string, dims: Dim[], type: ElementType): void {
  w.string(1, name);
  w.message(2, (tw) =>
    tw.message(1, (tt) => {
      tt.int(1, ELEMENT_TYPE[type]);
      tt.message(2, (sw) => {
        for (const d of dims) {
          sw.message(1, (dw) => typeof d === "number" ? dw.int(1, d) : dw.string(2, d));
        }
      });
    }));
}

function writeAttribute(w: Writer, name: string, value: AttributeValue): void {
  w.string(1, name);
  if (typeof value === "number") {
    if (!Number.isInteger(value)) {
      throw new TypeError(`Cannot write attribute ${name}: use { float } for non-integers`);
    }
    w.int(3, value);
    w.int(20, 2);
  } else if (typeof value === "string") {
    w.string(4, value);
    w.int(20, 3);
  } else if (Array.isArray(value)) {
    w.packedInts(8, value);
    w.int(20, 7);
  } else if ("floats" in value) {
    w.packedFloats(7, value.floats);
    w.int(20, 6);
  } else if ("float" in value) {
    w.float(2, value.float);
    w.int(20, 1);
  } else {
    w.message(5, (tw) => writeTensor(tw, name, value.tensor));
    w.int(20, 4);
  }
}

interface NodeRecord {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeValue>;
}

/**
 * Accumulates nodes, constants, inputs and outputs, then writes an ONNX model.
 *
 * Node outputs get unique generated names, so graphs read like expressions:
 * `g.node("Relu", [g.node("Add", [a, b])])`.
 */
export class OnnxGraph {
  #name: string;
  #opset: number;
  #nodes: NodeRecord[] = [];
  #initializers = new Map<string, TensorInit>();
  #inputs: { name: string; dims: Dim[]; type: ElementType }[] = [];
  #outputs: { name: string; dims: Dim[]; type: ElementType }[] = [];
  #counter = 0;

  /**
   * @param name Graph name written into the model.
   * @param options `opset`: the default-domain opset version (default 17).
   */
  constructor(name: string, options: { opset?: number } = {}) {
    this.#name = name;
    this.#opset = options.opset ?? 17;
  }

  /** Declares a graph input and returns its name. */
  input(name: string, dims: Dim[], type: ElementType = "float"): string {
    this.#inputs.push({ name, dims, type });
    return name;
  }

  /** Declares `name` as a graph output, renaming it with an Identity when asked. */
  output(name: string, dims: Dim[], options: { as?: string; type?: ElementType } = {}): string {
    let out = name;
    if (options.as && options.as !== name) {
      out = this.node("Identity", [name], {}, options.as);
    }
    this.#outputs.push({ name: out, dims, type: options.type ?? "float" });
    return out;
  }

  /** Embeds a float constant and returns its name (made unique). */
  constFloat(name: string, dims: number[], values: ArrayLike<number>): string {
    return this.#constant(name, { dims, values, type: "float" });
  }

  /** Embeds an int64 constant (shapes, axes, pads) and returns its name. */
  constInt64(name: string, values: number[], dims: number[] = [values.length]): string {
    return this.#constant(name, { dims, values, type: "int64" });
  }

  #constant(name: string, t: TensorInit): string {
    const unique = this.#initializers.has(name) ? `${name}_${this.#counter++}` : name;
    this.#initializers.set(unique, t);
    return unique;
  }

  /**
   * Adds a node and returns the name of its (first) output.
   *
   * @param op ONNX operator type, e.g. `"Conv"`.
   * @param inputs Input names; `""` marks an omitted optional input.
   * @param attributes Attribute values by name.
   * @param output Output name; generated when omitted.
   */
  node(
    op: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    output?: string,
  ): string {
    const out = output ?? `${op.toLowerCase()}_${this.#counter++}`;
    this.#nodes.push({ op, inputs, outputs: [out], attributes });
    return out;
  }

  /** Serializes the model to ONNX protobuf bytes. */
  toBytes(): Uint8Array {
    const m = new Writer();
    m.int(1, 8); // ir_version 8 pairs with opsets up to 18
    m.string(2, "semcorr");
    m.message(7, (g) => {
      for (const n of this.#nodes) {
        g.message(1, (nw) => {
          for (const i of n.inputs) nw.string(1, i);
          for (const o of n.outputs) nw.string(2, o);
          nw.string(4, n.op);
          for (const [k, v] of Object.entries(n.attributes)) {
            nw.message(5, (aw) => writeAttribute(aw, k, v));
          }
        });
      }
      g.string(2, this.#name);
      for (const [name, t] of this.#initializers) g.message(5, (tw) => writeTensor(tw, name, t));
      for (const i of this.#inputs) {
        g.message(11, (vw) => writeValueInfo(vw, i.name, i.dims, i.type));
      }
      for (const o of this.#outputs) {
        g.message(12, (vw) => writeValueInfo(vw, o.name, o.dims, o.type));
      }
    });
    m.message(8, (o) => {
      o.string(1, "");
      o.int(2, this.#opset);
    });
    return m.bytes();
  }
}
