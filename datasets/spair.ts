/**
 * The SPair-71k reader.
 *
 * SPair-71k (Min et al.) lists the pairs of each split in
 * `Layout/{large,small}/{trn,val,test}.txt` (ids like
 * `000001-2008_001546-2008_004704:aeroplane`) and annotates each in
 * `PairAnnotation/<split>/<id>.json`: `src_kps`/`trg_kps` ([x, y] integer
 * pixels, aligned), `src_bndbox`/`trg_bndbox` ([xmin, ymin, xmax, ymax]),
 * `src_imsize`/`trg_imsize` ([W, H, C]), `category`, `kps_ids` and the
 * difficulty flags `viewpoint_variation`, `scale_variation`, `truncation`,
 * `occlusion` and `mirror`. Images are `JPEGImages/<category>/<name>.jpg`.
 * The PCK threshold is max(w, h) of the target box (`bbox`).
 *
 * @example Usage
 * ```ts
 * import { readSpair } from "./spair.ts";
 * import assert from "node:assert/strict";
 *
 * const slice = await readSpair("../shared/data/spair-71k/SPair-71k");
 * assert.equal(slice.pairs.length, 33);
 * assert.equal(slice.pairs[0].target, "JPEGImages/aeroplane/2008_007604.jpg");
 * assert.equal(slice.pairs[0].threshold, 494 - 25);
 * ```
 *
 * @module
 */

import { DatasetMalformedError } from "../errors/mod.ts";
import { type DataSource, openDataSource } from "./data_source.ts";
import { allInOrder } from "./_all_in_order.ts";
import { JsonFields } from "./_json.ts";
import { boxSize, checkMaxKeypoints, DEFAULT_MAX_KEYPOINTS, toKeypoints } from "./_keypoints.ts";
import type { Box, DatasetPair, DatasetSlice, ImageSize } from "./types.ts";

/** SPair-71k's splits. */
export type SpairSplit = "trn" | "val" | "test";

/** SPair-71k's pair layouts: `large` is the standard benchmark, `small` a subset. */
export type SpairLayout = "large" | "small";

/** Options of {@linkcode readSpair}. */
export interface ReadSpairOptions {
  /**
   * The split.
   *
   * @default {"test"}
   */
  split?: SpairSplit;
  /**
   * The layout (`Layout/<layout>/<split>.txt`).
   *
   * @default {"large"}
   */
  layout?: SpairLayout;
  /**
   * The most keypoints kept per pair (the first ones), as in the official loader.
   *
   * @default {20}
   */
  maxKeypoints?: number;
}

/** The result of {@linkcode readSpair}. */
export interface SpairSlice extends DatasetSlice {
  /** Always `"spair"`. */
  dataset: "spair";
  /** Always `"layout"`: pairs come from the layout file. */
  pair_source: "layout";
  /** The layout read. */
  layout: SpairLayout;
}

function imageSize(fields: JsonFields, key: string): ImageSize {
  const [width, height] = fields.numbers(key, 3);
  if (!(width > 0 && height > 0)) {
    throw fields.error(`field "${key}" has a size that is not positive`);
  }
  return { width, height };
}

function box(fields: JsonFields, key: string): Box {
  const [x0, y0, x1, y1] = fields.numbers(key, 4);
  if (!(x1 >= x0 && y1 >= y0)) throw fields.error(`field "${key}" is not [xmin, ymin, xmax, ymax]`);
  return [x0, y0, x1, y1];
}

function points(fields: JsonFields, key: string): number[] {
  const list = fields.array(key);
  const xy: number[] = [];
  for (const p of list) {
    if (
      !Array.isArray(p) || p.length !== 2 ||
      !p.every((v) => typeof v === "number" && Number.isFinite(v))
    ) {
      throw fields.error(`field "${key}" is not a list of [x, y] points`);
    }
    xy.push(p[0], p[1]);
  }
  return xy;
}

/** Reads one pair annotation. */
async function readPair(
  source: DataSource,
  split: SpairSplit,
  id: string,
  from: string,
  maxKeypoints: number,
): Promise<DatasetPair> {
  const rel = `PairAnnotation/${split}/${id}.json`;
  const path = source.locate(rel, from);
  const f = new JsonFields(await source.readJson(rel, "SPair-71k pair annotation"), path);
  const category = f.string("category");
  const colon = id.lastIndexOf(":");
  if (colon < 0 || id.slice(colon + 1) !== category) {
    throw f.error(`category "${category}" does not match pair id ${id}`);
  }
  const filename = f.raw("filename");
  if (filename !== undefined && filename !== id) {
    throw f.error(`field "filename" is "${filename}", not the pair id ${id}`);
  }
  const srcXy = points(f, "src_kps");
  const trgXy = points(f, "trg_kps");
  if (srcXy.length !== trgXy.length) {
    throw f.error(`has ${srcXy.length / 2} source and ${trgXy.length / 2} target keypoints`);
  }
  const ids = f.array("kps_ids").map(String);
  if (ids.length !== srcXy.length / 2) {
    throw f.error(`has ${ids.length} keypoint ids for ${srcXy.length / 2} keypoints`);
  }
  const n = Math.min(ids.length, maxKeypoints);
  const targetBox = box(f, "trg_bndbox");
  const image = (key: string) => {
    const name = f.string(key);
    const imageRel = `JPEGImages/${category}/${name}`;
    source.locate(imageRel, path);
    return imageRel;
  };
  return {
    pair_id: id,
    category,
    source: image("src_imname"),
    target: image("trg_imname"),
    source_kps: toKeypoints(srcXy, "raw", n),
    target_kps: toKeypoints(trgXy, "raw", n),
    source_size: imageSize(f, "src_imsize"),
    target_size: imageSize(f, "trg_imsize"),
    threshold_base: "bbox",
    threshold: boxSize(targetBox),
    source_bbox: box(f, "src_bndbox"),
    target_bbox: targetBox,
    keypoint_ids: ids.slice(0, n),
    difficulty: {
      viewpoint_variation: f.number("viewpoint_variation"),
      scale_variation: f.number("scale_variation"),
      truncation: f.number("truncation"),
      occlusion: f.number("occlusion"),
      mirror: f.number("mirror"),
    },
  };
}

/**
 * Reads the pairs of one SPair-71k split, in the order of its layout file.
 * Keypoints are used as stored (integer pixels, as DHPF, CATs and
 * GeoAware-SC do); image sizes come from the pair annotations, so images
 * need not be on disk. Pair annotations are read concurrently (the data
 * source bounds the reads in flight).
 *
 * @param root The folder or base URL holding `Layout/`, `PairAnnotation/`
 * and `JPEGImages/` (see `datasetRoot("spair", env)`), or its open data source.
 * @param options Split, layout and keypoint cap.
 * @returns The pairs and how they were read.
 * @throws {DatasetNotFoundError} When the layout file or a pair annotation is missing.
 * @throws {DatasetMalformedError} When an annotation cannot be parsed, lacks a
 * field, or disagrees with its pair id, or the layout lists a pair twice.
 * @throws {DatasetUnsafePathError} When a pair id or image name would leave the root.
 * @throws {RangeError} When an option is not valid.
 *
 * @example Usage
 * ```ts
 * import { readSpair } from "./spair.ts";
 * import assert from "node:assert/strict";
 *
 * const slice = await readSpair("../shared/data/spair-71k/SPair-71k", { layout: "small" });
 * const pair = slice.pairs[0];
 * assert.equal(pair.pair_id, "000006-2008_002719-2008_007604:aeroplane");
 * assert.deepEqual(pair.target_size, { width: 333, height: 500 });
 * assert.deepEqual(pair.difficulty, {
 *   viewpoint_variation: 1,
 *   scale_variation: 1,
 *   truncation: 2,
 *   occlusion: 0,
 *   mirror: 0,
 * });
 * ```
 */
export async function readSpair(
  root: string | DataSource,
  options: ReadSpairOptions = {},
): Promise<SpairSlice> {
  const source = openDataSource(root);
  const split = options.split ?? "test";
  const layout = options.layout ?? "large";
  const maxKeypoints = options.maxKeypoints ?? DEFAULT_MAX_KEYPOINTS;
  checkMaxKeypoints(maxKeypoints);
  if (!["trn", "val", "test"].includes(split)) {
    throw new RangeError(`Cannot read SPair-71k: split must be trn, val or test, got "${split}"`);
  }
  if (!["large", "small"].includes(layout)) {
    throw new RangeError(`Cannot read SPair-71k: layout must be large or small, got "${layout}"`);
  }
  const layoutFile = `Layout/${layout}/${split}.txt`;
  const layoutPath = source.locate(layoutFile);
  const lines = (await source.readText(layoutFile, "SPair-71k layout")).split(/\r?\n/);
  const seen = new Set<string>();
  const listed: { id: string; line: number }[] = [];
  for (const [i, line] of lines.entries()) {
    const id = line.trim();
    if (id === "") continue;
    if (seen.has(id)) {
      throw new DatasetMalformedError(
        `Cannot read SPair-71k layout ${layoutPath}: pair ${id} appears twice (line ${i + 1})`,
        { path: layoutPath },
      );
    }
    seen.add(id);
    listed.push({ id, line: i + 1 });
  }
  const pairs = await allInOrder(
    listed,
    ({ id, line }) => readPair(source, split, id, `${layoutPath} line ${line}`, maxKeypoints),
  );
  return {
    dataset: "spair",
    root: source.root,
    split,
    pair_source: "layout",
    pair_file: layoutFile,
    layout,
    keypoints: "raw",
    max_keypoints: maxKeypoints,
    threshold_base: "bbox",
    pairs,
  };
}
