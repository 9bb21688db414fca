/**
 * The PF-WILLOW reader.
 *
 * PF-WILLOW (Ham et al., *Proposal Flow*) has 10 sub-classes of 10 images,
 * each with 10 keypoints in `PF-dataset/<class>/<name>.mat` (`pts_coord`,
 * 2 x 10: row 0 = x, row 1 = y, MATLAB 1-based floats). The test set is
 * every ordered pair within a class (900 pairs); the PCK threshold is the
 * larger side of the tight box around the target keypoints (`bbox-kp`).
 * By default keypoints are floored, as the official loader does
 * (`dataset/pfwillow.py`, `load_annotations`: `.float().floor()`), and the
 * official pair list `test_pairs.csv` is read first.
 *
 * @example Usage
 * ```ts
 * import { readPfWillow } from "./pf_willow.ts";
 * import assert from "node:assert/strict";
 *
 * const slice = await readPfWillow("../shared/data/pf-willow");
 * assert.equal(slice.pair_source, "mat");
 * assert.equal(slice.pairs.length, 540);
 * assert.equal(slice.pairs[0].pair_id, "car(G)/Cars_006a-Cars_007a");
 * assert.equal(slice.pairs[0].source, "PF-dataset/car(G)/Cars_006a.png");
 * ```
 *
 * @module
 */

import { DatasetMalformedError, DatasetNotFoundError } from "../errors/mod.ts";
import { type DataSource, openDataSource } from "./data_source.ts";
import { allInOrder } from "./_all_in_order.ts";
import { parseCsv } from "./_csv.ts";
import {
  checkKeypointConvention,
  checkMaxKeypoints,
  DEFAULT_MAX_KEYPOINTS,
  keypointBoxSize,
  parseFinite,
  toKeypoints,
} from "./_keypoints.ts";
import { ImageSizes } from "./image_size.ts";
import { readMatFile } from "./mat_file.ts";
import type { DatasetPair, DatasetSlice, KeypointConvention } from "./types.ts";

/** The folder of images and `.mat` files under the root. */
export const PF_WILLOW_IMAGE_DIR = "PF-dataset";

/**
 * The pair lists looked for, in this order, relative to the root: the
 * official code's `test_pairs.csv` (`dataset/dataset.py`, metadata
 * `pfwillow`), then CNNGeometric/NC-Net's `PF-dataset/test_pairs_pf.csv`.
 */
export const PF_WILLOW_PAIR_FILES: readonly string[] = Object.freeze([
  "test_pairs.csv",
  "PF-dataset/test_pairs_pf.csv",
]);

/** Keypoints per image in a PF-WILLOW pair list. */
const CSV_POINTS = 10;
const CSV_COLUMNS = 2 + 4 * CSV_POINTS;

/** Options of {@linkcode readPfWillow}. */
export interface ReadPfWillowOptions {
  /**
   * How stored coordinates become keypoints. The files hold MATLAB 1-based
   * floats: `"floor"` rounds them down as the survey's official loader
   * does (after rounding to float32, as `.float().floor()`), `"raw"` uses
   * them as stored (DHPF, CATs, CNNGeometric), `"zero-based"` subtracts 1.
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
   * Where the pairs come from: `"auto"` uses the first pair list of
   * {@linkcode PF_WILLOW_PAIR_FILES} that exists, else every ordered pair of
   * the `.mat` files; `"csv"` requires a pair list; `"mat"` ignores it.
   *
   * @default {"auto"}
   */
  pairSource?: "auto" | "csv" | "mat";
}

/** The result of {@linkcode readPfWillow}. */
export interface PfWillowSlice extends DatasetSlice {
  /** Always `"pfwillow"`. */
  dataset: "pfwillow";
  /** `"csv"` when a pair list was read, `"mat"` when pairs were built from the `.mat` files. */
  pair_source: "csv" | "mat";
}

interface Image {
  /** Path relative to the root, with `/`. */
  rel: string;
  /** Interleaved x, y as stored. */
  xy: ArrayLike<number>;
}

/** Splits `a/b/c(G)/name.png` into its folder name and stem. */
function classAndStem(rel: string): { category: string; stem: string } {
  const parts = rel.split(/[\\/]/);
  const file = parts[parts.length - 1];
  const dot = file.lastIndexOf(".");
  return {
    category: parts.length > 1 ? parts[parts.length - 2] : "",
    stem: dot > 0 ? file.slice(0, dot) : file,
  };
}

/** Reads `pts_coord` of one `.mat` file as interleaved x, y. */
async function readPoints(source: DataSource, rel: string): Promise<Float64Array> {
  const path = source.locate(rel);
  const bytes = await source.readBytes(rel, "PF-WILLOW keypoint file");
  let vars;
  try {
    vars = await readMatFile(bytes, { unsupported: "skip" });
  } catch (cause) {
    throw new DatasetMalformedError(
      `Cannot read PF-WILLOW keypoint file ${path}: ${(cause as Error).message}`,
      { path, cause },
    );
  }
  const pts = vars.get("pts_coord");
  if (pts === undefined) {
    throw new DatasetMalformedError(
      `Cannot read PF-WILLOW keypoint file ${path}: no numeric variable \`pts_coord\``,
      { path },
    );
  }
  if (pts.dims.length !== 2 || pts.dims[0] !== 2) {
    throw new DatasetMalformedError(
      `Cannot read PF-WILLOW keypoint file ${path}: \`pts_coord\` is ${
        pts.dims.join("x")
      }, expected 2xN`,
      { path },
    );
  }
  if (!pts.data.every(Number.isFinite)) {
    throw new DatasetMalformedError(
      `Cannot read PF-WILLOW keypoint file ${path}: \`pts_coord\` holds a non-finite value`,
      { path },
    );
  }
  // Column-major 2xN is already x0, y0, x1, y1, ...
  return pts.data;
}

/** Lists the images of every class folder from the `.mat` files. */
async function readMatImages(source: DataSource): Promise<Map<string, Image[]>> {
  if (source.remote) {
    const list = PF_WILLOW_PAIR_FILES[0];
    throw new DatasetNotFoundError(
      `Cannot read PF-WILLOW pairs: a root given as a URL cannot list the class folders of ${PF_WILLOW_IMAGE_DIR}/, so it needs a pair list: add ${list} (image A, image B, then 10 x and 10 y of A, then 10 x and 10 y of B; ${
        PF_WILLOW_PAIR_FILES.slice(1).join(", ")
      } also works)`,
      { path: source.locate(list) },
    );
  }
  const classes = new Map<string, Image[]>();
  for (const entry of await source.listDir(PF_WILLOW_IMAGE_DIR, "PF-WILLOW image folder")) {
    if (!entry.isDirectory) continue;
    const dir = `${PF_WILLOW_IMAGE_DIR}/${entry.name}`;
    const files = (await source.listDir(dir, "PF-WILLOW class folder"))
      .filter((file) => file.isFile && file.name.endsWith(".mat"));
    classes.set(
      entry.name,
      await allInOrder(files, async (file) => ({
        rel: `${dir}/${file.name.slice(0, -4)}.png`,
        xy: await readPoints(source, `${dir}/${file.name}`),
      })),
    );
  }
  return classes;
}

/** Reads the rows of a 42-column pair list. */
async function readCsvPairs(
  source: DataSource,
  file: string,
): Promise<{ source: Image; target: Image }[]> {
  const path = source.locate(file);
  let rows: string[][];
  try {
    rows = parseCsv(await source.readText(file, "PF-WILLOW pair list"));
  } catch (cause) {
    if (!(cause instanceof SyntaxError)) throw cause;
    throw new DatasetMalformedError(
      `Cannot read PF-WILLOW pair list ${path}: ${cause.message}`,
      { path, cause },
    );
  }
  // A header row is one whose first coordinate is not a number.
  const start = rows.length > 0 && parseFinite(rows[0][2] ?? "") === null ? 1 : 0;
  const pairs: { source: Image; target: Image }[] = [];
  for (let r = start; r < rows.length; r++) {
    const row = rows[r];
    const line = `line ${r + 1}`;
    if (row.length !== CSV_COLUMNS) {
      throw new DatasetMalformedError(
        `Cannot read PF-WILLOW pair list ${path}: ${line} has ${row.length} columns, expected ${CSV_COLUMNS}`,
        { path },
      );
    }
    const values = row.slice(2).map((v, i) => {
      const n = parseFinite(v);
      if (n === null) {
        throw new DatasetMalformedError(
          `Cannot read PF-WILLOW pair list ${path}: ${line} column ${
            i + 3
          } is not a number: "${v}"`,
          { path },
        );
      }
      return n;
    });
    // Per image: 10 x values then 10 y values; interleave them.
    const interleave = (offset: number) => {
      const xy = new Float64Array(2 * CSV_POINTS);
      for (let i = 0; i < CSV_POINTS; i++) {
        xy[2 * i] = values[offset + i];
        xy[2 * i + 1] = values[offset + CSV_POINTS + i];
      }
      return xy;
    };
    const from = `PF-WILLOW pair list ${path} ${line}`;
    source.locate(row[0], from);
    source.locate(row[1], from);
    pairs.push({
      source: { rel: row[0].replaceAll("\\", "/"), xy: interleave(0) },
      target: { rel: row[1].replaceAll("\\", "/"), xy: interleave(2 * CSV_POINTS) },
    });
  }
  return pairs;
}

/**
 * Reads the PF-WILLOW test pairs.
 *
 * The pairs come from the first pair list found (`test_pairs.csv` as the
 * official code, DHPF and CATs read it, or `PF-dataset/test_pairs_pf.csv`
 * as CNNGeometric/NC-Net ship it; 42 columns: image A, image B, then 10 x
 * and 10 y of A, then 10 x and 10 y of B; paths relative to the root), in
 * its row order. Without one, they are all ordered pairs
 * (A != B) of the `.mat` files within each class folder of `PF-dataset/`,
 * sorted by class, then source name, then target name (code-unit order).
 *
 * Each pair's `threshold` is max(w, h) of the tight box around the target
 * keypoints kept, after the keypoint convention. Image sizes come from the
 * PNG headers; an image that is not on disk has size `null`.
 *
 * A root given as a URL cannot list folders, so it needs a pair list
 * (`PF-dataset/test_pairs_pf.csv`); without one the error says so.
 *
 * @param root The dataset root holding `PF-dataset/`, a folder or a base URL
 * (see `datasetRoot("pfwillow", env)`), or its open data source.
 * @param options Keypoint convention, keypoint cap and pair source.
 * @returns The pairs and how they were read.
 * @throws {DatasetNotFoundError} When `PF-dataset/` (without a pair list)
 * or a pair list required by `pairSource: "csv"` is missing, or a URL root
 * has no pair list.
 * @throws {DatasetMalformedError} When a pair list or `.mat` file cannot be
 * parsed or has the wrong shape, an image header is malformed, two rows
 * give the same pair, or a pair's images have different keypoint counts.
 * @throws {DatasetUnsafePathError} When a pair list names a path outside the root.
 * @throws {RangeError} When an option is not valid.
 *
 * @example Usage
 * ```ts
 * import { readPfWillow } from "./pf_willow.ts";
 * import assert from "node:assert/strict";
 *
 * const slice = await readPfWillow("../shared/data/pf-willow");
 * const pair = slice.pairs[0];
 * assert.equal(slice.keypoints, "floor");
 * assert.ok(pair.source_kps.every(Number.isInteger));
 * assert.equal(pair.threshold_base, "bbox-kp");
 * assert.deepEqual(pair.source_size, { width: 300, height: 200 });
 * assert.equal(pair.source_kps.length, 20);
 * ```
 */
export async function readPfWillow(
  root: string | DataSource,
  options: ReadPfWillowOptions = {},
): Promise<PfWillowSlice> {
  const source = openDataSource(root);
  const keypoints = options.keypoints ?? "floor";
  const maxKeypoints = options.maxKeypoints ?? DEFAULT_MAX_KEYPOINTS;
  const pairSource = options.pairSource ?? "auto";
  checkKeypointConvention(keypoints);
  checkMaxKeypoints(maxKeypoints);
  if (!["auto", "csv", "mat"].includes(pairSource)) {
    throw new RangeError(
      `Cannot read PF-WILLOW: pairSource must be auto, csv or mat, got "${pairSource}"`,
    );
  }
  let pairFile: string | null = null;
  if (pairSource !== "mat") {
    for (const candidate of PF_WILLOW_PAIR_FILES) {
      if (await source.isFile(candidate)) {
        pairFile = candidate;
        break;
      }
    }
    if (pairFile === null && pairSource === "csv") {
      throw new DatasetNotFoundError(
        `Cannot read PF-WILLOW pair list under the dataset root: none of ${
          PF_WILLOW_PAIR_FILES.join(", ")
        } exists`,
        { path: source.locate(PF_WILLOW_PAIR_FILES[0]) },
      );
    }
  }

  const raw: { source: Image; target: Image }[] = [];
  if (pairFile !== null) {
    raw.push(...await readCsvPairs(source, pairFile));
  } else {
    for (const images of (await readMatImages(source)).values()) {
      for (const source of images) {
        for (const target of images) {
          if (source !== target) raw.push({ source, target });
        }
      }
    }
  }

  const listedIn = source.locate(pairFile ?? PF_WILLOW_IMAGE_DIR);
  const seen = new Set<string>();
  const pairs: DatasetPair[] = [];
  for (const { source: a, target: b } of raw) {
    const from = classAndStem(a.rel);
    const to = classAndStem(b.rel);
    const pairId = `${from.category}/${from.stem}-${to.stem}`;
    if (seen.has(pairId)) {
      throw new DatasetMalformedError(
        `Cannot read PF-WILLOW pairs ${listedIn}: pair ${pairId} appears twice`,
        { path: listedIn },
      );
    }
    seen.add(pairId);
    if (a.xy.length !== b.xy.length) {
      const path = source.locate(pairFile ?? a.rel);
      throw new DatasetMalformedError(
        `Cannot read PF-WILLOW pair ${pairId}: ${a.xy.length / 2} source and ${
          b.xy.length / 2
        } target keypoints`,
        { path },
      );
    }
    const targetKps = toKeypoints(b.xy, keypoints, maxKeypoints);
    pairs.push({
      pair_id: pairId,
      category: from.category,
      source: a.rel,
      target: b.rel,
      source_kps: toKeypoints(a.xy, keypoints, maxKeypoints),
      target_kps: targetKps,
      source_size: null,
      target_size: null,
      threshold_base: "bbox-kp",
      threshold: keypointBoxSize(targetKps),
    });
  }
  const sizes = new ImageSizes(source, pairFile === null ? "PF-WILLOW" : listedIn);
  await allInOrder(pairs, async (pair) => {
    pair.source_size = await sizes.get(pair.source);
    pair.target_size = await sizes.get(pair.target);
  });

  return {
    dataset: "pfwillow",
    root: source.root,
    split: "test",
    pair_source: pairFile === null ? "mat" : "csv",
    pair_file: pairFile,
    keypoints,
    max_keypoints: maxKeypoints,
    threshold_base: "bbox-kp",
    pairs,
  };
}
