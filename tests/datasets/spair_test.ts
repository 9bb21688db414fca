import assert from "node:assert/strict";
import { join } from "node:path";
import { readSpair } from "../../datasets/spair.ts";
import {
  DatasetError,
  DatasetMalformedError,
  DatasetNotFoundError,
  DatasetUnsafePathError,
} from "../../errors/mod.ts";
import { SPAIR_ROOT, writeStep } from "./_data.ts";
import { runReaderContract } from "./reader_contract.ts";

const FIRST = "000006-2008_002719-2008_007604:aeroplane";

Deno.test("readSpair() reads the 33 shared test pairs in layout order", async () => {
  const slice = await readSpair(SPAIR_ROOT);
  assert.equal(slice.dataset, "spair");
  assert.equal(slice.split, "test");
  assert.equal(slice.layout, "large");
  assert.equal(slice.pair_file, "Layout/large/test.txt");
  assert.equal(slice.threshold_base, "bbox");
  const layout = (await Deno.readTextFile(join(SPAIR_ROOT, "Layout", "large", "test.txt")))
    .trim().split("\n");
  assert.deepEqual(slice.pairs.map((p) => p.pair_id), layout);
  assert.equal(slice.pairs.filter((p) => p.category === "aeroplane").length, 20);
  assert.equal(slice.pairs.filter((p) => p.category === "bicycle").length, 13);

  const p = slice.pairs[0];
  assert.equal(p.pair_id, FIRST);
  assert.equal(p.source, "JPEGImages/aeroplane/2008_002719.jpg");
  assert.equal(p.target, "JPEGImages/aeroplane/2008_007604.jpg");
  assert.deepEqual(p.source_size, { width: 500, height: 333 });
  assert.deepEqual(p.target_size, { width: 333, height: 500 });
  assert.deepEqual(p.source_bbox, [210, 34, 475, 250]);
  assert.deepEqual(p.target_bbox, [1, 25, 333, 494]);
  assert.equal(p.threshold, 469); // max(333 - 1, 494 - 25)
  assert.deepEqual(Array.from(p.source_kps), [212, 153, 451, 184, 431, 160, 432, 140, 443, 116]);
  assert.deepEqual(Array.from(p.target_kps), [62, 462, 94, 178, 192, 208, 283, 215, 260, 27]);
  assert.deepEqual(p.keypoint_ids, ["0", "16", "18", "19", "23"]);
  assert.deepEqual(p.difficulty, {
    viewpoint_variation: 1,
    scale_variation: 1,
    truncation: 2,
    occlusion: 0,
    mirror: 0,
  });
});

Deno.test("readSpair() agrees with the image annotations on every pair", async () => {
  const slice = await readSpair(SPAIR_ROOT);
  const image = async (category: string, rel: string) => {
    const name = rel.split("/").pop()!.replace(/\.jpg$/, ".json");
    return JSON.parse(
      await Deno.readTextFile(join(SPAIR_ROOT, "ImageAnnotation", category, name)),
    );
  };
  for (const p of slice.pairs) {
    const src = await image(p.category, p.source);
    const trg = await image(p.category, p.target);
    assert.deepEqual(p.source_size, { width: src.image_width, height: src.image_height });
    assert.deepEqual(p.target_size, { width: trg.image_width, height: trg.image_height });
    assert.deepEqual(p.target_bbox, trg.bndbox);
    const [x0, y0, x1, y1] = trg.bndbox;
    assert.equal(p.threshold, Math.max(x1 - x0, y1 - y0));
    p.keypoint_ids!.forEach((id, i) => {
      assert.deepEqual([p.source_kps[2 * i], p.source_kps[2 * i + 1]], src.kps[id], p.pair_id);
      assert.deepEqual([p.target_kps[2 * i], p.target_kps[2 * i + 1]], trg.kps[id], p.pair_id);
    });
  }
});

Deno.test("readSpair() options", async (t) => {
  await t.step("small layout", async () => {
    const slice = await readSpair(SPAIR_ROOT, { layout: "small" });
    assert.equal(slice.pair_file, "Layout/small/test.txt");
    assert.equal(slice.pairs.length, 33);
  });
  await t.step("maxKeypoints", async () => {
    const p = (await readSpair(SPAIR_ROOT, { maxKeypoints: 2 })).pairs[0];
    assert.deepEqual(Array.from(p.source_kps), [212, 153, 451, 184]);
    assert.deepEqual(p.keypoint_ids, ["0", "16"]);
    assert.equal(p.threshold, 469);
  });
  await t.step("a split that is not here", async () => {
    await assert.rejects(() => readSpair(SPAIR_ROOT, { split: "trn" }), (e: Error) => {
      assert.ok(e instanceof DatasetNotFoundError);
      assert.equal(e.path, "Layout/large/trn.txt");
      return true;
    });
  });
  await t.step("invalid options", async () => {
    await assert.rejects(() => readSpair(SPAIR_ROOT, { split: "dev" as never }), RangeError);
    await assert.rejects(() => readSpair(SPAIR_ROOT, { layout: "huge" as never }), RangeError);
    await assert.rejects(() => readSpair(SPAIR_ROOT, { maxKeypoints: 1.5 }), RangeError);
  });
});

Deno.test("readSpair() reports malformed copies by file", async (t) => {
  const pairText = await Deno.readTextFile(
    join(SPAIR_ROOT, "PairAnnotation", "test", `${FIRST}.json`),
  );
  const pair = JSON.parse(pairText);

  /** A root with a one-line layout and that pair's annotation, as given. */
  const check = async (
    layout: string,
    annotation: string | null,
    error: typeof DatasetError,
    message: RegExp,
  ) => {
    const root = await Deno.makeTempDir({ prefix: "spair_test_" });
    try {
      await Deno.mkdir(join(root, "Layout", "large"), { recursive: true });
      await Deno.mkdir(join(root, "PairAnnotation", "test"), { recursive: true });
      await Deno.writeTextFile(join(root, "Layout", "large", "test.txt"), layout);
      const file = join(root, "PairAnnotation", "test", `${FIRST}.json`);
      if (annotation !== null) await Deno.writeTextFile(file, annotation);
      await assert.rejects(() => readSpair(root), (e: Error) => {
        assert.ok(e instanceof error, String(e));
        assert.match(e.message, message);
        return true;
      });
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  };
  const edited = (edit: (p: Record<string, unknown>) => void) => {
    const copy = structuredClone(pair);
    edit(copy);
    return JSON.stringify(copy);
  };

  await writeStep(t, "missing pair annotation", async () => {
    await check(
      `${FIRST}\n`,
      null,
      DatasetNotFoundError,
      /PairAnnotation\/test\/000006.*json: no such file/,
    );
  });
  await writeStep(t, "invalid JSON", async () => {
    await check(`${FIRST}\n`, pairText.slice(0, 50), DatasetMalformedError, /invalid JSON/);
  });
  await writeStep(t, "a pair listed twice", async () => {
    await check(
      `${FIRST}\n${FIRST}\n`,
      pairText,
      DatasetMalformedError,
      /appears twice \(line 2\)/,
    );
  });
  await writeStep(t, "category disagrees with the pair id", async () => {
    await check(
      `${FIRST}\n`,
      edited((p) => p.category = "bird"),
      DatasetMalformedError,
      /category "bird" does not match/,
    );
  });
  await writeStep(t, "missing target box", async () => {
    await check(
      `${FIRST}\n`,
      edited((p) => delete p.trg_bndbox),
      DatasetMalformedError,
      /"trg_bndbox" is not an array of 4 finite numbers/,
    );
  });
  await writeStep(t, "keypoint counts differ", async () => {
    await check(
      `${FIRST}\n`,
      edited((p) => (p.trg_kps as unknown[]).pop()),
      DatasetMalformedError,
      /5 source and 4 target keypoints/,
    );
  });
  await writeStep(t, "a keypoint that is not [x, y]", async () => {
    await check(
      `${FIRST}\n`,
      edited((p) => (p.src_kps as unknown[])[0] = [1]),
      DatasetMalformedError,
      /"src_kps" is not a list of \[x, y\] points/,
    );
  });
  await writeStep(t, "a missing difficulty flag", async () => {
    await check(
      `${FIRST}\n`,
      edited((p) => delete p.occlusion),
      DatasetMalformedError,
      /"occlusion" is not a finite number/,
    );
  });
  await writeStep(t, "an image name that leaves the root", async () => {
    await check(
      `${FIRST}\n`,
      edited((p) => p.trg_imname = "../../../x.jpg"),
      DatasetUnsafePathError,
      /`\.\.` segment/,
    );
  });
  await writeStep(t, "a pair id that leaves the root", async () => {
    await check("../../../../etc/passwd\n", null, DatasetUnsafePathError, /`\.\.` segment/);
  });
});

Deno.test("readSpair() keeps the reader contract", async (t) => {
  await runReaderContract(t, "shared test pairs", () => readSpair(SPAIR_ROOT), { minPairs: 33 });
});
