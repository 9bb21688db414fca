import assert from "node:assert/strict";
import { join } from "node:path";
import { readMatFile } from "../../datasets/mat_file.ts";
import { readImageSize } from "../../datasets/image_size.ts";
import { fromBase64, PF_WILLOW_ROOT } from "./_data.ts";
import { SCIPY_MAT_FILES } from "./_mat_fixtures.ts";

const CARS_006A = join(PF_WILLOW_ROOT, "PF-dataset", "car(G)", "Cars_006a.mat");

/** Lists every PF-WILLOW `.mat` file of the shared slice. */
async function willowMatFiles(): Promise<string[]> {
  const files: string[] = [];
  const dir = join(PF_WILLOW_ROOT, "PF-dataset");
  for await (const cls of Deno.readDir(dir)) {
    if (!cls.isDirectory) continue;
    for await (const f of Deno.readDir(join(dir, cls.name))) {
      if (f.name.endsWith(".mat")) files.push(join(dir, cls.name, f.name));
    }
  }
  return files.sort();
}

/** One data element (normal tag), padded to 8 bytes. */
function element(type: number, payload: Uint8Array, le: boolean): Uint8Array {
  const padded = Math.ceil(payload.length / 8) * 8;
  const out = new Uint8Array(8 + padded);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, le);
  v.setUint32(4, payload.length, le);
  out.set(payload, 8);
  return out;
}

/** One small data element (at most 4 bytes of payload). */
function smallElement(type: number, payload: Uint8Array, le: boolean): Uint8Array {
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setUint32(0, (payload.length << 16) | type, le);
  out.set(payload, 4);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function header(le: boolean, version = 0x0100): Uint8Array {
  const h = new Uint8Array(128).fill(0x20);
  h.set(new TextEncoder().encode("MATLAB 5.0 MAT-file, written by a test"));
  h.fill(0, 116, 124);
  new DataView(h.buffer).setUint16(124, version, le);
  h.set(new TextEncoder().encode(le ? "IM" : "MI"), 126);
  return h;
}

/**
 * A matrix element the way MATLAB writes small doubles: class double, data
 * stored as miUINT8 in a small element, name in a small element.
 */
function matlabStyleMatrix(le: boolean, name: string, dims: number[], bytes: number[]): Uint8Array {
  const flags = new Uint8Array(8);
  new DataView(flags.buffer).setUint32(0, 6, le); // mxDOUBLE_CLASS
  const dimBytes = new Uint8Array(4 * dims.length);
  dims.forEach((d, i) => new DataView(dimBytes.buffer).setInt32(4 * i, d, le));
  const body = concat(
    element(6, flags, le),
    element(5, dimBytes, le),
    smallElement(1, new TextEncoder().encode(name), le),
    bytes.length <= 4
      ? smallElement(2, new Uint8Array(bytes), le)
      : element(2, new Uint8Array(bytes), le),
  );
  return element(14, body, le);
}

Deno.test("readMatFile() reads pts_coord of every PF-WILLOW file as 2x10 doubles inside the image", async () => {
  const files = await willowMatFiles();
  assert.equal(files.length, 60);
  for (const file of files) {
    const vars = await readMatFile(await Deno.readFile(file));
    assert.deepEqual([...vars.keys()], ["pts_coord"], file);
    const pts = vars.get("pts_coord")!;
    assert.deepEqual(pts.dims, [2, 10], file);
    assert.equal(pts.class, "double");
    assert.equal(pts.data.length, 20);
    const size = await readImageSize(file.replace(/\.mat$/, ".png"));
    assert.ok(size !== null, file);
    for (let i = 0; i < 10; i++) {
      const x = pts.data[2 * i], y = pts.data[2 * i + 1];
      assert.ok(x >= 1 && x <= size.width, `${file} point ${i} x=${x}`);
      assert.ok(y >= 1 && y <= size.height, `${file} point ${i} y=${y}`);
    }
  }
});

Deno.test("readMatFile() matches scipy.io.loadmat on Cars_006a bit for bit", async () => {
  // Values printed by scipy 1.17.1 loadmat(...)["pts_coord"] (row 0 = x, row 1 = y).
  const x = [
    47.93528064146622,
    151.86426116838487,
    45.96506300114548,
    69.60767468499428,
    109.99713631156929,
    93.74284077892327,
    94.23539518900344,
    220.82187857961057,
    37.59163802978236,
    131.1769759450172,
  ];
  const y = [
    98.15864833906066,
    121.80126002290946,
    57.27663230240546,
    54.81386025200454,
    45.94788087056124,
    86.82989690721647,
    115.39805269186708,
    108.50229095074452,
    80.91924398625426,
    61.7096219931271,
  ];
  const pts = (await readMatFile(await Deno.readFile(CARS_006A))).get("pts_coord")!;
  for (let i = 0; i < 10; i++) {
    assert.equal(pts.data[2 * i], x[i]);
    assert.equal(pts.data[2 * i + 1], y[i]);
  }
});

Deno.test("readMatFile() reads every numeric class of an uncompressed scipy file", async () => {
  const vars = await readMatFile(fromBase64(SCIPY_MAT_FILES.numeric_uncompressed));
  const get = (name: string) => {
    const v = vars.get(name);
    assert.ok(v !== undefined, name);
    return { dims: v.dims, data: Array.from(v.data), class: v.class };
  };
  // Column-major: [[1.5,-2.25,3],[4,5,6.125]] -> 1.5, 4, -2.25, 5, 3, 6.125.
  assert.deepEqual(get("a"), {
    dims: [2, 3],
    data: [1.5, 4, -2.25, 5, 3, 6.125],
    class: "double",
  });
  assert.deepEqual(get("s"), { dims: [1, 2], data: [1.5, 2.5], class: "single" });
  assert.deepEqual(get("i8"), { dims: [1, 2], data: [-128, 127], class: "int8" });
  assert.deepEqual(get("u8"), { dims: [1, 2], data: [0, 255], class: "uint8" });
  assert.deepEqual(get("i16"), { dims: [1, 2], data: [-300, 300], class: "int16" });
  assert.deepEqual(get("u16"), { dims: [1, 1], data: [65535], class: "uint16" });
  assert.deepEqual(get("i32"), { dims: [1, 1], data: [-70000], class: "int32" });
  assert.deepEqual(get("u32"), { dims: [1, 1], data: [4000000000], class: "uint32" });
  assert.deepEqual(get("i64"), { dims: [1, 1], data: [-(2 ** 40)], class: "int64" });
  assert.deepEqual(get("u64"), { dims: [1, 1], data: [2 ** 50], class: "uint64" });
  assert.deepEqual(get("b"), { dims: [1, 2], data: [1, 0], class: "logical" });
  assert.deepEqual(get("e"), { dims: [0, 0], data: [], class: "double" });
  const n3 = get("n3");
  assert.deepEqual(n3.dims, [2, 3, 4]);
  // element [i, j, k] = 12i + 4j + k sits at column-major index i + 2j + 6k.
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 3; j++) {
      for (let k = 0; k < 4; k++) assert.equal(n3.data[i + 2 * j + 6 * k], 12 * i + 4 * j + k);
    }
  }
  assert.equal(vars.size, 13);
});

Deno.test("readMatFile() reads a compressed scipy file with NaN rows", async () => {
  const vars = await readMatFile(fromBase64(SCIPY_MAT_FILES.numeric_compressed));
  const kps = vars.get("kps")!;
  assert.deepEqual(kps.dims, [3, 2]);
  assert.deepEqual(Array.from(kps.data), [1, NaN, 3.5, 2, NaN, 4.5]);
  assert.deepEqual(Array.from(vars.get("bbox")!.data), [10, 20, 110, 220]);
});

Deno.test("readMatFile() reads MATLAB-style small elements in either byte order", async (t) => {
  for (const le of [true, false]) {
    await t.step(le ? "little-endian" : "big-endian", async () => {
      const bytes = concat(
        header(le),
        matlabStyleMatrix(le, "v", [1, 3], [7, 8, 9]),
        matlabStyleMatrix(le, "w", [2, 3], [1, 2, 3, 4, 5, 6]),
      );
      const vars = await readMatFile(bytes);
      assert.deepEqual(vars.get("v"), {
        dims: [1, 3],
        data: new Float64Array([7, 8, 9]),
        class: "double",
      });
      assert.deepEqual(Array.from(vars.get("w")!.data), [1, 2, 3, 4, 5, 6]);
    });
  }
});

Deno.test("readMatFile() rejects complex and non-numeric variables unless told to skip them", async (t) => {
  await t.step("complex", async () => {
    const bytes = fromBase64(SCIPY_MAT_FILES.complex);
    await assert.rejects(() => readMatFile(bytes), {
      name: "TypeError",
      message: "Cannot read MAT-file variable `z`: complex arrays are not supported",
    });
    assert.equal((await readMatFile(bytes, { unsupported: "skip" })).size, 0);
  });
  await t.step("char, cell and struct", async () => {
    const bytes = fromBase64(SCIPY_MAT_FILES.mixed);
    await assert.rejects(() => readMatFile(bytes), TypeError);
    const vars = await readMatFile(bytes, { unsupported: "skip" });
    assert.deepEqual([...vars.keys()], ["c"]);
  });
});

Deno.test("readMatFile() throws SyntaxError for malformed bytes", async (t) => {
  const good = await Deno.readFile(CARS_006A);
  await t.step("shorter than the header", async () => {
    await assert.rejects(() => readMatFile(good.subarray(0, 100)), {
      name: "SyntaxError",
      message: "Cannot read MAT-file: 100 bytes is shorter than the 128-byte header",
    });
  });
  await t.step("wrong endian indicator", async () => {
    const bad = good.slice();
    bad.set([0x58, 0x58], 126);
    await assert.rejects(() => readMatFile(bad), (e: Error) => {
      assert.ok(e instanceof SyntaxError);
      assert.match(e.message, /endian indicator/);
      return true;
    });
  });
  await t.step("a PNG is not a MAT-file", async () => {
    const png = await Deno.readFile(CARS_006A.replace(/\.mat$/, ".png"));
    await assert.rejects(() => readMatFile(png), SyntaxError);
  });
  await t.step("v7.3 (HDF5) header", async () => {
    const bad = concat(header(true, 0x0200));
    await assert.rejects(() => readMatFile(bad), /HDF5-based v7\.3/);
  });
  await t.step("every truncation", async () => {
    for (let n = 129; n < good.length; n++) {
      await assert.rejects(() => readMatFile(good.subarray(0, n)), SyntaxError, `length ${n}`);
    }
  });
  await t.step("corrupt compressed data", async () => {
    const bad = good.slice();
    for (let i = 150; i < 170; i++) bad[i] ^= 0x5a;
    await assert.rejects(() => readMatFile(bad), SyntaxError);
  });
  await t.step("a zlib stream cut short inside a well-formed element", async () => {
    const zlib = good.subarray(136, 136 + 100);
    const bad = concat(good.subarray(0, 128), element(15, zlib, true).subarray(0, 108));
    await assert.rejects(() => readMatFile(bad), (e: Error) => {
      assert.ok(e instanceof SyntaxError);
      assert.match(e.message, /compressed element at byte 128/);
      return true;
    });
  });
  await t.step("a variable twice", async () => {
    const bad = concat(good, good.subarray(128));
    await assert.rejects(() => readMatFile(bad), {
      name: "SyntaxError",
      message: "Cannot read MAT-file: variable `pts_coord` appears twice",
    });
  });
  await t.step("value count does not match the dimensions", async () => {
    const bad = concat(header(true), matlabStyleMatrix(true, "v", [2, 3], [1, 2, 3]));
    await assert.rejects(() => readMatFile(bad), {
      name: "SyntaxError",
      message: "Cannot read MAT-file: variable `v` has 3 values for dimensions 2x3",
    });
  });
  await t.step("unexpected top-level element", async () => {
    const bad = concat(header(true), element(9, new Uint8Array(8), true));
    await assert.rejects(() => readMatFile(bad), /unexpected top-level element type 9/);
  });
  await t.step("an empty file body is an empty result", async () => {
    assert.equal((await readMatFile(good.subarray(0, 128))).size, 0);
  });
});
