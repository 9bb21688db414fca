/**
 * The PF-PASCAL reader, for the NC-Net pair lists.
 *
 * `image_pairs/{train,val,test}_pairs.csv` hold `source_image,target_image,
 * class` (class 1-based in PASCAL VOC order), then `flip` (train, val) or the
 * keypoints `XA,YA,XB,YB` (test): four semicolon-separated lists of the
 * source's x, the source's y, the target's x and the target's y, in original
 * image pixels. Image paths (`PF-dataset-PASCAL/JPEGImages/<name>.jpg`) are
 * relative to the root.
 *
 * The PCK threshold is max(H, W) of the target image (`img`), which needs the
 * image: sizes are read from the JPEG headers when the images are on disk,
 * and are `null` otherwise, and so is the pair's `threshold` (a PCK
 * accumulator then counts the pair as skipped, `no_threshold`).
 * `missing_images` says how many images were not found.
 *
 * @example Usage
 * ```ts
 * import { readPfPascal } from "./pf_pascal.ts";
 * import assert from "node:assert/strict";
 *
 * const slice = await readPfPascal("../shared/data/pf-pascal");
 * assert.equal(slice.pairs.length, 163);
 * assert.equal(slice.pairs[0].category, "aeroplane");
 * assert.equal(slice.pairs[0].threshold, null); // JPEGImages are not in the shared slice
 * ```
 *
 * @module
 */

import { join } from "node:path";
import { DatasetMalformedError } from "./errors.ts";
import { insideRoot, readText } from "./_files.ts";
import { parseCsv } from "./_csv.ts";
import {
  checkMaxKeypoints,
  DEFAULT_MAX_KEYPOINTS,
  parseFinite,
  toKeypoints,
} from "./_keypoints.ts";
import { ImageSizes } from "./image_size.ts";
import type { DatasetPair, DatasetSlice } from "./types.ts";

/** The 20 PASCAL VOC classes; PF-PASCAL's class k is `VOC_CLASSES[k - 1]`. */
export const VOC_CLASSES: readonly string[] = Object.freeze([
  "aeroplane",
  "bicycle",
  "bird",
  "boat",
  "bottle",
  "bus",
  "car",
  "cat",
  "chair",
  "cow",
  "diningtable",
  "dog",
  "horse",
  "motorbike",
  "person",
  "pottedplant",
  "sheep",
  "sofa",
  "train",
  "tvmonitor",
]);

/** PF-PASCAL's pair lists. */
export type PfPascalSplit = "train" | "val" | "test";

/** Options of {@linkcode readPfPascal}. */
export interface ReadPfPascalOptions {
  /**
   * The pair list, `image_pairs/<split>_pairs.csv`. Only `test` carries keypoints.
   *
   * @default {"test"}
   */
  split?: PfPascalSplit;
  /**
   * The most keypoints kept per pair (the first ones), as in the official loader.
   *
   * @default {20}
   */
  maxKeypoints?: number;
}

/** The result of {@linkcode readPfPascal}. */
export interface PfPascalSlice extends DatasetSlice {
  /** Always `"pfpascal"`. */
  dataset: "pfpascal";
  /** Always `"csv"`. */
  pair_source: "csv";
  /** Distinct images of the list that are not on disk (their size is `null`). */
  missing_images: number;
}

/** Splits `a/b/name.jpg` into its stem. */
function stem(rel: string): string {
  const file = rel.split(/[\\/]/).pop()!;
  const dot = file.lastIndexOf(".");
  return dot > 0 ? file.slice(0, dot) : file;
}

/**
 * Reads the pairs of one PF-PASCAL pair list, in file order.
 *
 * Pair ids are `<class>/<source stem>-<target stem>`, with `#2`, `#3`... for
 * repeats of the same pair in one list (the train list repeats pairs).
 * Keypoints are used as stored. On the train and val lists, pairs have no
 * keypoints and carry `flip`.
 *
 * @param root The folder holding `image_pairs/` and `PF-dataset-PASCAL/`
 * (see `datasetRoot("pfpascal", env)`).
 * @param options Split and keypoint cap.
 * @returns The pairs and how they were read.
 * @throws {DatasetNotFoundError} When the pair list is missing.
 * @throws {DatasetMalformedError} When the list cannot be parsed: unknown
 * columns, a class outside 1..20, a coordinate that is not a number, lists
 * of different lengths; or an image on disk has a malformed header.
 * @throws {DatasetUnsafePathError} When the list names a path outside the root.
 * @throws {RangeError} When an option is not valid.
 *
 * @example Usage
 * ```ts
 * import { readPfPascal } from "./pf_pascal.ts";
 * import assert from "node:assert/strict";
 *
 * const slice = await readPfPascal("../shared/data/pf-pascal", { split: "val" });
 * assert.equal(slice.pairs.length, 308);
 * assert.equal(slice.pairs[0].source_kps.length, 0);
 * assert.equal(typeof slice.pairs[0].flip, "boolean");
 * ```
 */
export async function readPfPascal(
  root: string,
  options: ReadPfPascalOptions = {},
): Promise<PfPascalSlice> {
  const split = options.split ?? "test";
  const maxKeypoints = options.maxKeypoints ?? DEFAULT_MAX_KEYPOINTS;
  checkMaxKeypoints(maxKeypoints);
  if (!["train", "val", "test"].includes(split)) {
    throw new RangeError(
      `Cannot read PF-PASCAL: split must be train, val or test, got "${split}"`,
    );
  }
  const pairFile = `image_pairs/${split}_pairs.csv`;
  const path = join(root, pairFile);
  const bad = (what: string) =>
    new DatasetMalformedError(`Cannot read PF-PASCAL pair list ${path}: ${what}`, { path });
  let rows: string[][];
  try {
    rows = parseCsv(await readText(path, "PF-PASCAL pair list"));
  } catch (cause) {
    if (!(cause instanceof SyntaxError)) throw cause;
    throw bad(cause.message);
  }
  const header = (rows[0] ?? []).map((h) => h.trim());
  const column = (name: string) => header.indexOf(name);
  const [src, trg, cls] = ["source_image", "target_image", "class"].map(column);
  const kpCols = ["XA", "YA", "XB", "YB"].map(column);
  const flipCol = column("flip");
  const hasKps = kpCols.every((c) => c >= 0);
  if (src < 0 || trg < 0 || cls < 0 || (!hasKps && kpCols.some((c) => c >= 0))) {
    throw bad(
      `header is "${
        header.join(",")
      }", expected source_image,target_image,class then XA,YA,XB,YB or flip`,
    );
  }

  const sizes = new ImageSizes(root, path);
  const repeats = new Map<string, number>();
  const pairs: DatasetPair[] = [];
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    const line = `line ${r + 1}`;
    if (row.length !== header.length) {
      throw bad(`${line} has ${row.length} columns, the header ${header.length}`);
    }
    const from = `PF-PASCAL pair list ${path} ${line}`;
    const source = row[src].replaceAll("\\", "/");
    const target = row[trg].replaceAll("\\", "/");
    insideRoot(root, source, from);
    insideRoot(root, target, from);
    const classId = Number(row[cls]);
    if (!Number.isInteger(classId) || classId < 1 || classId > VOC_CLASSES.length) {
      throw bad(`${line} has class "${row[cls]}", expected 1..${VOC_CLASSES.length}`);
    }
    const category = VOC_CLASSES[classId - 1];
    const lists = hasKps
      ? kpCols.map((c) =>
        row[c].split(";").map((v) => {
          const n = parseFinite(v);
          if (n === null) throw bad(`${line} has a coordinate that is not a number: "${v}"`);
          return n;
        })
      )
      : [[], [], [], []];
    if (lists.some((l) => l.length !== lists[0].length)) {
      throw bad(
        `${line} has XA, YA, XB, YB lists of lengths ${lists.map((l) => l.length).join(", ")}`,
      );
    }
    const interleave = (xs: number[], ys: number[]) => xs.flatMap((x, i) => [x, ys[i]]);
    let pairId = `${category}/${stem(source)}-${stem(target)}`;
    const seen = (repeats.get(pairId) ?? 0) + 1;
    repeats.set(pairId, seen);
    if (seen > 1) pairId += `#${seen}`;
    const targetSize = await sizes.get(target);
    const pair: DatasetPair = {
      pair_id: pairId,
      category,
      source,
      target,
      source_kps: toKeypoints(interleave(lists[0], lists[1]), "raw", maxKeypoints),
      target_kps: toKeypoints(interleave(lists[2], lists[3]), "raw", maxKeypoints),
      source_size: await sizes.get(source),
      target_size: targetSize,
      threshold_base: "img",
      threshold: targetSize === null ? null : Math.max(targetSize.width, targetSize.height),
    };
    if (flipCol >= 0) {
      if (row[flipCol] !== "0" && row[flipCol] !== "1") {
        throw bad(`${line} has flip "${row[flipCol]}", expected 0 or 1`);
      }
      pair.flip = row[flipCol] === "1";
    }
    pairs.push(pair);
  }

  return {
    dataset: "pfpascal",
    root,
    split,
    pair_source: "csv",
    pair_file: pairFile,
    keypoints: "raw",
    max_keypoints: maxKeypoints,
    threshold_base: "img",
    missing_images: await sizes.missing(),
    pairs,
  };
}
