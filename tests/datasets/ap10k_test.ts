import assert from "node:assert/strict";
import { join } from "node:path";
import { readAp10k } from "../../datasets/ap10k.ts";
import {
  DatasetError,
  DatasetMalformedError,
  DatasetNotFoundError,
  DatasetUnsafePathError,
} from "../../errors/mod.ts";
import { readDataset } from "../../datasets/read_dataset.ts";
import { AP10K_ROOT, CAN_WRITE, writeStep } from "./_data.ts";
import { runReaderContract } from "./reader_contract.ts";
import { imageJson, TREE_PAIRS, writeAp10kTree } from "./_ap10k_tree.ts";

const SAMPLE = "annotations/test_ap10k.json";

// deno-lint-ignore no-explicit-any
type Coco = any;

async function sample(): Promise<Coco> {
  return JSON.parse(await Deno.readTextFile(join(AP10K_ROOT, SAMPLE)));
}

/** A temporary root holding `annotations/a.json` with `coco`, removed after `fn`. */
async function withAnnotations(
  coco: Coco | string,
  fn: (root: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "ap10k_test_" });
  try {
    await Deno.mkdir(join(root, "annotations"));
    const text = typeof coco === "string" ? coco : JSON.stringify(coco);
    await Deno.writeTextFile(join(root, "annotations", "a.json"), text);
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** The sample plus a second antelope (annotation 7 on a new image 5, nose not labelled). */
async function twoAntelopes(): Promise<Coco> {
  const coco = await sample();
  const antelope = coco.annotations.find((a: Coco) => a.id === 6);
  const kps = antelope.keypoints.map((v: number, i: number) => i % 3 === 2 ? v : v - 100);
  kps[3 * 2 + 2] = 0; // nose
  coco.images.push({ id: 5, file_name: "000000000005.jpg", width: 800, height: 600 });
  coco.annotations.push({
    id: 7,
    image_id: 5,
    category_id: 1,
    bbox: [300, 90, 200, 250],
    iscrowd: 0,
    keypoints: kps,
  });
  // A crowd annotation of the same species: left out.
  coco.annotations.push({ ...antelope, id: 8, image_id: 5, iscrowd: 1 });
  return coco;
}

Deno.test("readAp10k() reads the shared sample: two species, no pair", async () => {
  const slice = await readAp10k(AP10K_ROOT, { pairSource: "coco", annotationFile: SAMPLE });
  assert.equal(slice.dataset, "ap10k");
  assert.equal(slice.split, "test_ap10k");
  assert.equal(slice.pair_source, "coco");
  assert.equal(slice.pair_file, SAMPLE);
  assert.equal(slice.threshold_base, "bbox");
  assert.equal(slice.annotations, 2);
  assert.deepEqual(slice.pairs, []);
});

Deno.test("readAp10k() reads the tree by default and a COCO file only when asked", async () => {
  await assert.rejects(() => readAp10k(AP10K_ROOT), (e: Error) => {
    assert.ok(e instanceof DatasetNotFoundError);
    assert.match(e.message, /neither Layout\/test\.txt nor PairAnnotation\/test\/ exists/);
    assert.match(e.message, /pair_source "coco"/);
    return true;
  });
  const slice = await readAp10k(AP10K_ROOT, { pairSource: "coco" });
  assert.equal(slice.split, "test");
  assert.equal(slice.pair_source, "coco");
  assert.equal(slice.pair_file, SAMPLE);
  assert.equal(slice.annotations, 2);
  await assert.rejects(
    () => readAp10k(AP10K_ROOT, { split: "val", pairSource: "coco" }),
    (e: Error) => {
      assert.ok(e instanceof DatasetNotFoundError);
      assert.equal(e.path, "annotations/ap10k-val-split1.json");
      assert.match(e.message, /annotations\/val_ap10k\.json/);
      assert.ok(!/PairAnnotation/.test(e.message));
      return true;
    },
  );
});

Deno.test("readAp10k() pairs annotations of one species on keypoints labelled in both", async (t) => {
  await writeStep(t, "two antelopes", async () => {
    await withAnnotations(await twoAntelopes(), async (root) => {
      const slice = await readAp10k(root, {
        pairSource: "coco",
        annotationFile: "annotations/a.json",
      });
      assert.equal(slice.annotations, 3);
      assert.deepEqual(slice.pairs.map((p) => p.pair_id), ["antelope/6-7", "antelope/7-6"]);
      const [ab, ba] = slice.pairs;
      assert.equal(ab.category, "antelope");
      assert.equal(ab.source, "data/000000000004.jpg");
      assert.equal(ab.target, "data/000000000005.jpg");
      assert.deepEqual(ab.source_size, { width: 1024, height: 683 });
      assert.deepEqual(ab.target_size, { width: 800, height: 600 });
      // right_eye is unlabelled in annotation 6 and nose in annotation 7.
      assert.equal(ab.keypoint_ids!.length, 15);
      assert.deepEqual(ab.keypoint_ids!.slice(0, 3), ["left_eye", "neck", "root_of_tail"]);
      assert.deepEqual(Array.from(ab.source_kps.subarray(0, 4)), [488, 443, 600, 307]);
      assert.deepEqual(Array.from(ab.target_kps.subarray(0, 4)), [388, 343, 500, 207]);
      assert.deepEqual(ab.target_bbox, [300, 90, 500, 340]);
      assert.equal(ab.threshold, 250);
      assert.deepEqual(ba.target_bbox, [408, 197, 837, 538]);
      assert.equal(ba.threshold, 429);
      assert.deepEqual(ba.source_kps, ab.target_kps);
    });
  });
  await writeStep(t, "maxKeypoints and excluded images", async () => {
    await withAnnotations(await twoAntelopes(), async (root) => {
      const annotationFile = "annotations/a.json";
      const capped = await readAp10k(root, { pairSource: "coco", annotationFile, maxKeypoints: 3 });
      assert.deepEqual(capped.pairs[0].keypoint_ids, ["left_eye", "neck", "root_of_tail"]);
      assert.equal(capped.pairs[0].source_kps.length, 6);
      const excluded = await readAp10k(root, {
        pairSource: "coco",
        annotationFile,
        excludeImageIds: [5],
      });
      assert.equal(excluded.annotations, 2);
      assert.equal(excluded.pairs.length, 0);
    });
  });
});

Deno.test("readAp10k() reports malformed annotation files", async (t) => {
  const cases: [string, (c: Coco) => Coco | string, typeof DatasetError, RegExp][] = [
    ["invalid JSON", () => "{", DatasetMalformedError, /invalid JSON/],
    ["not an object", () => "[]", DatasetMalformedError, /a\.json: is not an object/],
    [
      "no images",
      (c) => ({ ...c, images: undefined }),
      DatasetMalformedError,
      /"images" is not an array/,
    ],
    [
      "50 keypoint values",
      (c) => {
        c.annotations[0].keypoints.pop();
        return c;
      },
      DatasetMalformedError,
      /annotation 0 field "keypoints" is not an array of 51 finite numbers/,
    ],
    [
      "an unknown image",
      (c) => {
        c.annotations[1].image_id = 99;
        return c;
      },
      DatasetMalformedError,
      /annotation 1 refers to unknown image 99/,
    ],
    [
      "an unknown category",
      (c) => {
        c.annotations[1].category_id = 99;
        return c;
      },
      DatasetMalformedError,
      /refers to unknown category 99/,
    ],
    [
      "a repeated annotation id",
      (c) => {
        c.annotations[1].id = c.annotations[0].id;
        return c;
      },
      DatasetMalformedError,
      /repeats annotation id/,
    ],
    [
      "a file name that leaves the root",
      (c) => {
        c.images[0].file_name = "../../x.jpg";
        return c;
      },
      DatasetUnsafePathError,
      /`\.\.` segment/,
    ],
  ];
  for (const [name, edit, error, message] of cases) {
    await writeStep(t, name, async () => {
      await withAnnotations(edit(await sample()), async (root) => {
        await assert.rejects(
          () => readAp10k(root, { pairSource: "coco", annotationFile: "annotations/a.json" }),
          (e: Error) => {
            assert.ok(e instanceof error, String(e));
            assert.match(e.message, /a\.json/);
            assert.match(e.message, message);
            return true;
          },
        );
      });
    });
  }
  await t.step("an annotationFile outside the root", async () => {
    await assert.rejects(
      () => readAp10k(AP10K_ROOT, { pairSource: "coco", annotationFile: "../pf-pascal/x.json" }),
      DatasetUnsafePathError,
    );
    await assert.rejects(
      () => readAp10k(AP10K_ROOT, { pairSource: "coco", annotationFile: "/etc/x.json" }),
      DatasetUnsafePathError,
    );
  });
});

/** A temporary root holding the GeoAware-SC tree of `_ap10k_tree.ts`, removed after `fn`. */
async function withTree(
  fn: (root: string) => Promise<void>,
  pairFile: Record<string, unknown> = {},
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "ap10k_tree_test_" });
  try {
    await writeAp10kTree(root, pairFile);
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("readAp10k() reads GeoAware-SC's tree: intra-species test pairs", async (t) => {
  await writeStep(t, "the default, from PairAnnotation/test/", async () => {
    await withTree(async (root) => {
      const slice = await readAp10k(root);
      assert.equal(slice.pair_source, "tree");
      assert.equal(slice.split, "test");
      assert.equal(slice.pair_file, null);
      assert.equal(slice.threshold_base, "bbox");
      assert.equal(slice.annotations, 2);
      assert.deepEqual(slice.pairs.map((p) => p.pair_id), TREE_PAIRS.test);
      const [ab, ba] = slice.pairs;
      assert.equal(ab.category, "antelope");
      assert.equal(ab.source, "JPEGImages/Bovidae/antelope/000000000004.jpg");
      assert.equal(ab.target, "JPEGImages/Bovidae/antelope/000000000005.jpg");
      assert.deepEqual(ab.target_bbox, [300, 90, 500, 340]);
      assert.equal(ab.threshold, 250);
      assert.equal(ba.threshold, 429);
      assert.deepEqual(ba.source_kps, ab.target_kps);

      // The same two animals as the COCO reader pairs them (annotations 6 and 7).
      await withAnnotations(await twoAntelopes(), async (cocoRoot) => {
        const coco = await readAp10k(cocoRoot, {
          pairSource: "coco",
          annotationFile: "annotations/a.json",
        });
        const [cab] = coco.pairs;
        assert.equal(cab.pair_id, "antelope/6-7");
        for (
          const key of [
            "source_kps",
            "target_kps",
            "keypoint_ids",
            "source_size",
            "target_size",
            "source_bbox",
            "target_bbox",
            "threshold",
          ] as const
        ) {
          assert.deepEqual(ab[key], cab[key], key);
        }
      });
    });
  });
  await writeStep(t, "a pair list names the files, read in file-name order", async () => {
    await withTree(async (root) => {
      await Deno.mkdir(join(root, "Layout"));
      await Deno.writeTextFile(
        join(root, "Layout", "test.txt"),
        `${TREE_PAIRS.test[1]}\n\n${TREE_PAIRS.test[0]}.json\n`,
      );
      const slice = await readAp10k(root, { split: "test" });
      assert.equal(slice.pair_file, "Layout/test.txt");
      assert.deepEqual(slice.pairs.map((p) => p.pair_id), TREE_PAIRS.test);
      await Deno.writeTextFile(
        join(root, "Layout", "test.txt"),
        `${TREE_PAIRS.test[0]}\n${TREE_PAIRS.test[0]}\n`,
      );
      await assert.rejects(() => readAp10k(root), /appears twice \(line 2\)/);
    });
  });
  await writeStep(t, "excluded images and the keypoint cap", async () => {
    await withTree(async (root) => {
      const capped = await readAp10k(root, { maxKeypoints: 2 });
      assert.deepEqual(capped.pairs[0].keypoint_ids, ["left_eye", "neck"]);
      assert.equal(capped.pairs[0].target_kps.length, 4);
      const excluded = await readAp10k(root, { excludeImageIds: [5] });
      assert.equal(excluded.pairs.length, 0);
    });
  });
});

Deno.test("readAp10k() reads GeoAware-SC's cross-species and cross-family test sets", async (t) => {
  await writeStep(t, "test_cross_species: pairs within a family, category = family", async () => {
    await withTree(async (root) => {
      const slice = await readAp10k(root, { split: "test_cross_species" });
      assert.deepEqual(slice.pairs.map((p) => [p.pair_id, p.category]), [
        [TREE_PAIRS.test_cross_species[0], "Bovidae"],
      ]);
      const p = slice.pairs[0];
      assert.equal(p.source, "JPEGImages/Bovidae/argali sheep/000000000006.jpg");
      assert.deepEqual(p.source_size, { width: 640, height: 480 });
      // left_eye unlabelled in the sheep, right_eye in the antelope.
      assert.equal(p.keypoint_ids!.length, 15);
      assert.equal(p.keypoint_ids![0], "nose");
      assert.deepEqual(Array.from(p.source_kps.subarray(0, 2)), [476, 509]);
      assert.deepEqual(Array.from(p.target_kps.subarray(0, 2)), [466, 499]);
      assert.equal(p.threshold, 429);
    });
  });
  await writeStep(t, "test_cross_family: any two families, category all", async () => {
    await withTree(async (root) => {
      const slice = await readDataset("ap10k", root, { split: "test_cross_family" });
      assert.equal(slice.pair_source, "tree");
      const p = slice.pairs[0];
      assert.equal(p.category, "all");
      assert.equal(p.source, "JPEGImages/Felidae/jaguar/000000037516.jpg");
      assert.deepEqual(p.source_size, { width: 1200, height: 867 });
      assert.equal(p.keypoint_ids!.length, 15);
      assert.ok(!p.keypoint_ids!.includes("right_eye") && !p.keypoint_ids!.includes("nose"));
      assert.equal(p.threshold, 250);
    });
  });
  await writeStep(t, "format", async () => {
    await withTree(async (root) => {
      await assert.rejects(
        () => readAp10k(root, { pairSource: "coco" }),
        (e: Error) => e instanceof DatasetNotFoundError && /ap10k-test-split1/.test(e.message),
      );
      await assert.rejects(
        () => readAp10k(root, { split: "trn", pairSource: "tree" }),
        (e: Error) => {
          assert.ok(e instanceof DatasetNotFoundError);
          assert.match(e.message, /neither Layout\/trn\.txt nor PairAnnotation\/trn\/ exists/);
          return true;
        },
      );
    });
    await assert.rejects(
      () => readAp10k(AP10K_ROOT, { pairSource: "tree" }),
      (e: Error) => e instanceof DatasetNotFoundError && /Layout\/test\.txt/.test(e.message),
    );
    await assert.rejects(() => readAp10k(AP10K_ROOT, { pairSource: "x" as never }), RangeError);
    await assert.rejects(() => readAp10k(AP10K_ROOT, { split: "../test" }), RangeError);
    await assert.rejects(
      () => readAp10k(AP10K_ROOT, { pairSource: "tree", annotationFile: SAMPLE }),
      RangeError,
    );
  });
});

Deno.test("readAp10k() reports malformed GeoAware-SC trees by file", async (t) => {
  const id = TREE_PAIRS.test[0];
  const cases: [string, unknown, typeof DatasetError, RegExp][] = [
    ["invalid JSON", "{", DatasetMalformedError, /invalid JSON/],
    [
      "a path outside ImageAnnotation/",
      { src_json_path: "data/x.json", trg_json_path: `data/ap-10k/${imageJson("000000000005")}` },
      DatasetMalformedError,
      /field "src_json_path" is "data\/x\.json", not a \.json file under ImageAnnotation\//,
    ],
    [
      "a path that leaves the root",
      {
        src_json_path: "data/ap-10k/ImageAnnotation/../../000000000004.json",
        trg_json_path: `data/ap-10k/${imageJson("000000000005")}`,
      },
      DatasetUnsafePathError,
      /`\.\.` segment/,
    ],
    [
      "images that disagree with the pair id",
      {
        src_json_path: `data/ap-10k/${imageJson("000000000005")}`,
        trg_json_path: `data/ap-10k/${imageJson("000000000004")}`,
      },
      DatasetMalformedError,
      /names images 000000000005 and 000000000004, not those of its pair id/,
    ],
    [
      "a missing image annotation",
      {
        src_json_path: "data/ap-10k/ImageAnnotation/Bovidae/antelope/000000000004.json",
        trg_json_path: "data/ap-10k/ImageAnnotation/Bovidae/zebra/000000000005.json",
      },
      DatasetNotFoundError,
      /zebra\/000000000005\.json: no such file/,
    ],
  ];
  for (const [name, content, error, message] of cases) {
    await writeStep(t, name, async () => {
      await withTree(async (root) => {
        await assert.rejects(() => readAp10k(root), (e: Error) => {
          assert.ok(e instanceof error, String(e));
          assert.match(e.message, message);
          return true;
        });
      }, { [`test/${id}`]: content });
    });
  }
  await writeStep(t, "an image annotation without keypoints", async () => {
    await withTree(async (root) => {
      const file = join(root, imageJson("000000000005"));
      const value = JSON.parse(await Deno.readTextFile(file));
      delete value.keypoints;
      await Deno.writeTextFile(file, JSON.stringify(value));
      await assert.rejects(() => readAp10k(root), (e: Error) => {
        assert.ok(e instanceof DatasetMalformedError);
        assert.equal(e.path, imageJson("000000000005"));
        assert.ok(!e.message.includes(root), e.message);
        assert.match(e.message, /field "keypoints" is not an array/);
        return true;
      });
    });
  });
});

Deno.test("readAp10k() keeps the reader contract", async (t) => {
  // The shared sample has one animal per species: no pair to hold to anything.
  assert.equal((await readAp10k(AP10K_ROOT, { pairSource: "coco" })).pairs.length, 0);
  await t.step({
    name: "COCO annotations, and GeoAware-SC's tree with its three test sets",
    ignore: !CAN_WRITE,
    fn: async (st) => {
      await withAnnotations(await twoAntelopes(), async (root) => {
        const read = () =>
          readAp10k(root, { annotationFile: "annotations/a.json", pairSource: "coco" });
        await runReaderContract(st, "COCO", read, { minPairs: 2 });
      });
      await withTree(async (root) => {
        for (const split of ["test", "test_cross_species", "test_cross_family"]) {
          await runReaderContract(st, `tree ${split}`, () => readAp10k(root, { split }));
        }
      });
    },
  });
});
