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
 * Lists without inline keypoints (`source_image,target_image,class[,flip]`)
 * take them from the PF-PASCAL annotation files
 * `PF-dataset-PASCAL/Annotations/<class>/<name>.mat` (`kps`, N x 2 in the
 * class's keypoint order with NaN rows for missing points; `bbox`
 * `[xmin, ymin, xmax, ymax]`), where present: a pair keeps the keypoints
 * annotated in both images.
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

import { DatasetMalformedError, DatasetNotFoundError } from "../errors/mod.ts";
import { type DataSource, openDataSource } from "./data_source.ts";
import { allInOrder } from "./_all_in_order.ts";
import { parseCsv } from "./_csv.ts";
import { readMatFile } from "./mat_file.ts";
import {
  checkMaxKeypoints,
  DEFAULT_MAX_KEYPOINTS,
  parseFinite,
  toKeypoints,
} from "./_keypoints.ts";
import { ImageSizes } from "./image_size.ts";
import type { Box, DatasetPair, DatasetSlice } from "./types.ts";

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
  /**
   * For lists without inline keypoints, the `.mat` annotation files (see
   * {@linkcode pfPascalAnnotationFile}): `"auto"` reads those present (a
   * pair whose file is missing has no keypoints, counted in
   * `missing_annotations`), `"require"` fails on a missing one, `"skip"`
   * reads none (pairs have no keypoints).
   *
   * @default {"auto"}
   */
  annotations?: "auto" | "require" | "skip";
}

/** The result of {@linkcode readPfPascal}. */
export interface PfPascalSlice extends DatasetSlice {
  /** Always `"pfpascal"`. */
  dataset: "pfpascal";
  /** Always `"csv"`. */
  pair_source: "csv";
  /** Distinct images of the list that are not on disk (their size is `null`). */
  missing_images: number;
  /** Where keypoints came from: the list itself, the `.mat` files, or nowhere. */
  keypoint_source: "csv" | "mat" | "none";
  /** Distinct `.mat` annotation files looked for and not found (`annotations: "auto"`). */
  missing_annotations: number;
}

/** One PF-PASCAL annotation file: keypoint rows (NaN when missing) and the object box. */
interface Annotation {
  /** Per keypoint row: x, y, or `null` when not annotated. */
  points: ([number, number] | null)[];
  /** The object box, when the file has one. */
  bbox?: Box;
}

/** Splits `a/b/name.jpg` into its stem. */
function stem(rel: string): string {
  const file = rel.split(/[\\/]/).pop()!;
  const dot = file.lastIndexOf(".");
  return dot > 0 ? file.slice(0, dot) : file;
}

/**
 * Where PF-PASCAL keeps an image's annotation file: `Annotations/<class>/`
 * beside the image's `JPEGImages/` folder, with the image's stem and `.mat`.
 *
 * @param image The image path relative to the root, as the pair list gives it.
 * @param category The VOC class name.
 * @returns The annotation file relative to the root.
 *
 * @example Usage
 * ```ts
 * import { pfPascalAnnotationFile } from "./pf_pascal.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   pfPascalAnnotationFile("PF-dataset-PASCAL/JPEGImages/2011_001407.jpg", "aeroplane"),
 *   "PF-dataset-PASCAL/Annotations/aeroplane/2011_001407.mat",
 * );
 * ```
 */
export function pfPascalAnnotationFile(image: string, category: string): string {
  const parts = image.split(/[\\/]/);
  const base = parts.slice(0, Math.max(0, parts.length - 2));
  return [...base, "Annotations", category, `${stem(image)}.mat`].join("/");
}

/** Reads `kps` (N x 2, NaN rows for missing) and `bbox` of one annotation file. */
async function readAnnotation(source: DataSource, rel: string): Promise<Annotation> {
  const path = source.locate(rel);
  const bad = (what: string, cause?: unknown) =>
    new DatasetMalformedError(`Cannot read PF-PASCAL annotation file ${path}: ${what}`, {
      path,
      cause,
    });
  const bytes = await source.readBytes(rel, "PF-PASCAL annotation file");
  let vars;
  try {
    vars = await readMatFile(bytes, { unsupported: "skip" });
  } catch (cause) {
    throw bad((cause as Error).message, cause);
  }
  const kps = vars.get("kps");
  if (kps === undefined) throw bad("no numeric variable `kps`");
  const n = kps.data.length === 0 ? 0 : kps.dims[0];
  if (kps.data.length !== 0 && (kps.dims.length !== 2 || kps.dims[1] !== 2)) {
    throw bad(`\`kps\` is ${kps.dims.join("x")}, expected Nx2`);
  }
  const points: ([number, number] | null)[] = [];
  for (let i = 0; i < n; i++) {
    const x = kps.data[i];
    const y = kps.data[n + i]; // column-major: all x, then all y
    if (Number.isNaN(x) && Number.isNaN(y)) {
      points.push(null);
    } else if (Number.isFinite(x) && Number.isFinite(y)) {
      points.push([x, y]);
    } else {
      throw bad(`\`kps\` row ${i + 1} is [${x}, ${y}], expected two numbers or two NaN`);
    }
  }
  const annotation: Annotation = { points };
  const bbox = vars.get("bbox");
  if (bbox !== undefined) {
    const [x0, y0, x1, y1] = bbox.data;
    if (bbox.data.length !== 4 || !bbox.data.every(Number.isFinite) || x1 < x0 || y1 < y0) {
      throw bad("`bbox` is not [xmin, ymin, xmax, ymax]");
    }
    annotation.bbox = [x0, y0, x1, y1];
  }
  return annotation;
}

/**
 * Reads the pairs of one PF-PASCAL pair list, in file order.
 *
 * Pair ids are `<class>/<source stem>-<target stem>`, with `#2`, `#3`... for
 * repeats of the same pair in one list (the train list repeats pairs).
 * Keypoints are used as stored. On the train and val lists, pairs carry
 * `flip` and take their keypoints from the `.mat` annotation files, where
 * present: those annotated (not NaN) in both images, in the class's order,
 * with their row indices as `keypoint_ids` and the files' boxes as
 * `source_bbox`/`target_bbox`.
 *
 * @param root The folder or base URL holding `image_pairs/` and
 * `PF-dataset-PASCAL/` (see `datasetRoot("pfpascal", env)`), or its open
 * data source.
 * @param options Split, keypoint cap and annotation files.
 * @returns The pairs and how they were read.
 * @throws {DatasetNotFoundError} When the pair list is missing, or an
 * annotation file with `annotations: "require"`.
 * @throws {DatasetMalformedError} When the list cannot be parsed: unknown
 * columns, a class outside 1..20, a coordinate that is not a number, lists
 * of different lengths; or an image on disk has a malformed header; or an
 * annotation file has no `kps` of N x 2.
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
  root: string | DataSource,
  options: ReadPfPascalOptions = {},
): Promise<PfPascalSlice> {
  const source = openDataSource(root);
  const split = options.split ?? "test";
  const annotations = options.annotations ?? "auto";
  const maxKeypoints = options.maxKeypoints ?? DEFAULT_MAX_KEYPOINTS;
  checkMaxKeypoints(maxKeypoints);
  if (!["train", "val", "test"].includes(split)) {
    throw new RangeError(
      `Cannot read PF-PASCAL: split must be train, val or test, got "${split}"`,
    );
  }
  if (!["auto", "require", "skip"].includes(annotations)) {
    throw new RangeError(
      `Cannot read PF-PASCAL: annotations must be auto, require or skip, got "${annotations}"`,
    );
  }
  const pairFile = `image_pairs/${split}_pairs.csv`;
  const path = source.locate(pairFile);
  const bad = (what: string) =>
    new DatasetMalformedError(`Cannot read PF-PASCAL pair list ${path}: ${what}`, { path });
  let rows: string[][];
  try {
    rows = parseCsv(await source.readText(pairFile, "PF-PASCAL pair list"));
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

  const fromMat = !hasKps && annotations !== "skip";
  const repeats = new Map<string, number>();
  const pairs: DatasetPair[] = [];
  /** Per pair: its two annotation files (relative to the root), when keypoints come from them. */
  const annotationFiles: [string, string][] = [];
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    const line = `line ${r + 1}`;
    if (row.length !== header.length) {
      throw bad(`${line} has ${row.length} columns, the header ${header.length}`);
    }
    const from = `PF-PASCAL pair list ${path} ${line}`;
    const sourceImage = row[src].replaceAll("\\", "/");
    const targetImage = row[trg].replaceAll("\\", "/");
    source.locate(sourceImage, from);
    source.locate(targetImage, from);
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
    let pairId = `${category}/${stem(sourceImage)}-${stem(targetImage)}`;
    const seen = (repeats.get(pairId) ?? 0) + 1;
    repeats.set(pairId, seen);
    if (seen > 1) pairId += `#${seen}`;
    const pair: DatasetPair = {
      pair_id: pairId,
      category,
      source: sourceImage,
      target: targetImage,
      source_kps: toKeypoints(interleave(lists[0], lists[1]), "raw", maxKeypoints),
      target_kps: toKeypoints(interleave(lists[2], lists[3]), "raw", maxKeypoints),
      source_size: null,
      target_size: null,
      threshold_base: "img",
      threshold: null,
    };
    if (flipCol >= 0) {
      if (row[flipCol] !== "0" && row[flipCol] !== "1") {
        throw bad(`${line} has flip "${row[flipCol]}", expected 0 or 1`);
      }
      pair.flip = row[flipCol] === "1";
    }
    if (fromMat) {
      const files: [string, string] = [
        pfPascalAnnotationFile(sourceImage, category),
        pfPascalAnnotationFile(targetImage, category),
      ];
      for (const file of files) source.locate(file, from);
      annotationFiles.push(files);
    }
    pairs.push(pair);
  }

  // Each annotation file and image header is read once, concurrently.
  const read = new Map<string, Promise<Annotation | null>>();
  const annotation = (rel: string) => {
    let result = read.get(rel);
    if (result === undefined) {
      result = readAnnotation(source, rel).catch((e) => {
        if (annotations === "auto" && e instanceof DatasetNotFoundError) return null;
        throw e;
      });
      read.set(rel, result);
    }
    return result;
  };
  const sizes = new ImageSizes(source, path);
  await allInOrder(pairs, async (pair, i) => {
    pair.source_size = await sizes.get(pair.source);
    pair.target_size = await sizes.get(pair.target);
    const t = pair.target_size;
    pair.threshold = t === null ? null : Math.max(t.width, t.height);
    if (!fromMat) return;
    const [a, b] = await Promise.all(annotationFiles[i].map(annotation));
    if (a === null || b === null) return;
    const common = a.points.flatMap((p, k) => p !== null && b.points[k] ? [k] : [])
      .slice(0, maxKeypoints);
    pair.source_kps = toKeypoints(common.flatMap((k) => a.points[k]!), "raw", Infinity);
    pair.target_kps = toKeypoints(common.flatMap((k) => b.points[k]!), "raw", Infinity);
    pair.keypoint_ids = common.map(String);
    if (a.bbox) pair.source_bbox = a.bbox;
    if (b.bbox) pair.target_bbox = b.bbox;
  });
  let missingAnnotations = 0;
  for (const result of read.values()) if (await result === null) missingAnnotations++;

  return {
    dataset: "pfpascal",
    root: source.root,
    split,
    pair_source: "csv",
    pair_file: pairFile,
    keypoints: "raw",
    max_keypoints: maxKeypoints,
    threshold_base: "img",
    missing_images: await sizes.missing(),
    keypoint_source: hasKps ? "csv" : fromMat && missingAnnotations < read.size ? "mat" : "none",
    missing_annotations: missingAnnotations,
    pairs,
  };
}
