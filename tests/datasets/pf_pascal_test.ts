import assert from "node:assert/strict";
import { join } from "node:path";
import { pfPascalAnnotationFile, readPfPascal, VOC_CLASSES } from "../../datasets/pf_pascal.ts";
import {
  DatasetError,
  DatasetMalformedError,
  DatasetNotFoundError,
  DatasetUnsafePathError,
} from "../../errors/mod.ts";
import { AP10K_ROOT, CAN_WRITE, fromBase64, PF_PASCAL_ROOT, writeStep } from "./_data.ts";
import { runReaderContract } from "./reader_contract.ts";
import { PF_PASCAL_MAT_FILES } from "./_pf_pascal_mat_fixtures.ts";

const HEADER = "source_image,target_image,class,XA,YA,XB,YB";
const ROW = "PF-dataset-PASCAL/JPEGImages/a.jpg,PF-dataset-PASCAL/JPEGImages/b.jpg,8," +
  "1;2;3,4;5;6,7;8;9,10;11;12";

/** A temporary root holding `image_pairs/test_pairs.csv` with `csv`, removed after `fn`. */
async function withPairList(csv: string, fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "pf_pascal_test_" });
  try {
    await Deno.mkdir(join(root, "image_pairs"));
    await Deno.writeTextFile(join(root, "image_pairs", "test_pairs.csv"), csv);
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("readPfPascal() reads the shared test rows with inline keypoints", async () => {
  const slice = await readPfPascal(PF_PASCAL_ROOT);
  assert.equal(slice.dataset, "pfpascal");
  assert.equal(slice.split, "test");
  assert.equal(slice.pair_source, "csv");
  assert.equal(slice.pair_file, "image_pairs/test_pairs.csv");
  assert.equal(slice.threshold_base, "img");
  assert.equal(slice.pairs.length, 163);
  const counts = Object.fromEntries(
    VOC_CLASSES.slice(0, 10).map((c) => [c, slice.pairs.filter((p) => p.category === c).length]),
  );
  assert.deepEqual(counts, {
    aeroplane: 15,
    bicycle: 30,
    bird: 10,
    boat: 6,
    bottle: 8,
    bus: 32,
    car: 19,
    cat: 27,
    chair: 13,
    cow: 3,
  });
  assert.equal(new Set(slice.pairs.map((p) => p.pair_id)).size, 163);

  const p = slice.pairs[0];
  assert.equal(p.pair_id, "aeroplane/2011_001407-2010_004184");
  assert.equal(p.source, "PF-dataset-PASCAL/JPEGImages/2011_001407.jpg");
  assert.equal(p.target, "PF-dataset-PASCAL/JPEGImages/2010_004184.jpg");
  assert.equal(p.source_kps.length, 22);
  assert.equal(p.target_kps.length, 22);
  // First and last points of the first row, floored as the official loader does.
  assert.deepEqual(
    [p.source_kps[0], p.source_kps[1], p.target_kps[20], p.target_kps[21]],
    [253, 58, 231, 86],
  );
  assert.equal(slice.keypoints, "floor");
  assert.equal(slice.keypoint_source, "csv");
  // No JPEGImages in the shared slice: sizes and the `img` threshold are unknown.
  assert.equal(p.source_size, null);
  assert.equal(p.target_size, null);
  assert.equal(p.threshold, null);
  assert.ok(slice.pairs.every((q) => q.threshold === null && q.source_kps.length >= 8));
  const images = new Set(slice.pairs.flatMap((q) => [q.source, q.target]));
  assert.equal(slice.missing_images, images.size);
});

Deno.test("readPfPascal() reads the train and val lists with flip and no keypoints", async () => {
  const train = await readPfPascal(PF_PASCAL_ROOT, { split: "train" });
  assert.equal(train.pairs.length, 2940);
  assert.equal(new Set(train.pairs.map((p) => p.pair_id)).size, 2940);
  assert.ok(train.pairs.some((p) => p.pair_id.endsWith("#2")));
  assert.ok(train.pairs.every((p) => p.source_kps.length === 0 && typeof p.flip === "boolean"));
  const first = train.pairs[0];
  assert.equal(first.pair_id, "bicycle/2008_006579-2008_004280");
  assert.equal(first.flip, false);
  assert.equal(train.pairs[1].flip, true);
  const val = await readPfPascal(PF_PASCAL_ROOT, { split: "val" });
  assert.equal(val.pairs.length, 308);
});

Deno.test("readPfPascal() options", async (t) => {
  await t.step("keypoints: raw keeps the stored values", async () => {
    const p = (await readPfPascal(PF_PASCAL_ROOT, { keypoints: "raw" })).pairs[0];
    assert.deepEqual(
      [p.source_kps[0], p.source_kps[1]],
      [253.631662222222, 58.1813333333333].map(Math.fround),
    );
  });
  await t.step("trn and train name NC-Net's train list", async () => {
    const trn = await readPfPascal(PF_PASCAL_ROOT, { split: "trn" });
    assert.equal(trn.pair_file, "image_pairs/train_pairs.csv");
    assert.equal(trn.pairs.length, 2940);
  });
  await t.step("maxKeypoints", async () => {
    const p = (await readPfPascal(PF_PASCAL_ROOT, { maxKeypoints: 3 })).pairs[0];
    assert.equal(p.source_kps.length, 6);
    assert.equal(p.target_kps.length, 6);
  });
  await t.step("invalid", async () => {
    await assert.rejects(
      () => readPfPascal(PF_PASCAL_ROOT, { split: "training" as never }),
      RangeError,
    );
    await assert.rejects(
      () => readPfPascal(PF_PASCAL_ROOT, { keypoints: "round" as never }),
      RangeError,
    );
    await assert.rejects(() => readPfPascal(PF_PASCAL_ROOT, { maxKeypoints: NaN }), RangeError);
  });
  await t.step("missing root", async () => {
    await assert.rejects(() => readPfPascal(join(PF_PASCAL_ROOT, "nope")), DatasetNotFoundError);
  });
});

Deno.test("readPfPascal() takes the img threshold from the target image when it is on disk", async (t) => {
  await writeStep(t, "target present, source absent", async () => {
    await withPairList(`${HEADER}\n${ROW}\n`, async (root) => {
      const dir = join(root, "PF-dataset-PASCAL", "JPEGImages");
      await Deno.mkdir(dir, { recursive: true });
      await Deno.copyFile(join(AP10K_ROOT, "data", "000000000004.jpg"), join(dir, "b.jpg"));
      const slice = await readPfPascal(root);
      const p = slice.pairs[0];
      assert.equal(p.pair_id, "cat/a-b");
      assert.deepEqual(Array.from(p.source_kps), [1, 4, 2, 5, 3, 6]);
      assert.deepEqual(Array.from(p.target_kps), [7, 10, 8, 11, 9, 12]);
      assert.equal(p.source_size, null);
      assert.deepEqual(p.target_size, { width: 1024, height: 683 });
      assert.equal(p.threshold, 1024);
      assert.equal(slice.missing_images, 1);
    });
  });
  await writeStep(t, "a target that is not an image", async () => {
    await withPairList(`${HEADER}\n${ROW}\n`, async (root) => {
      const dir = join(root, "PF-dataset-PASCAL", "JPEGImages");
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(join(dir, "b.jpg"), "<html>");
      await assert.rejects(() => readPfPascal(root), (e: Error) => {
        assert.ok(e instanceof DatasetMalformedError);
        assert.equal(e.path, "PF-dataset-PASCAL/JPEGImages/b.jpg");
        return true;
      });
    });
  });
});

Deno.test("readPfPascal() takes only the listed file name, as the official loader", async (t) => {
  await writeStep(t, "folders of the listed path are ignored", async () => {
    const row = ROW.replace("PF-dataset-PASCAL/JPEGImages/a.jpg", "../../elsewhere/a.jpg")
      .replace("PF-dataset-PASCAL/JPEGImages/b.jpg", "/etc/b.jpg");
    await withPairList(`${HEADER}\n${row}\n`, async (root) => {
      const p = (await readPfPascal(root)).pairs[0];
      assert.equal(p.source, "PF-dataset-PASCAL/JPEGImages/a.jpg");
      assert.equal(p.target, "PF-dataset-PASCAL/JPEGImages/b.jpg");
    });
  });
});

Deno.test("readPfPascal() reports malformed pair lists by file and line", async (t) => {
  const cases: [string, string, typeof DatasetError, RegExp][] = [
    ["unknown header", "a,b,c\n", DatasetMalformedError, /header is "a,b,c"/],
    [
      "half the keypoint columns",
      "source_image,target_image,class,XA,YA\n",
      DatasetMalformedError,
      /header/,
    ],
    [
      "class 21",
      `${HEADER}\n${ROW.replace(",8,", ",21,")}\n`,
      DatasetMalformedError,
      /line 2 has class "21"/,
    ],
    [
      "class 0",
      `${HEADER}\n${ROW.replace(",8,", ",0,")}\n`,
      DatasetMalformedError,
      /line 2 has class "0"/,
    ],
    [
      "a coordinate that is not a number",
      `${HEADER}\n${ROW.replace("1;2;3", "1;x;3")}\n`,
      DatasetMalformedError,
      /line 2 has a coordinate that is not a number: "x"/,
    ],
    [
      "an empty coordinate",
      `${HEADER}\n${ROW.replace("1;2;3", "1;;3")}\n`,
      DatasetMalformedError,
      /not a number: ""/,
    ],
    [
      "lists of different lengths",
      `${HEADER}\n${ROW.replace("7;8;9", "7;8")}\n`,
      DatasetMalformedError,
      /lengths 3, 3, 2, 3/,
    ],
    [
      "a missing column",
      `${HEADER}\n${ROW.slice(0, ROW.lastIndexOf(","))}\n`,
      DatasetMalformedError,
      /line 2 has 6 columns, the header 7/,
    ],
    [
      "a file name that is ..",
      `${HEADER}\n${ROW.replace("PF-dataset-PASCAL/JPEGImages/a.jpg", "x/..")}\n`,
      DatasetUnsafePathError,
      /`\.\.` segment/,
    ],
    [
      "a bad flip",
      "source_image,target_image,class,flip\na.jpg,b.jpg,1,2\n",
      DatasetMalformedError,
      /flip "2"/,
    ],
  ];
  for (const [name, csv, error, message] of cases) {
    await writeStep(t, name, async () => {
      await withPairList(csv, async (root) => {
        await assert.rejects(() => readPfPascal(root), (e: Error) => {
          assert.ok(e instanceof error, String(e));
          assert.match(e.message, /test_pairs\.csv/);
          assert.match(e.message, message);
          return true;
        });
      });
    });
  }
});

/** A root with `image_pairs/train_pairs.csv` and annotation files, removed after `fn`. */
async function withAnnotations(
  rows: string[],
  mats: Record<string, string>,
  fn: (root: string) => Promise<void>,
): Promise<void> {
  await withPairList("", async (root) => {
    await Deno.writeTextFile(
      join(root, "image_pairs", "train_pairs.csv"),
      ["source_image,target_image,class,flip", ...rows, ""].join("\n"),
    );
    const dir = join(root, "PF-dataset-PASCAL", "Annotations", "cat");
    await Deno.mkdir(dir, { recursive: true });
    for (const [name, fixture] of Object.entries(mats)) {
      await Deno.writeFile(join(dir, `${name}.mat`), fromBase64(PF_PASCAL_MAT_FILES[fixture]));
    }
    await fn(root);
  });
}

const IMG = "PF-dataset-PASCAL/JPEGImages";

Deno.test("readPfPascal() takes keypoints from Annotations/<class>/<name>.mat for lists without them", async (t) => {
  const rows = [
    `${IMG}/a.jpg,${IMG}/b.jpg,8,0`,
    `${IMG}/b.jpg,${IMG}/a.jpg,8,1`,
    `${IMG}/a.jpg,${IMG}/c.jpg,8,0`,
  ];
  await writeStep(t, "keypoints annotated in both, with ids and boxes", async () => {
    await withAnnotations(rows, { a: "cat_a", b: "cat_b" }, async (root) => {
      const slice = await readPfPascal(root, { split: "train" });
      assert.equal(slice.keypoint_source, "mat");
      assert.equal(slice.missing_annotations, 1);
      const [ab, ba, ac] = slice.pairs;
      assert.equal(ab.pair_id, "cat/a-b");
      // Rows 1 (NaN in a) and 2 (NaN in b) are left out.
      assert.deepEqual(ab.keypoint_ids, ["0", "3"]);
      assert.deepEqual(Array.from(ab.source_kps), [10, 20, 50, 60]);
      assert.deepEqual(Array.from(ab.target_kps), [11, 21, 51, 61]);
      assert.deepEqual(ab.source_bbox, [5, 6, 100, 120]);
      assert.deepEqual(ab.target_bbox, [1, 2, 200, 150]);
      assert.equal(ab.threshold_base, "img");
      assert.equal(ab.threshold, null); // no image on disk
      assert.equal(ab.flip, false);
      assert.deepEqual(ba.source_kps, ab.target_kps);
      assert.equal(ba.flip, true);
      // c.mat is missing: no keypoints.
      assert.equal(ac.source_kps.length, 0);
      assert.equal(ac.keypoint_ids, undefined);
    });
  });
  await writeStep(t, "maxKeypoints keeps the first common points", async () => {
    await withAnnotations(rows.slice(0, 1), { a: "cat_a", b: "cat_b" }, async (root) => {
      const p = (await readPfPascal(root, { split: "train", maxKeypoints: 1 })).pairs[0];
      assert.deepEqual(p.keypoint_ids, ["0"]);
      assert.deepEqual(Array.from(p.target_kps), [11, 21]);
    });
  });
  await writeStep(t, "annotations: require and skip", async () => {
    await withAnnotations(rows, { a: "cat_a", b: "cat_b" }, async (root) => {
      await assert.rejects(
        () => readPfPascal(root, { split: "train", annotations: "require" }),
        (e: Error) => {
          assert.ok(e instanceof DatasetNotFoundError);
          assert.equal(e.path, "PF-dataset-PASCAL/Annotations/cat/c.mat");
          return true;
        },
      );
      const skipped = await readPfPascal(root, { split: "train", annotations: "skip" });
      assert.equal(skipped.keypoint_source, "none");
      assert.equal(skipped.missing_annotations, 0);
      assert.ok(skipped.pairs.every((p) => p.source_kps.length === 0));
      await assert.rejects(
        () => readPfPascal(root, { annotations: "x" as never }),
        RangeError,
      );
    });
  });
  await writeStep(t, "malformed annotation files", async () => {
    for (
      const [fixture, message] of [
        ["bad_shape", /b\.mat: `kps` is 1x3, expected Nx2/],
        ["no_kps", /b\.mat: no numeric variable `kps`/],
      ] as const
    ) {
      await withAnnotations(rows.slice(0, 1), { a: "cat_a", b: fixture }, async (root) => {
        await assert.rejects(() => readPfPascal(root, { split: "train" }), (e: Error) => {
          assert.ok(e instanceof DatasetMalformedError);
          assert.match(e.message, message);
          return true;
        });
      });
    }
  });
  await t.step("the shared lists have no annotation files", async () => {
    const val = await readPfPascal(PF_PASCAL_ROOT, { split: "val" });
    assert.equal(val.keypoint_source, "none");
    assert.ok(val.missing_annotations > 0);
    const test = await readPfPascal(PF_PASCAL_ROOT);
    assert.equal(test.keypoint_source, "csv");
    assert.ok(test.missing_annotations > 0);
  });
  await t.step("pfPascalAnnotationFile()", () => {
    const expected = "PF-dataset-PASCAL/Annotations/cow/x.mat";
    assert.equal(pfPascalAnnotationFile("JPEGImages/x.jpg", "cow"), expected);
    assert.equal(pfPascalAnnotationFile("x.jpg", "cow"), expected);
  });
});

Deno.test("readPfPascal() keeps the reader contract", async (t) => {
  await runReaderContract(t, "shared test rows", () => readPfPascal(PF_PASCAL_ROOT), {
    minPairs: 163,
  });
  for (const split of ["train", "val"] as const) {
    await runReaderContract(
      t,
      `shared ${split} list`,
      () => readPfPascal(PF_PASCAL_ROOT, { split }),
      {
        minPairs: 300,
        skip: {
          "each category's pairs are contiguous":
            "NC-Net lists rows in file order, which interleaves classes (bus resumes at bus/2009_000089-2009_003916)",
        },
      },
    );
  }
  await t.step({
    name: "a target image on disk (img threshold) and .mat keypoints",
    ignore: !CAN_WRITE,
    fn: async (st) => {
      await withPairList(`${HEADER}\n${ROW}\n`, async (root) => {
        const dir = join(root, "PF-dataset-PASCAL", "JPEGImages");
        await Deno.mkdir(dir, { recursive: true });
        await Deno.copyFile(join(AP10K_ROOT, "data", "000000000004.jpg"), join(dir, "b.jpg"));
        await runReaderContract(st, "target on disk", () => readPfPascal(root));
      });
      const rows = [`${IMG}/a.jpg,${IMG}/b.jpg,8,0`, `${IMG}/b.jpg,${IMG}/a.jpg,8,1`];
      await withAnnotations(rows, { a: "cat_a", b: "cat_b" }, async (root) => {
        await runReaderContract(
          st,
          ".mat keypoints",
          () => readPfPascal(root, { split: "train" }),
          {
            minPairs: 2,
          },
        );
      });
    },
  });
});
