/**
 * The AP-10K reader, for its COCO-style annotation files and for the
 * SPair-like tree GeoAware-SC rebuilds from them.
 *
 * AP-10K (Yu et al.) annotates animals of 54 species (`categories`, with the
 * family as `supercategory`) with 17 keypoints `[x, y, v]` (v > 0: labelled)
 * and a COCO box `[x, y, w, h]`. The PCK threshold is max(w, h) of the
 * target box (`bbox`). Two layouts are read:
 *
 * - `coco`: an annotation file (`annotations/ap10k-<split>-split1.json`) and
 *   images `data/<file_name>`. Pairs are built as GeoAware-SC's
 *   intra-species test does: every ordered pair of annotations of the same
 *   species on different images, keeping the keypoints labelled in both.
 * - `tree`: GeoAware-SC's `prepare_ap10k.ipynb` layout, one json per image in
 *   `ImageAnnotation/<family>/<species>/<image id>.json` (the COCO
 *   annotation merged with its image and `name`/`supercategory`), images in
 *   `JPEGImages/<family>/<species>/<image id>.jpg`, and one json per pair in
 *   `PairAnnotation/<split>/<src id>-<trg id>:<category>.json` holding
 *   `src_json_path` and `trg_json_path`. The test sets are `test`
 *   (intra-species, category = species), `test_cross_species` (category =
 *   family) and `test_cross_family` (category `all`); `trn`, `val`,
 *   `val_cross_species` and `val_cross_family` are read the same way.
 *   Only the keypoints labelled in both images are kept.
 *
 * @example Usage
 * ```ts
 * import { readAp10k } from "./ap10k.ts";
 * import assert from "node:assert/strict";
 *
 * // The shared sample has two animals of different species: no pair.
 * const slice = await readAp10k("../shared/data/ap-10k", {
 *   annotationFile: "annotations/test_ap10k.json",
 * });
 * assert.equal(slice.pair_source, "coco");
 * assert.equal(slice.annotations, 2);
 * assert.equal(slice.pairs.length, 0);
 * ```
 *
 * @module
 */

import { DatasetMalformedError, DatasetNotFoundError } from "../errors/mod.ts";
import { type DataEntry, type DataSource, openDataSource } from "./data_source.ts";
import { allInOrder } from "./_all_in_order.ts";
import { JsonFields } from "./_json.ts";
import { boxSize, checkMaxKeypoints, DEFAULT_MAX_KEYPOINTS, toKeypoints } from "./_keypoints.ts";
import type { Box, DatasetPair, DatasetSlice, ImageSize } from "./types.ts";

/** The default annotation file: the official test file of split 1. */
export const AP10K_DEFAULT_ANNOTATION_FILE = "annotations/ap10k-test-split1.json";

/** AP-10K's 17 keypoints, in stored order. */
export const AP10K_KEYPOINTS: readonly string[] = Object.freeze([
  "left_eye",
  "right_eye",
  "nose",
  "neck",
  "root_of_tail",
  "left_shoulder",
  "left_elbow",
  "left_front_paw",
  "right_shoulder",
  "right_elbow",
  "right_front_paw",
  "left_hip",
  "left_knee",
  "left_back_paw",
  "right_hip",
  "right_knee",
  "right_back_paw",
]);

/** GeoAware-SC's pair sets of the tree layout: its three test sets first. */
export const AP10K_TREE_SPLITS: readonly string[] = Object.freeze([
  "test",
  "test_cross_species",
  "test_cross_family",
  "trn",
  "val",
  "val_cross_species",
  "val_cross_family",
]);

/**
 * The pair list of a tree split, relative to the root: pair ids (the pair
 * files' names without `.json`), one per line, as SPair-71k's `Layout/`
 * files. GeoAware-SC writes none (it globs the folder); a root given as a
 * URL needs it, since folders cannot be listed there.
 *
 * @param split The split, e.g. `test_cross_family`.
 * @returns `Layout/<split>.txt`.
 *
 * @example Usage
 * ```ts
 * import { ap10kPairList } from "./ap10k.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ap10kPairList("test_cross_species"), "Layout/test_cross_species.txt");
 * ```
 */
export function ap10kPairList(split: string): string {
  return `Layout/${split}.txt`;
}

/** Options of {@linkcode readAp10k}. */
export interface ReadAp10kOptions {
  /**
   * Which layout to read: `"coco"` (an annotation file), `"tree"`
   * (GeoAware-SC's `PairAnnotation/` tree) or `"auto"`: the annotation file
   * when `annotationFile` is given, else the tree when the split's pair list
   * {@linkcode ap10kPairList} or (local roots) its `PairAnnotation/<split>/`
   * folder exists, else the split's COCO file.
   *
   * @default {"auto"}
   */
  format?: "auto" | "coco" | "tree";
  /**
   * The split: a tree folder under `PairAnnotation/` (see
   * {@linkcode AP10K_TREE_SPLITS}), or for COCO `train`, `val` or `test`
   * (`annotations/ap10k-<split>-split1.json`, else `annotations/<split>_ap10k.json`).
   *
   * @default {"test"}
   */
  split?: string;
  /**
   * COCO only: the annotation file, relative to the root; overrides `split`.
   *
   * @default {"annotations/ap10k-test-split1.json"}
   */
  annotationFile?: string;
  /**
   * The most keypoints kept per pair (the first common ones).
   *
   * @default {20}
   */
  maxKeypoints?: number;
  /**
   * Image ids to leave out (e.g. GeoAware-SC's `ap-10k_is_crowd.txt`): their
   * annotations (COCO) or the pairs showing them (tree).
   */
  excludeImageIds?: Iterable<number>;
}

/** The result of {@linkcode readAp10k}. */
export interface Ap10kSlice extends DatasetSlice {
  /** Always `"ap10k"`. */
  dataset: "ap10k";
  /** `"coco"`: pairs built from an annotation file; `"tree"`: GeoAware-SC's pair files. */
  pair_source: "coco" | "tree";
  /**
   * The split asked for; with an explicit `annotationFile`, the file's name
   * without `.json` (e.g. `ap10k-test-split1`).
   */
  split: string;
  /** Animal annotations used: not crowd, not excluded (COCO); image files read (tree). */
  annotations: number;
}

interface Animal {
  id: number;
  imageId: number;
  species: string;
  image: string;
  size: ImageSize;
  box: Box;
  /** Per keypoint: x, y, labelled. */
  kps: { x: number; y: number; labelled: boolean }[];
  names: string[];
}

/** Options of the two layouts, resolved. */
interface Resolved {
  maxKeypoints: number;
  excluded: Set<number>;
}

/**
 * Reads AP-10K pairs, from an annotation file or from GeoAware-SC's tree.
 *
 * COCO: pairs are sorted by species name, then source annotation id, then
 * target annotation id. Crowd annotations (`iscrowd` 1) are left out. Image
 * sizes come from the file's `images`, so images need not be on disk.
 *
 * Tree: pairs are in pair-list order, or sorted by file name (code units)
 * when the folder is listed, as GeoAware-SC's sorted glob; each pair's
 * `category` is the name after `:` in its id. Image annotations are read
 * once each, concurrently; `src_json_path`/`trg_json_path` are taken from
 * their `ImageAnnotation/` segment on (GeoAware-SC writes them relative to
 * its own working folder, `data/ap-10k/ImageAnnotation/...`).
 *
 * Both: keypoints are used as stored; a pair with no keypoint labelled in
 * both is kept with empty keypoints (PCK skips and counts it).
 *
 * @param root The folder or base URL holding `annotations/` and `data/`, or
 * `ImageAnnotation/`, `PairAnnotation/` and `JPEGImages/` (see
 * `datasetRoot("ap10k", env)`), or its open data source.
 * @param options Layout, split, annotation file, keypoint cap and excluded images.
 * @returns The pairs and how they were read.
 * @throws {DatasetNotFoundError} When the annotation file, the split (neither
 * tree nor COCO file), a pair file or an image annotation is missing.
 * @throws {DatasetMalformedError} When a file is not valid JSON, lacks a
 * field, has a keypoint list that does not match its category or its pair,
 * refers to an unknown image or category, or a pair list repeats a pair.
 * @throws {DatasetUnsafePathError} When an option, an image file name or a
 * pair file names a path outside the root.
 * @throws {RangeError} When an option is not valid.
 *
 * @example Usage
 * ```ts
 * import { readAp10k } from "./ap10k.ts";
 * import assert from "node:assert/strict";
 *
 * // No GeoAware-SC tree in the shared sample: `test` falls back to its COCO file.
 * const slice = await readAp10k("../shared/data/ap-10k", { split: "test" });
 * assert.equal(slice.pair_source, "coco");
 * assert.equal(slice.pair_file, "annotations/test_ap10k.json");
 * assert.equal(slice.threshold_base, "bbox");
 * ```
 */
export async function readAp10k(
  root: string | DataSource,
  options: ReadAp10kOptions = {},
): Promise<Ap10kSlice> {
  const source = openDataSource(root);
  const format = options.format ?? "auto";
  const split = options.split ?? "test";
  const maxKeypoints = options.maxKeypoints ?? DEFAULT_MAX_KEYPOINTS;
  checkMaxKeypoints(maxKeypoints);
  if (!["auto", "coco", "tree"].includes(format)) {
    throw new RangeError(`Cannot read AP-10K: format must be auto, coco or tree, got "${format}"`);
  }
  if (!/^[A-Za-z0-9_-]+$/.test(split)) {
    throw new RangeError(
      `Cannot read AP-10K: split must be letters, digits, _ or -, got "${split}"`,
    );
  }
  if (format === "tree" && options.annotationFile !== undefined) {
    throw new RangeError("Cannot read AP-10K: annotationFile applies to the coco format only");
  }
  const resolved = { maxKeypoints, excluded: new Set(options.excludeImageIds ?? []) };

  if (options.annotationFile !== undefined) {
    const file = options.annotationFile;
    const stem = file.split(/[\\/]/).pop()!.replace(/\.json$/, "");
    return await readCoco(source, file, stem, resolved);
  }
  if (format !== "coco") {
    const list = ap10kPairList(split);
    if (await source.isFile(list)) return await readTree(source, split, list, resolved);
    const folder = `PairAnnotation/${split}`;
    let entries: DataEntry[] | null = null;
    if (!source.remote) {
      try {
        entries = await source.listDir(folder, "AP-10K pair folder");
      } catch (e) {
        if (!(e instanceof DatasetNotFoundError)) throw e;
      }
    }
    if (entries !== null) return await readTree(source, split, entries, resolved);
    if (format === "tree") {
      throw new DatasetNotFoundError(
        `Cannot read AP-10K split ${split} under ${source.root}: ${
          source.remote
            ? `a root given as a URL cannot list ${folder}/, so it needs the pair list ${list} (pair ids, one per line)`
            : `neither ${list} nor ${folder}/ exists`
        }`,
        { path: source.locate(list) },
      );
    }
  }
  const candidates = [`annotations/ap10k-${split}-split1.json`, `annotations/${split}_ap10k.json`];
  for (const file of candidates) {
    if (await source.isFile(file)) return await readCoco(source, file, split, resolved);
  }
  const tree = format === "coco"
    ? ""
    : ` nor GeoAware-SC's pair list ${ap10kPairList(split)}${
      source.remote
        ? " (a root given as a URL cannot list PairAnnotation/, so the list is needed)"
        : ` or folder PairAnnotation/${split}/`
    }`;
  throw new DatasetNotFoundError(
    `Cannot read AP-10K split ${split} under ${source.root}: found neither a COCO annotation file (${
      candidates.join(", ")
    })${tree}`,
    { path: source.locate(candidates[0]) },
  );
}

/** Reads a COCO-style annotation file and builds its intra-species pairs. */
async function readCoco(
  source: DataSource,
  annotationFile: string,
  split: string,
  { maxKeypoints, excluded }: Resolved,
): Promise<Ap10kSlice> {
  const path = source.locate(annotationFile, "the annotationFile option");
  const file = new JsonFields(
    await source.readJson(annotationFile, "AP-10K annotation file"),
    path,
  );

  const images = new Map<number, { rel: string; size: ImageSize }>();
  for (const [i, value] of file.array("images").entries()) {
    const f = new JsonFields(value, path, `image ${i}`);
    const rel = `data/${f.string("file_name")}`;
    source.locate(rel, path);
    const size = { width: f.number("width"), height: f.number("height") };
    if (!(size.width > 0 && size.height > 0)) throw f.error("has a size that is not positive");
    const id = f.number("id");
    if (images.has(id)) throw f.error(`repeats image id ${id}`);
    images.set(id, { rel, size });
  }
  const categories = new Map<number, { name: string; keypoints: string[] }>();
  for (const [i, value] of file.array("categories").entries()) {
    const f = new JsonFields(value, path, `category ${i}`);
    const keypoints = f.array("keypoints");
    if (!keypoints.every((k) => typeof k === "string")) {
      throw f.error('field "keypoints" is not a list of names');
    }
    categories.set(f.number("id"), { name: f.string("name"), keypoints: keypoints as string[] });
  }

  const animals: Animal[] = [];
  const annotationIds = new Set<number>();
  for (const [i, value] of file.array("annotations").entries()) {
    const f = new JsonFields(value, path, `annotation ${i}`);
    const imageId = f.number("image_id");
    const image = images.get(imageId);
    if (image === undefined) throw f.error(`refers to unknown image ${imageId}`);
    const categoryId = f.number("category_id");
    const category = categories.get(categoryId);
    if (category === undefined) throw f.error(`refers to unknown category ${categoryId}`);
    const flat = f.numbers("keypoints", 3 * category.keypoints.length);
    const [x, y, w, h] = f.numbers("bbox", 4);
    if (!(w >= 0 && h >= 0)) throw f.error('field "bbox" has a negative size');
    const id = f.number("id");
    if (annotationIds.has(id)) throw f.error(`repeats annotation id ${id}`);
    annotationIds.add(id);
    const crowd = f.raw("iscrowd");
    if (crowd === 1 || crowd === true || excluded.has(imageId)) continue;
    const kps = category.keypoints.map((_, k) => ({
      x: flat[3 * k],
      y: flat[3 * k + 1],
      labelled: flat[3 * k + 2] > 0,
    }));
    animals.push({
      id,
      imageId,
      species: category.name,
      image: image.rel,
      size: image.size,
      box: [x, y, x + w, y + h],
      kps,
      names: category.keypoints,
    });
  }
  animals.sort((a, b) => a.species < b.species ? -1 : a.species > b.species ? 1 : a.id - b.id);

  const pairs: DatasetPair[] = [];
  for (const a of animals) {
    for (const b of animals) {
      if (a.species !== b.species || a.imageId === b.imageId) continue;
      pairs.push(visiblePair(a, b, {
        pair_id: `${a.species}/${a.id}-${b.id}`,
        category: a.species,
        maxKeypoints,
        names: a.names,
      }));
    }
  }
  return {
    dataset: "ap10k",
    root: source.root,
    split,
    pair_source: "coco",
    pair_file: annotationFile,
    keypoints: "raw",
    max_keypoints: maxKeypoints,
    threshold_base: "bbox",
    annotations: animals.length,
    pairs,
  };
}

/** One image annotation of the tree. */
interface TreeImage {
  /** Image id (`image_id`, else `id`, else the file name). */
  id: number;
  /** Image path relative to the root. */
  image: string;
  size: ImageSize;
  box: Box;
  /** Per keypoint: x, y, labelled. */
  kps: { x: number; y: number; labelled: boolean }[];
}

/** Maps GeoAware-SC's `data/ap-10k/ImageAnnotation/...` to a path from the root. */
function imageAnnotationPath(f: JsonFields, key: string): string {
  const written = f.string(key);
  const parts = written.split(/[\\/]/);
  const at = parts.lastIndexOf("ImageAnnotation");
  if (at < 0 || at === parts.length - 1 || !parts[parts.length - 1].endsWith(".json")) {
    throw f.error(`field "${key}" is "${written}", not a .json file under ImageAnnotation/`);
  }
  return parts.slice(at).join("/");
}

/** Reads one image annotation of the tree. */
async function readTreeImage(source: DataSource, rel: string, from: string): Promise<TreeImage> {
  const path = source.locate(rel, from);
  const f = new JsonFields(await source.readJson(rel, "AP-10K image annotation"), path);
  const flat = f.numbers("keypoints");
  if (flat.length === 0 || flat.length % 3 !== 0) {
    throw f.error(`field "keypoints" has ${flat.length} values, not [x, y, v] triples`);
  }
  const [x, y, w, h] = f.numbers("bbox", 4);
  if (!(w >= 0 && h >= 0)) throw f.error('field "bbox" has a negative size');
  const size = { width: f.number("width"), height: f.number("height") };
  if (!(size.width > 0 && size.height > 0)) throw f.error("has a size that is not positive");
  const stem = rel.slice(rel.lastIndexOf("/") + 1, -".json".length);
  const id = typeof f.raw("image_id") === "number"
    ? f.number("image_id")
    : typeof f.raw("id") === "number"
    ? f.number("id")
    : Number(stem);
  const image = `JPEGImages/${rel.slice("ImageAnnotation/".length, -".json".length)}.jpg`;
  source.locate(image, path);
  const kps = [];
  for (let k = 0; k < flat.length; k += 3) {
    kps.push({ x: flat[k], y: flat[k + 1], labelled: flat[k + 2] > 0 });
  }
  return { id, image, size, box: [x, y, x + w, y + h], kps };
}

/** Reads the pairs of one split of GeoAware-SC's tree. */
async function readTree(
  source: DataSource,
  split: string,
  listing: string | DataEntry[],
  { maxKeypoints, excluded }: Resolved,
): Promise<Ap10kSlice> {
  const folder = `PairAnnotation/${split}`;
  const ids: { id: string; from: string }[] = [];
  if (typeof listing === "string") {
    const listPath = source.locate(listing);
    const lines = (await source.readText(listing, "AP-10K pair list")).split(/\r?\n/);
    const seen = new Set<string>();
    for (const [i, line] of lines.entries()) {
      const id = line.trim().replace(/\.json$/, "");
      if (id === "") continue;
      if (seen.has(id)) {
        throw new DatasetMalformedError(
          `Cannot read AP-10K pair list ${listPath}: pair ${id} appears twice (line ${i + 1})`,
          { path: listPath },
        );
      }
      seen.add(id);
      ids.push({ id, from: `${listPath} line ${i + 1}` });
    }
  } else {
    const from = source.locate(folder);
    for (const entry of listing) {
      if (entry.isFile && entry.name.endsWith(".json")) {
        ids.push({ id: entry.name.slice(0, -".json".length), from });
      }
    }
  }

  const images = new Map<string, Promise<TreeImage>>();
  const imageOf = (rel: string, from: string) => {
    let image = images.get(rel);
    if (image === undefined) {
      image = readTreeImage(source, rel, from);
      images.set(rel, image);
    }
    return image;
  };
  const pairs = await allInOrder(ids, async ({ id, from }): Promise<DatasetPair | null> => {
    const rel = `${folder}/${id}.json`;
    const path = source.locate(rel, from);
    const f = new JsonFields(await source.readJson(rel, "AP-10K pair annotation"), path);
    const colon = id.lastIndexOf(":");
    if (colon <= 0 || colon === id.length - 1) {
      throw f.error(`has the id ${id}, not <source>-<target>:<category>`);
    }
    const category = id.slice(colon + 1);
    const srcRel = imageAnnotationPath(f, "src_json_path");
    const trgRel = imageAnnotationPath(f, "trg_json_path");
    const stemOf = (r: string) => r.slice(r.lastIndexOf("/") + 1, -".json".length);
    if (`${stemOf(srcRel)}-${stemOf(trgRel)}` !== id.slice(0, colon)) {
      throw f.error(
        `names images ${stemOf(srcRel)} and ${stemOf(trgRel)}, not those of its pair id ${id}`,
      );
    }
    const [a, b] = await Promise.all([imageOf(srcRel, path), imageOf(trgRel, path)]);
    if (a.kps.length !== b.kps.length) {
      throw f.error(`pairs images with ${a.kps.length} and ${b.kps.length} keypoints`);
    }
    if (excluded.has(a.id) || excluded.has(b.id)) return null;
    return visiblePair(a, b, {
      pair_id: id,
      category,
      maxKeypoints,
      names: a.kps.length === AP10K_KEYPOINTS.length ? AP10K_KEYPOINTS : null,
    });
  });
  return {
    dataset: "ap10k",
    root: source.root,
    split,
    pair_source: "tree",
    pair_file: typeof listing === "string" ? listing : null,
    keypoints: "raw",
    max_keypoints: maxKeypoints,
    threshold_base: "bbox",
    annotations: images.size,
    pairs: pairs.filter((p) => p !== null),
  };
}

/** What a pair needs of one annotated animal. */
interface AnnotatedAnimal {
  image: string;
  size: ImageSize | null;
  box: Box;
  kps: { x: number; y: number; labelled: boolean }[];
}

/**
 * A pair of two annotated animals, keeping only the keypoints labelled in
 * both (the first `maxKeypoints` of them); threshold: the target box.
 */
function visiblePair(
  a: AnnotatedAnimal,
  b: AnnotatedAnimal,
  o: {
    pair_id: string;
    category: string;
    maxKeypoints: number;
    names: readonly string[] | null;
  },
): DatasetPair {
  const common = a.kps.flatMap((p, k) => p.labelled && b.kps[k].labelled ? [k] : [])
    .slice(0, o.maxKeypoints);
  return {
    pair_id: o.pair_id,
    category: o.category,
    source: a.image,
    target: b.image,
    source_kps: toKeypoints(common.flatMap((k) => [a.kps[k].x, a.kps[k].y]), "raw", Infinity),
    target_kps: toKeypoints(common.flatMap((k) => [b.kps[k].x, b.kps[k].y]), "raw", Infinity),
    source_size: a.size,
    target_size: b.size,
    threshold_base: "bbox",
    threshold: boxSize(b.box),
    source_bbox: a.box,
    target_bbox: b.box,
    keypoint_ids: common.map((k) => o.names === null ? String(k) : o.names[k]),
  };
}
