/**
 * Writes a small GeoAware-SC-style AP-10K tree (as `prepare_ap10k.ipynb`
 * builds it) from the shared COCO sample, for the tree reader's tests.
 *
 * Images (`ImageAnnotation/<family>/<species>/<12-digit image id>.json`, the
 * COCO annotation merged with its image, `name` and `supercategory`):
 * - `Bovidae/antelope/000000000004.json`: the sample's antelope (right_eye unlabelled).
 * - `Bovidae/antelope/000000000005.json`: a second antelope, points moved by
 *   -100, nose unlabelled, bbox [300, 90, 200, 250] on an 800x600 image.
 * - `Bovidae/argali sheep/000000000006.json`: the antelope's points moved by
 *   +10, left_eye unlabelled, bbox [10, 20, 300, 100] on a 640x480 image.
 * - `Felidae/jaguar/000000037516.json`: the sample's jaguar.
 *
 * Pairs (`PairAnnotation/<split>/<src>-<trg>:<category>.json`):
 * - `test`: 4-5 and 5-4 (`antelope`).
 * - `test_cross_species`: 6-4 (`Bovidae`).
 * - `test_cross_family`: 37516-5 (`all`).
 *
 * @module
 */

import { join } from "node:path";
import { AP10K_ROOT } from "./_data.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** The tree's pairs by split, as pair ids. */
export const TREE_PAIRS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  test: ["000000000004-000000000005:antelope", "000000000005-000000000004:antelope"],
  test_cross_species: ["000000000006-000000000004:Bovidae"],
  test_cross_family: ["000000037516-000000000005:all"],
});

/** Where each image's annotation goes, under `ImageAnnotation/`. */
const FOLDERS: Record<string, string> = {
  "000000000004": "Bovidae/antelope",
  "000000000005": "Bovidae/antelope",
  "000000000006": "Bovidae/argali sheep",
  "000000037516": "Felidae/jaguar",
};

/** The image annotation file of an image id, relative to the root. */
export function imageJson(id: string): string {
  return `ImageAnnotation/${FOLDERS[id]}/${id}.json`;
}

/**
 * Writes the tree under `root`.
 *
 * @param root An empty folder.
 * @param pairFile Overrides a pair file's content, by `<split>/<id>`.
 */
export async function writeAp10kTree(
  root: string,
  pairFile: Record<string, unknown> = {},
): Promise<void> {
  const coco = JSON.parse(
    await Deno.readTextFile(join(AP10K_ROOT, "annotations", "test_ap10k.json")),
  );
  const category = (id: number) => coco.categories.find((c: Json) => c.id === id);
  const merged = (annotationId: number) => {
    const a = coco.annotations.find((x: Json) => x.id === annotationId);
    const c = category(a.category_id);
    const image = coco.images.find((i: Json) => i.id === a.image_id);
    return { ...a, ...image, name: c.name, supercategory: c.supercategory };
  };
  const antelope = merged(6);
  const moved = (by: number, hide: number) =>
    antelope.keypoints.map((v: number, i: number) =>
      i === 3 * hide + 2 ? 0 : i % 3 === 2 ? v : v + by
    );
  const images: Record<string, Json> = {
    "000000000004": antelope,
    "000000000005": {
      ...antelope,
      id: 5,
      image_id: 5,
      file_name: "000000000005.jpg",
      width: 800,
      height: 600,
      bbox: [300, 90, 200, 250],
      keypoints: moved(-100, 2),
    },
    "000000000006": {
      ...antelope,
      id: 6,
      image_id: 6,
      file_name: "000000000006.jpg",
      width: 640,
      height: 480,
      bbox: [10, 20, 300, 100],
      keypoints: moved(10, 0),
      name: "argali sheep",
    },
    "000000037516": merged(9284),
  };
  for (const [id, value] of Object.entries(images)) {
    const file = join(root, imageJson(id));
    await Deno.mkdir(join(file, ".."), { recursive: true });
    await Deno.writeTextFile(file, JSON.stringify(value, null, 4));
  }
  for (const [split, ids] of Object.entries(TREE_PAIRS)) {
    await Deno.mkdir(join(root, "PairAnnotation", split), { recursive: true });
    for (const id of ids) {
      const [src, trg] = id.slice(0, id.indexOf(":")).split("-");
      const value = pairFile[`${split}/${id}`] ?? {
        src_json_path: `data/ap-10k/${imageJson(src)}`,
        trg_json_path: `data/ap-10k/${imageJson(trg)}`,
      };
      const text = typeof value === "string" ? value : JSON.stringify(value, null, 4);
      await Deno.writeTextFile(join(root, "PairAnnotation", split, `${id}.json`), text);
    }
  }
}
