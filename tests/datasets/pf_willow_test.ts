import assert from "node:assert/strict";
import { join } from "node:path";
import { readPfWillow } from "../../datasets/pf_willow.ts";
import { readMatFile } from "../../datasets/mat_file.ts";
import {
  DatasetMalformedError,
  DatasetNotFoundError,
  DatasetUnsafePathError,
} from "../../errors/mod.ts";
import { CAN_WRITE, PF_WILLOW_ROOT, writeStep } from "./_data.ts";
import { runReaderContract } from "./reader_contract.ts";

const CLASSES = [
  "car(G)",
  "car(M)",
  "motorbike(G)",
  "motorbike(S)",
  "winebottle(M)",
  "winebottle(wC)",
];

/** `pts_coord` of one shared PF-WILLOW image, as interleaved x, y. */
async function points(cls: string, name: string): Promise<Float64Array> {
  const bytes = await Deno.readFile(join(PF_WILLOW_ROOT, "PF-dataset", cls, `${name}.mat`));
  return (await readMatFile(bytes)).get("pts_coord")!.data;
}

/** A temporary dataset root, removed after `fn`. */
async function withTempRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "pf_willow_test_" });
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** A 42-column row: paths, then 10 x and 10 y of A, then of B. */
function csvRow(a: string, b: string, xyA: ArrayLike<number>, xyB: ArrayLike<number>): string {
  const split = (xy: ArrayLike<number>) => {
    const xs = [], ys = [];
    for (let i = 0; i < 10; i++) {
      xs.push(xy[2 * i]);
      ys.push(xy[2 * i + 1]);
    }
    return [...xs, ...ys];
  };
  return [a, b, ...split(xyA), ...split(xyB)].join(",");
}

const HEADER = ["imageA", "imageB", ...Array.from({ length: 40 }, (_, i) => `c${i}`)].join(",");

Deno.test("readPfWillow() builds the 540 ordered pairs of the shared 6 classes from the .mat files", async () => {
  const slice = await readPfWillow(PF_WILLOW_ROOT);
  assert.equal(slice.dataset, "pfwillow");
  assert.equal(slice.pair_source, "mat");
  assert.equal(slice.pair_file, null);
  assert.equal(slice.keypoints, "floor");
  assert.equal(slice.max_keypoints, 20);
  assert.equal(slice.threshold_base, "bbox-kp");
  assert.equal(slice.pairs.length, 540);
  assert.equal(new Set(slice.pairs.map((p) => p.pair_id)).size, 540);
  for (const cls of CLASSES) {
    assert.equal(slice.pairs.filter((p) => p.category === cls).length, 90, cls);
  }
  // Sorted by class, then source, then target.
  const keys = slice.pairs.map((p) => [p.category, p.source, p.target].join("\u0000"));
  assert.deepEqual(keys, [...keys].sort());
  assert.ok(slice.pairs.every((p) => p.source !== p.target));

  const first = slice.pairs[0];
  assert.equal(first.pair_id, "car(G)/Cars_006a-Cars_007a");
  assert.equal(first.category, "car(G)");
  assert.equal(first.source, "PF-dataset/car(G)/Cars_006a.png");
  assert.equal(first.target, "PF-dataset/car(G)/Cars_007a.png");
  assert.deepEqual(first.source_size, { width: 300, height: 200 });
  assert.deepEqual(first.target_size, { width: 300, height: 225 });
  // Floored, as the official loader's .float().floor().
  const floored = (xy: ArrayLike<number>) =>
    new Float32Array(Array.from(xy, (v) => Math.floor(Math.fround(v))));
  assert.deepEqual(first.source_kps, floored(await points("car(G)", "Cars_006a")));
  assert.deepEqual(first.target_kps, floored(await points("car(G)", "Cars_007a")));
  // max(w, h) of the box around Cars_007a's floored points.
  const t = first.target_kps;
  const xs = t.filter((_, i) => i % 2 === 0), ys = t.filter((_, i) => i % 2 === 1);
  assert.equal(
    first.threshold,
    Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)),
  );
  for (const p of slice.pairs) {
    assert.equal(p.source_kps.length, 20);
    assert.equal(p.target_kps.length, 20);
    assert.ok(p.threshold! > 0);
    assert.ok(p.source_size !== null && p.target_size !== null);
  }
});

Deno.test("readPfWillow() applies the keypoint convention and the keypoint cap", async (t) => {
  const raw = (await readPfWillow(PF_WILLOW_ROOT, { keypoints: "raw" })).pairs[0];
  await t.step("raw keeps the stored values", async () => {
    // max(w, h) of the box around Cars_007a's points (numpy float32: 134.56416).
    assert.deepEqual(raw.source_kps, new Float32Array(await points("car(G)", "Cars_006a")));
    assert.ok(Math.abs(raw.threshold! - 134.56416) < 1e-4);
  });
  await t.step("zero-based subtracts 1", async () => {
    const slice = await readPfWillow(PF_WILLOW_ROOT, { keypoints: "zero-based" });
    assert.equal(slice.keypoints, "zero-based");
    const p = slice.pairs[0];
    const xy = await points("car(G)", "Cars_006a");
    assert.deepEqual(p.source_kps, new Float32Array(xy.map((v) => v - 1)));
    assert.ok(Math.abs(p.threshold! - raw.threshold!) < 1e-4);
  });
  await t.step("floor (the default) rounds down", async () => {
    const p = (await readPfWillow(PF_WILLOW_ROOT)).pairs[0];
    assert.deepEqual(Array.from(p.source_kps), Array.from(raw.source_kps, Math.floor));
  });
  await t.step("maxKeypoints keeps the first points", async () => {
    const slice = await readPfWillow(PF_WILLOW_ROOT, { keypoints: "raw", maxKeypoints: 3 });
    const p = slice.pairs[0];
    assert.equal(slice.max_keypoints, 3);
    assert.deepEqual(p.source_kps, raw.source_kps.subarray(0, 6));
    assert.deepEqual(p.target_kps, raw.target_kps.subarray(0, 6));
    const t = p.target_kps;
    const expected = Math.max(
      Math.max(t[0], t[2], t[4]) - Math.min(t[0], t[2], t[4]),
      Math.max(t[1], t[3], t[5]) - Math.min(t[1], t[3], t[5]),
    );
    assert.equal(p.threshold, expected);
  });
  await t.step("invalid options", async () => {
    await assert.rejects(
      () => readPfWillow(PF_WILLOW_ROOT, { keypoints: "one" as never }),
      RangeError,
    );
    await assert.rejects(() => readPfWillow(PF_WILLOW_ROOT, { maxKeypoints: -1 }), RangeError);
    await assert.rejects(
      () => readPfWillow(PF_WILLOW_ROOT, { pairSource: "x" as never }),
      RangeError,
    );
  });
});

Deno.test("readPfWillow() prefers a 42-column pair list", async (t) => {
  const a = await points("car(G)", "Cars_006a");
  const b = await points("car(G)", "Cars_007a");
  const rowAB = csvRow("PF-dataset/car(G)/Cars_006a.png", "PF-dataset/car(G)/Cars_007a.png", a, b);
  const rowBA = csvRow("PF-dataset/car(G)/Cars_007a.png", "PF-dataset/car(G)/Cars_006a.png", b, a);

  await writeStep(t, "PF-dataset/test_pairs_pf.csv with a header", async () => {
    await withTempRoot(async (root) => {
      await Deno.mkdir(join(root, "PF-dataset"));
      await Deno.writeTextFile(
        join(root, "PF-dataset", "test_pairs_pf.csv"),
        `${HEADER}\n${rowAB}\r\n${rowBA}\n`,
      );
      const slice = await readPfWillow(root, { keypoints: "raw" });
      assert.equal(slice.pair_source, "csv");
      assert.equal(slice.pair_file, "PF-dataset/test_pairs_pf.csv");
      assert.deepEqual(slice.pairs.map((p) => p.pair_id), [
        "car(G)/Cars_006a-Cars_007a",
        "car(G)/Cars_007a-Cars_006a",
      ]);
      const p = slice.pairs[0];
      assert.equal(p.source, "PF-dataset/car(G)/Cars_006a.png");
      assert.deepEqual(p.source_kps, new Float32Array(a));
      assert.deepEqual(p.target_kps, new Float32Array(b));
      // Same pair as the .mat reader gives on the shared data.
      const fromMat = (await readPfWillow(PF_WILLOW_ROOT, { keypoints: "raw" })).pairs[0];
      assert.deepEqual(p.target_kps, fromMat.target_kps);
      assert.equal(p.threshold, fromMat.threshold);
      // No images in this root: sizes are unknown.
      assert.equal(p.source_size, null);
      assert.equal(p.target_size, null);
    });
  });
  await writeStep(t, "test_pairs.csv without a header, before the .mat files", async () => {
    await withTempRoot(async (root) => {
      await Deno.mkdir(join(root, "PF-dataset", "car(G)"), { recursive: true });
      await Deno.copyFile(
        join(PF_WILLOW_ROOT, "PF-dataset", "car(G)", "Cars_006a.mat"),
        join(root, "PF-dataset", "car(G)", "Cars_006a.mat"),
      );
      await Deno.copyFile(
        join(PF_WILLOW_ROOT, "PF-dataset", "car(G)", "Cars_007a.mat"),
        join(root, "PF-dataset", "car(G)", "Cars_007a.mat"),
      );
      await Deno.writeTextFile(join(root, "test_pairs.csv"), `${rowBA}\n`);
      const csv = await readPfWillow(root);
      assert.equal(csv.pair_file, "test_pairs.csv");
      assert.equal(csv.pairs.length, 1);
      const mat = await readPfWillow(root, { pairSource: "mat" });
      assert.equal(mat.pair_source, "mat");
      assert.equal(mat.pairs.length, 2);
    });
  });
  await t.step("pairSource csv without a pair list", async () => {
    await assert.rejects(
      () => readPfWillow(PF_WILLOW_ROOT, { pairSource: "csv" }),
      DatasetNotFoundError,
    );
  });
});

Deno.test("readPfWillow() reports missing and malformed files by name", async (t) => {
  const a = await points("car(G)", "Cars_006a");
  const good = csvRow("PF-dataset/car(G)/Cars_006a.png", "PF-dataset/car(G)/Cars_007a.png", a, a);
  const rejectsCsv = async (
    csv: string,
    error: typeof DatasetMalformedError | typeof DatasetUnsafePathError,
    message: RegExp,
  ) => {
    await withTempRoot(async (root) => {
      await Deno.writeTextFile(join(root, "test_pairs.csv"), csv);
      await assert.rejects(() => readPfWillow(root), (e: Error) => {
        assert.ok(e instanceof error, String(e));
        assert.match(e.message, /test_pairs\.csv/);
        assert.match(e.message, message);
        return true;
      });
    });
  };

  await t.step("missing root", async () => {
    await assert.rejects(() => readPfWillow(join(PF_WILLOW_ROOT, "nope")), DatasetNotFoundError);
  });
  await writeStep(t, "root without PF-dataset", async () => {
    await withTempRoot(async (root) => {
      await assert.rejects(() => readPfWillow(root), (e: Error) => {
        assert.ok(e instanceof DatasetNotFoundError);
        assert.equal(e.code, "dataset_not_found");
        assert.equal(e.path, "PF-dataset");
        return true;
      });
    });
  });
  await writeStep(t, "a row with 41 columns", async () => {
    await rejectsCsv(
      `${good}\n${good.slice(0, good.lastIndexOf(","))}\n`,
      DatasetMalformedError,
      /line 2 has 41 columns/,
    );
  });
  await writeStep(t, "a value that is not a number", async () => {
    await rejectsCsv(
      good.replace(/,[^,]+$/, ",x"),
      DatasetMalformedError,
      /column 42 is not a number/,
    );
  });
  await writeStep(t, "an unclosed quote", async () => {
    await rejectsCsv(`"${good}`, DatasetMalformedError, /unclosed quote/);
  });
  await writeStep(t, "the same pair twice", async () => {
    await rejectsCsv(`${good}\n${good}\n`, DatasetMalformedError, /appears twice/);
  });
  await writeStep(t, "a path with ..", async () => {
    await rejectsCsv(
      good.replace("PF-dataset/car(G)", "../../etc"),
      DatasetUnsafePathError,
      /`\.\.` segment/,
    );
  });
  await writeStep(t, "an absolute path", async () => {
    await rejectsCsv(
      good.replace("PF-dataset/car(G)/Cars_006a.png", "/etc/passwd"),
      DatasetUnsafePathError,
      /absolute/,
    );
  });
  await writeStep(t, "a Windows drive path", async () => {
    await rejectsCsv(
      good.replace("PF-dataset/car(G)/Cars_006a.png", "C:\\x.png"),
      DatasetUnsafePathError,
      /absolute/,
    );
  });
  await writeStep(t, "a truncated .mat file", async () => {
    await withTempRoot(async (root) => {
      const dir = join(root, "PF-dataset", "car(G)");
      await Deno.mkdir(dir, { recursive: true });
      const bytes = await Deno.readFile(
        join(PF_WILLOW_ROOT, "PF-dataset", "car(G)", "Cars_006a.mat"),
      );
      await Deno.writeFile(join(dir, "Cars_006a.mat"), bytes.subarray(0, 200));
      await assert.rejects(() => readPfWillow(root), (e: Error) => {
        assert.ok(e instanceof DatasetMalformedError);
        assert.equal(e.path, "PF-dataset/car(G)/Cars_006a.mat");
        assert.match(e.message, /Cars_006a\.mat/);
        assert.ok(e.cause instanceof SyntaxError);
        return true;
      });
    });
  });
  await writeStep(t, "a .mat file without pts_coord", async () => {
    await withTempRoot(async (root) => {
      const dir = join(root, "PF-dataset", "car(G)");
      await Deno.mkdir(dir, { recursive: true });
      const bytes = await Deno.readFile(
        join(PF_WILLOW_ROOT, "PF-dataset", "car(G)", "Cars_006a.mat"),
      );
      await Deno.writeFile(join(dir, "Cars_006a.mat"), bytes.subarray(0, 128));
      await assert.rejects(
        () => readPfWillow(root),
        /Cars_006a\.mat: no numeric variable `pts_coord`/,
      );
    });
  });
  await writeStep(t, "an image that is not a PNG", async () => {
    await withTempRoot(async (root) => {
      const dir = join(root, "PF-dataset", "car(G)");
      await Deno.mkdir(dir, { recursive: true });
      for (const name of ["Cars_006a", "Cars_007a"]) {
        await Deno.copyFile(
          join(PF_WILLOW_ROOT, "PF-dataset", "car(G)", `${name}.mat`),
          join(dir, `${name}.mat`),
        );
      }
      await Deno.writeTextFile(join(dir, "Cars_006a.png"), "not an image at all, really");
      await assert.rejects(() => readPfWillow(root), (e: Error) => {
        assert.ok(e instanceof DatasetMalformedError);
        assert.match(e.message, /Cars_006a\.png: Unsupported image format/);
        return true;
      });
    });
  });
});

Deno.test("readPfWillow() keeps the reader contract", async (t) => {
  for (const keypoints of ["raw", "zero-based", "floor"] as const) {
    await runReaderContract(
      t,
      `shared data, ${keypoints} keypoints`,
      () => readPfWillow(PF_WILLOW_ROOT, { keypoints }),
      { minPairs: 540 },
    );
  }
  await t.step({
    name: "a 42-column pair list",
    ignore: !CAN_WRITE,
    fn: (st) =>
      withTempRoot(async (root) => {
        const a = await points("car(G)", "Cars_006a");
        const b = await points("car(G)", "Cars_007a");
        const rows = [
          csvRow("PF-dataset/car(G)/Cars_006a.png", "PF-dataset/car(G)/Cars_007a.png", a, b),
          csvRow("PF-dataset/car(G)/Cars_007a.png", "PF-dataset/car(G)/Cars_006a.png", b, a),
        ];
        await Deno.writeTextFile(join(root, "test_pairs.csv"), `${rows.join("\n")}\n`);
        await runReaderContract(st, "pair list", () => readPfWillow(root), { minPairs: 2 });
      }),
  });
});
