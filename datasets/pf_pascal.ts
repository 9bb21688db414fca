/**
 * The PF-PASCAL reader, for the official layout and NC-Net's.
 *
 * Pair lists: the official code (Visual-AI/Semantic-Correspondence,
 * `dataset/dataset.py`, metadata `pfpascal`) reads `<root>/{trn,val,test}
 * _pairs.csv` beside `PF-dataset-PASCAL/{JPEGImages,Annotations}`; NC-Net
 * keeps `image_pairs/{train,val,test}_pairs.csv` there. Both hold
 * `source_image,target_image,class` (class 1-based in PASCAL VOC order),
 * then `flip` (train, val) or, in NC-Net's test list, the keypoints
 * `XA,YA,XB,YB`: four semicolon-separated lists of the source's x, the
 * source's y, the target's x and the target's y, in original image pixels.
 * Images are `PF-dataset-PASCAL/JPEGImages/<file name>` (the official
 * loader keeps only the listed path's file name).
 *
 * Keypoints come, as in the official loader (`dataset/pfpascal.py`,
 * `load_annotations`), from the annotation files
 * `PF-dataset-PASCAL/Annotations/<class>/<name>.mat` (`kps`, N x 2 in the
 * class's keypoint order with NaN rows for missing points; `bbox`
 * `[xmin, ymin, xmax, ymax]`): cast to float32, floored, and only the rows
 * finite in both images kept. Where a pair's two files are not both present,
 * the list's inline keypoints are the fallback (the same values, already
 * without the missing rows), under the same convention.
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
 * assert.equal(slice.keypoint_source, "csv"); // no .mat files in the shared slice
 * assert.equal(slice.pairs[0].threshold, null); // nor JPEGImages
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
  checkKeypointConvention,
  checkMaxKeypoints,
  DEFAULT_MAX_KEYPOINTS,
  parseFinite,
  toKeypoints,
} from "./_keypoints.ts";
import { ImageSizes } from "./image_size.ts";
import type { Box, DatasetPair, DatasetSlice, KeypointConvention } from "./types.ts";

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

/** PF-PASCAL's pair lists: the official `trn`, and NC-Net's name for it, `train`. */
export type PfPascalSplit = "trn" | "train" | "val" | "test";

/** The folder holding `JPEGImages/` and `Annotations/`, under the root. */
export const PF_PASCAL_DATA_DIR = "PF-dataset-PASCAL";

/**
 * The pair lists looked for, in order, for a split: the official
 * root-level `<split>_pairs.csv`, then NC-Net's `image_pairs/`; `trn` and
 * `train` name the same list.
 *
 * @param split The split.
 * @returns Candidate files relative to the root.
 *
 * @example Usage
 * ```ts
 * import { pfPascalPairFiles } from "./pf_pascal.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(pfPascalPairFiles("test"), ["test_pairs.csv", "image_pairs/test_pairs.csv"]);
 * assert.equal(pfPascalPairFiles("train")[0], "trn_pairs.csv");
 * ```
 */
export function pfPascalPairFiles(split: PfPascalSplit): string[] {
  const names = split === "trn" || split === "train" ? ["trn", "train"] : [split];
  return [
    ...names.map((n) => `${n}_pairs.csv`),
    ...names.map((n) => `image_pairs/${n}_pairs.csv`),
  ];
}

/** Options of {@linkcode readPfPascal}. */
export interface ReadPfPascalOptions {
  /**
   * The pair list (see {@linkcode pfPascalPairFiles}).
   *
   * @default {"test"}
   */
  split?: PfPascalSplit;
  /**
   * How stored coordinates become keypoints: `"floor"` as the official
   * loader (`.float().floor()`), `"raw"`, or `"zero-based"` (minus 1).
   *
   * @default {"floor"}
   */
  keypoints?: KeypointConvention;
  /**
   * The most keypoints kept per pair (the first ones), as in the official loader.
   *
   * @default {20}
   */
  maxKeypoints?: number;
  /**
   * The `.mat` annotation files (see {@linkcode pfPascalAnnotationFile}):
   * `"auto"` reads those present (a pair whose files are not both there
   * falls back to the list's inline keypoints, or has none; counted in
   * `missing_annotations`), `"require"` fails on a missing one, `"skip"`
   * reads none (only inline keypoints).
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
  /**
   * Where keypoints came from: the `.mat` files, the list itself, both
   * (`mixed`: some pairs fell back to the list), or nowhere.
   */
  keypoint_source: "mat" | "csv" | "mixed" | "none";
  /** Distinct `.mat` annotation files looked for and not found (`annotations: "auto"`). */
  missing_annotations: number;
}

/** One PF-PASCAL annotation file: keypoint rows and the object box. */
interface Annotation {
  /** Per keypoint row: x, y as stored (NaN when not annotated). */
  points: [number, number][];
  /** The object box, when the file has one. */
  bbox?: Box;
}

/** Splits `a/b/name.jpg` into its file name and stem. */
function fileName(rel: string): { name: string; stem: string } {
  const name = rel.split(/[\\/]/).pop()!;
  const dot = name.lastIndexOf(".");
  return { name, stem: dot > 0 ? name.slice(0, dot) : name };
}

/**
 * Where PF-PASCAL keeps an image's annotation file, as the official loader
 * finds it: `PF-dataset-PASCAL/Annotations/<class>/<stem>.mat`, from the
 * listed image's file name.
 *
 * @param image The image path as the pair list gives it.
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
  return `${PF_PASCAL_DATA_DIR}/Annotations/${category}/${fileName(image).stem}.mat`;
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
  const points: [number, number][] = [];
  // Column-major: all x, then all y.
  for (let i = 0; i < n; i++) points.push([kps.data[i], kps.data[n + i]]);
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

/** A keypoint row the official loader keeps: finite after the cast to float32. */
function finite(p: [number, number]): boolean {
  return Number.isFinite(Math.fround(p[0])) && Number.isFinite(Math.fround(p[1]));
}

/**
 * Reads the pairs of one PF-PASCAL pair list, in file order.
 *
 * Pair ids are `<class>/<source stem>-<target stem>`, with `#2`, `#3`... for
 * repeats of the same pair in one list (the train list repeats pairs).
 * Keypoints come from the `.mat` files where both of a pair's are present
 * (the rows finite in both images, in the class's order, with their row
 * indices as `keypoint_ids` and the files' boxes as
 * `source_bbox`/`target_bbox`), else from the list's inline columns; then
 * the convention and the cap. On the train and val lists pairs carry `flip`.
 *
 * @param root The folder or base URL holding the pair lists and
 * `PF-dataset-PASCAL/` (see `datasetRoot("pfpascal", env)`), or its open
 * data source.
 * @param options Split, keypoint convention and cap, annotation files.
 * @returns The pairs and how they were read.
 * @throws {DatasetNotFoundError} When no pair list of the split exists, or
 * an annotation file is missing with `annotations: "require"`.
 * @throws {DatasetMalformedError} When the list cannot be parsed: unknown
 * columns, a class outside 1..20, a coordinate that is not a number, lists
 * of different lengths; or an image on disk has a malformed header; or an
 * annotation file has no `kps` of N x 2, or a pair's two files have
 * different numbers of rows.
 * @throws {DatasetUnsafePathError} When the list names a path outside the root.
 * @throws {RangeError} When an option is not valid.
 *
 * @example Usage
 * ```ts
 * import { readPfPascal } from "./pf_pascal.ts";
 * import assert from "node:assert/strict";
 *
 * const slice = await readPfPascal("../shared/data/pf-pascal", { split: "val" });
 * assert.equal(slice.pair_file, "image_pairs/val_pairs.csv");
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
  const keypoints = options.keypoints ?? "floor";
  const maxKeypoints = options.maxKeypoints ?? DEFAULT_MAX_KEYPOINTS;
  checkMaxKeypoints(maxKeypoints);
  checkKeypointConvention(keypoints);
  if (!["trn", "train", "val", "test"].includes(split)) {
    throw new RangeError(
      `Cannot read PF-PASCAL: split must be trn (or train), val or test, got "${split}"`,
    );
  }
  if (!["auto", "require", "skip"].includes(annotations)) {
    throw new RangeError(
      `Cannot read PF-PASCAL: annotations must be auto, require or skip, got "${annotations}"`,
    );
  }
  const candidates = pfPascalPairFiles(split);
  let pairFile: string | undefined;
  for (const file of candidates) {
    if (await source.isFile(file)) {
      pairFile = file;
      break;
    }
  }
  if (pairFile === undefined) {
    throw new DatasetNotFoundError(
      `Cannot read PF-PASCAL split ${split} under the dataset root: none of ${
        candidates.join(", ")
      } exists`,
      { path: source.locate(candidates[0]) },
    );
  }
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

  const repeats = new Map<string, number>();
  const pairs: DatasetPair[] = [];
  /** Per pair: the inline keypoint rows (source, target), as stored. */
  const inline: [number, number][][][] = [];
  /** Per pair: its two annotation files, relative to the root. */
  const annotationFiles: [string, string][] = [];
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    const line = `line ${r + 1}`;
    if (row.length !== header.length) {
      throw bad(`${line} has ${row.length} columns, the header ${header.length}`);
    }
    const from = `PF-PASCAL pair list ${path} ${line}`;
    const [a, b] = [row[src], row[trg]].map((listed) => {
      // The official loader joins the listed file name to JPEGImages/.
      const rel = `${PF_PASCAL_DATA_DIR}/JPEGImages/${fileName(listed).name}`;
      source.locate(rel, from);
      return rel;
    });
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
    const rowsOf = (xs: number[], ys: number[]) => xs.map((x, i): [number, number] => [x, ys[i]]);
    inline.push([rowsOf(lists[0], lists[1]), rowsOf(lists[2], lists[3])]);
    let pairId = `${category}/${fileName(a).stem}-${fileName(b).stem}`;
    const seen = (repeats.get(pairId) ?? 0) + 1;
    repeats.set(pairId, seen);
    if (seen > 1) pairId += `#${seen}`;
    const pair: DatasetPair = {
      pair_id: pairId,
      category,
      source: a,
      target: b,
      source_kps: new Float32Array(0),
      target_kps: new Float32Array(0),
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
    const files: [string, string] = [
      pfPascalAnnotationFile(a, category),
      pfPascalAnnotationFile(b, category),
    ];
    for (const file of files) source.locate(file, from);
    annotationFiles.push(files);
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
  const from = { mat: 0, csv: 0 };
  await allInOrder(pairs, async (pair, i) => {
    pair.source_size = await sizes.get(pair.source);
    pair.target_size = await sizes.get(pair.target);
    const t = pair.target_size;
    pair.threshold = t === null ? null : Math.max(t.width, t.height);
    const [a, b] = annotations === "skip"
      ? [null, null]
      : await Promise.all(annotationFiles[i].map(annotation));
    let kept: [number, number][][];
    if (a !== null && b !== null) {
      if (a.points.length !== b.points.length) {
        throw new DatasetMalformedError(
          `Cannot read PF-PASCAL pair ${pair.pair_id}: ${
            annotationFiles[i][0]
          } has ${a.points.length} keypoint rows, ${annotationFiles[i][1]} ${b.points.length}`,
          { path: source.locate(annotationFiles[i][1]) },
        );
      }
      const common = a.points.flatMap((p, k) => finite(p) && finite(b.points[k]) ? [k] : []);
      kept = [common.map((k) => a.points[k]), common.map((k) => b.points[k])];
      pair.keypoint_ids = common.slice(0, maxKeypoints).map(String);
      if (a.bbox) pair.source_bbox = a.bbox;
      if (b.bbox) pair.target_bbox = b.bbox;
      from.mat++;
    } else {
      kept = inline[i];
      if (kept[0].length) from.csv++;
    }
    pair.source_kps = toKeypoints(kept[0].flat(), keypoints, maxKeypoints);
    pair.target_kps = toKeypoints(kept[1].flat(), keypoints, maxKeypoints);
  });
  let missingAnnotations = 0;
  for (const result of read.values()) if (await result === null) missingAnnotations++;

  return {
    dataset: "pfpascal",
    root: source.root,
    split,
    pair_source: "csv",
    pair_file: pairFile,
    keypoints,
    max_keypoints: maxKeypoints,
    threshold_base: "img",
    missing_images: await sizes.missing(),
    keypoint_source: from.mat && from.csv ? "mixed" : from.mat ? "mat" : from.csv ? "csv" : "none",
    missing_annotations: missingAnnotations,
    pairs,
  };
}
