import assert from "node:assert/strict";
import { join } from "node:path";
import { readAp10k } from "../../datasets/ap10k.ts";
import {
  DatasetError,
  DatasetMalformedError,
  DatasetNotFoundError,
  DatasetUnsafePathError,
} from "../../datasets/errors.ts";
import { AP10K_ROOT, writeStep } from "./_data.ts";

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
  const slice = await readAp10k(AP10K_ROOT, { annotationFile: SAMPLE });
  assert.equal(slice.dataset, "ap10k");
  assert.equal(slice.split, "test_ap10k");
  assert.equal(slice.pair_source, "coco");
  assert.equal(slice.pair_file, SAMPLE);
  assert.equal(slice.threshold_base, "bbox");
  assert.equal(slice.annotations, 2);
  assert.deepEqual(slice.pairs, []);
});

Deno.test("readAp10k() looks for the official test file by default", async () => {
  await assert.rejects(() => readAp10k(AP10K_ROOT), (e: Error) => {
    assert.ok(e instanceof DatasetNotFoundError);
    assert.equal(e.path, join(AP10K_ROOT, "annotations", "ap10k-test-split1.json"));
    return true;
  });
});

Deno.test("readAp10k() pairs annotations of one species on keypoints labelled in both", async (t) => {
  await writeStep(t, "two antelopes", async () => {
    await withAnnotations(await twoAntelopes(), async (root) => {
      const slice = await readAp10k(root, { annotationFile: "annotations/a.json" });
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
      const capped = await readAp10k(root, { annotationFile, maxKeypoints: 3 });
      assert.deepEqual(capped.pairs[0].keypoint_ids, ["left_eye", "neck", "root_of_tail"]);
      assert.equal(capped.pairs[0].source_kps.length, 6);
      const excluded = await readAp10k(root, { annotationFile, excludeImageIds: [5] });
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
          () => readAp10k(root, { annotationFile: "annotations/a.json" }),
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
      () => readAp10k(AP10K_ROOT, { annotationFile: "../pf-pascal/x.json" }),
      DatasetUnsafePathError,
    );
    await assert.rejects(
      () => readAp10k(AP10K_ROOT, { annotationFile: "/etc/x.json" }),
      DatasetUnsafePathError,
    );
  });
});
