// This module is browser compatible.
/**
 * A reader for MATLAB Level 5 MAT-files (the format MATLAB writes by default
 * up to `-v7`), enough for the keypoint files of PF-WILLOW (`pts_coord`) and
 * PF-PASCAL (`kps`, `bbox`).
 *
 * What is read: the 128-byte header (either byte order), data elements in the
 * normal and the small (4-byte) tag format, `miCOMPRESSED` elements (zlib,
 * inflated with `DecompressionStream("deflate")`), and `miMATRIX` elements of
 * the numeric classes double, single, int8..int64 and uint8..uint64, plus
 * logical arrays. The stored element type may differ from the class (MATLAB
 * writes a double array of small integers as `miUINT8`); every value is
 * converted to a float64. 64-bit integers beyond 2^53 lose precision.
 *
 * What is not read: complex arrays, cells, structs, objects, chars, sparse
 * arrays, and HDF5-based v7.3 files. By default such a variable is an error;
 * `{ unsupported: "skip" }` leaves it out of the result instead.
 *
 * @example Usage
 * ```ts
 * import { readMatFile } from "./mat_file.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = await Deno.readFile("../shared/data/pf-willow/PF-dataset/car(G)/Cars_006a.mat");
 * const vars = await readMatFile(bytes);
 * const pts = vars.get("pts_coord")!;
 * assert.deepEqual(pts.dims, [2, 10]);
 * assert.equal(pts.class, "double");
 * // Column-major: x0, y0, x1, y1, ...
 * assert.ok(Math.abs(pts.data[0] - 47.93528064146622) < 1e-12);
 * assert.ok(Math.abs(pts.data[1] - 98.15864833906066) < 1e-12);
 * ```
 *
 * @module
 */

/** The numeric classes a variable can have in the result. */
export type MatClass =
  | "double"
  | "single"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "logical";

/** One variable of a MAT-file. */
export interface MatArray {
  /** Dimensions as MATLAB stores them (at least two, e.g. `[2, 10]`). */
  dims: number[];
  /** The values in column-major order, as MATLAB stores them. */
  data: Float64Array;
  /** The MATLAB class of the variable. */
  class: MatClass;
}

/** Options of {@linkcode readMatFile}. */
export interface ReadMatFileOptions {
  /**
   * What to do with a variable the reader cannot represent (complex, cell,
   * struct, object, char, sparse): `"error"` throws a `TypeError` that names
   * the variable, `"skip"` leaves it out of the result.
   *
   * @default {"error"}
   */
  unsupported?: "error" | "skip";
}

const HEADER_BYTES = 128;
const TAG_BYTES = 8;

const MI = Object.freeze({
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
});

/** Byte size of each numeric element type. */
const MI_SIZE: Readonly<Record<number, number>> = Object.freeze({
  1: 1,
  2: 1,
  3: 2,
  4: 2,
  5: 4,
  6: 4,
  7: 4,
  9: 8,
  12: 8,
  13: 8,
});

/** mxCLASS ids of the numeric classes. */
const MX_NUMERIC: Readonly<Record<number, MatClass>> = Object.freeze({
  6: "double",
  7: "single",
  8: "int8",
  9: "uint8",
  10: "int16",
  11: "uint16",
  12: "int32",
  13: "uint32",
  14: "int64",
  15: "uint64",
});

/** mxCLASS ids the reader knows but does not represent. */
const MX_UNSUPPORTED: Readonly<Record<number, string>> = Object.freeze({
  1: "cell",
  2: "struct",
  3: "object",
  4: "char",
  5: "sparse",
  16: "function handle",
  17: "opaque",
});

const FLAG_COMPLEX = 0x0800;
const FLAG_LOGICAL = 0x0200;

interface Element {
  type: number;
  /** Offset of the data in the view. */
  start: number;
  /** Length of the data in bytes. */
  length: number;
  /** Offset of the next element. */
  next: number;
}

/** Reads the tag at `offset` and locates the element's data. */
function readElement(view: DataView, offset: number, le: boolean, where: string): Element {
  if (offset + TAG_BYTES > view.byteLength) {
    throw new SyntaxError(
      `Cannot read MAT-file: truncated data element tag at byte ${offset} of ${where}`,
    );
  }
  const first = view.getUint32(offset, le);
  if (first >>> 16 !== 0) {
    // Small data element: 2-byte size, 2-byte type, then up to 4 bytes of data.
    const length = first >>> 16;
    if (length > 4) {
      throw new SyntaxError(
        `Cannot read MAT-file: small data element at byte ${offset} of ${where} claims ${length} bytes`,
      );
    }
    return { type: first & 0xffff, start: offset + 4, length, next: offset + TAG_BYTES };
  }
  const length = view.getUint32(offset + 4, le);
  const start = offset + TAG_BYTES;
  if (start + length > view.byteLength) {
    throw new SyntaxError(
      `Cannot read MAT-file: data element at byte ${offset} of ${where} claims ${length} bytes, ${
        view.byteLength - start
      } remain`,
    );
  }
  // Compressed elements are not padded; all others end on an 8-byte boundary.
  const next = first === MI.COMPRESSED ? start + length : start + Math.ceil(length / 8) * 8;
  return { type: first, start, length, next: Math.min(next, view.byteLength) };
}

/** Converts the numeric data of an element to float64 values. */
function readNumbers(view: DataView, el: Element, le: boolean, what: string): Float64Array {
  const size = MI_SIZE[el.type];
  if (size === undefined) {
    throw new SyntaxError(`Cannot read MAT-file: ${what} has non-numeric element type ${el.type}`);
  }
  if (el.length % size !== 0) {
    throw new SyntaxError(
      `Cannot read MAT-file: ${what} has ${el.length} bytes, not a multiple of ${size}`,
    );
  }
  const n = el.length / size;
  const out = new Float64Array(n);
  for (let i = 0, p = el.start; i < n; i++, p += size) {
    switch (el.type) {
      case MI.INT8:
        out[i] = view.getInt8(p);
        break;
      case MI.UINT8:
        out[i] = view.getUint8(p);
        break;
      case MI.INT16:
        out[i] = view.getInt16(p, le);
        break;
      case MI.UINT16:
        out[i] = view.getUint16(p, le);
        break;
      case MI.INT32:
        out[i] = view.getInt32(p, le);
        break;
      case MI.UINT32:
        out[i] = view.getUint32(p, le);
        break;
      case MI.SINGLE:
        out[i] = view.getFloat32(p, le);
        break;
      case MI.DOUBLE:
        out[i] = view.getFloat64(p, le);
        break;
      case MI.INT64:
        out[i] = Number(view.getBigInt64(p, le));
        break;
      default: // MI.UINT64
        out[i] = Number(view.getBigUint64(p, le));
    }
  }
  return out;
}

/** Reads the sub-elements of an `miMATRIX` element. */
function readMatrix(
  view: DataView,
  el: Element,
  le: boolean,
  where: string,
  unsupported: "error" | "skip",
): { name: string; array: MatArray | null } {
  const end = el.start + el.length;
  const sub = new DataView(view.buffer, view.byteOffset, end);
  const flagsEl = readElement(sub, el.start, le, where);
  if (flagsEl.type !== MI.UINT32 || flagsEl.length !== 8) {
    throw new SyntaxError(
      `Cannot read MAT-file: array flags of a matrix in ${where} are malformed`,
    );
  }
  const flags = sub.getUint32(flagsEl.start, le);
  const mxClass = flags & 0xff;
  const dimsEl = readElement(sub, flagsEl.next, le, where);
  if (dimsEl.type !== MI.INT32 || dimsEl.length < 8 || dimsEl.length % 4 !== 0) {
    throw new SyntaxError(`Cannot read MAT-file: dimensions of a matrix in ${where} are malformed`);
  }
  const dims: number[] = [];
  for (let p = dimsEl.start; p < dimsEl.start + dimsEl.length; p += 4) {
    const d = sub.getInt32(p, le);
    if (d < 0) {
      throw new SyntaxError(`Cannot read MAT-file: negative dimension ${d} in ${where}`);
    }
    dims.push(d);
  }
  const nameEl = readElement(sub, dimsEl.next, le, where);
  if (nameEl.type !== MI.INT8 && nameEl.type !== MI.UINT8) {
    throw new SyntaxError(`Cannot read MAT-file: array name of a matrix in ${where} is malformed`);
  }
  const name = String.fromCharCode(
    ...new Uint8Array(sub.buffer, sub.byteOffset + nameEl.start, nameEl.length),
  );
  const label = `variable \`${name}\``;
  const kind = MX_NUMERIC[mxClass] === undefined ? MX_UNSUPPORTED[mxClass] : undefined;
  if (MX_NUMERIC[mxClass] === undefined && kind === undefined) {
    throw new SyntaxError(`Cannot read MAT-file: ${label} has unknown class id ${mxClass}`);
  }
  const problem = kind !== undefined
    ? `${kind} arrays are not supported`
    : (flags & FLAG_COMPLEX) !== 0
    ? "complex arrays are not supported"
    : null;
  if (problem !== null) {
    if (unsupported === "skip") return { name, array: null };
    throw new TypeError(`Cannot read MAT-file ${label}: ${problem}`);
  }
  const realEl = readElement(sub, nameEl.next, le, where);
  const data = readNumbers(sub, realEl, le, label);
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw new SyntaxError(
      `Cannot read MAT-file: ${label} has ${data.length} values for dimensions ${dims.join("x")}`,
    );
  }
  const cls: MatClass = (flags & FLAG_LOGICAL) !== 0 ? "logical" : MX_NUMERIC[mxClass];
  return { name, array: { dims, data, class: cls } };
}

/** Inflates a zlib stream; a stream that ends early yields what it holds. */
async function inflate(bytes: Uint8Array, where: string): Promise<Uint8Array> {
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
      .pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (cause) {
    throw new SyntaxError(
      `Cannot read MAT-file: compressed element in ${where} does not inflate: ${
        (cause as Error).message
      }`,
      { cause },
    );
  }
}

/**
 * Reads the variables of a MATLAB Level 5 MAT-file.
 *
 * @param bytes The whole file.
 * @param options What to do with variables that are not real numeric arrays.
 * @returns The variables by name, each with its dimensions, its values in
 * column-major order as float64 and its class.
 * @throws {SyntaxError} When the bytes are not a Level 5 MAT-file or are
 * malformed (bad header, truncated element, size mismatch, duplicate name,
 * corrupt compressed data); the message says what is wrong.
 * @throws {TypeError} When a variable is complex, a cell, struct, object,
 * char or sparse array, unless `options.unsupported` is `"skip"`.
 *
 * @example Usage
 * ```ts
 * import { readMatFile } from "./mat_file.ts";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(() => readMatFile(new Uint8Array(10)), SyntaxError);
 * ```
 */
export async function readMatFile(
  bytes: Uint8Array,
  options: ReadMatFileOptions = {},
): Promise<Map<string, MatArray>> {
  const unsupported = options.unsupported ?? "error";
  if (bytes.length < HEADER_BYTES) {
    throw new SyntaxError(
      `Cannot read MAT-file: ${bytes.length} bytes is shorter than the 128-byte header`,
    );
  }
  const text = String.fromCharCode(...bytes.subarray(0, 10));
  const endian = String.fromCharCode(bytes[126], bytes[127]);
  if (endian !== "IM" && endian !== "MI") {
    throw new SyntaxError(
      `Cannot read MAT-file: no Level 5 header (endian indicator is not "IM" or "MI")`,
    );
  }
  const le = endian === "IM";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(124, le);
  if (version !== 0x0100) {
    const hint = text.startsWith("MATLAB 7.3") || version === 0x0200
      ? " (HDF5-based v7.3 files are not supported; save with -v7)"
      : "";
    throw new SyntaxError(
      `Cannot read MAT-file: unsupported version 0x${version.toString(16)}${hint}`,
    );
  }
  const result = new Map<string, MatArray>();
  const add = (found: { name: string; array: MatArray | null }) => {
    if (result.has(found.name)) {
      throw new SyntaxError(`Cannot read MAT-file: variable \`${found.name}\` appears twice`);
    }
    if (found.array !== null) result.set(found.name, found.array);
  };
  let offset = HEADER_BYTES;
  while (offset < view.byteLength) {
    const el = readElement(view, offset, le, "the file");
    if (el.type === MI.COMPRESSED) {
      const where = `the compressed element at byte ${offset}`;
      const inner = await inflate(bytes.subarray(el.start, el.start + el.length), where);
      const innerView = new DataView(inner.buffer, inner.byteOffset, inner.byteLength);
      const innerEl = readElement(innerView, 0, le, where);
      if (innerEl.type !== MI.MATRIX) {
        throw new SyntaxError(
          `Cannot read MAT-file: ${where} holds element type ${innerEl.type}, not a matrix`,
        );
      }
      add(readMatrix(innerView, innerEl, le, where, unsupported));
    } else if (el.type === MI.MATRIX) {
      add(readMatrix(view, el, le, `the matrix at byte ${offset}`, unsupported));
    } else {
      throw new SyntaxError(
        `Cannot read MAT-file: unexpected top-level element type ${el.type} at byte ${offset}`,
      );
    }
    offset = el.next;
  }
  return result;
}
