/**
 * The AP-10K reader, for the SPair-like tree GeoAware-SC rebuilds from
 * AP-10K (the layout the official code reads) and, on request, for its
 * COCO-style annotation files.
 *
 * AP-10K (Yu et al.) annotates animals of 54 species (`categories`, with the
 * family as `supercategory`) with 17 keypoints `[x, y, v]` (v = 2: labelled
 * and visible) and a COCO box `[x, y, w, h]`. The PCK threshold is max(w, h)
 * of the target box (`bbox`). Two layouts are read:
 *
 * - `tree` (the default): GeoAware-SC's `prepare_ap10k.ipynb` layout, one json per image in
 *   `ImageAnnotation/<family>/<species>/<image id>.json` (the COCO
 *   annotation merged with its image and `name`/`supercategory`), images in
 *   `JPEGImages/<family>/<species>/<image id>.jpg`, and one json per pair in
 *   `PairAnnotation/<split>/<src id>-<trg id>:<category>.json` holding
 *   `src_json_path` and `trg_json_path`. The test sets are `test`
 *   (intra-species, category = species), `test_cross_species` (category =
 *   family) and `test_cross_family` (category `all`); `trn`, `val`,
 *   `val_cross_species` and `val_cross_family` are read the same way.
 * - `coco`: an annotation file (`annotations/ap10k-<split>-split1.json`) and
 *   images `data/<file_name>`. Pairs are built as GeoAware-SC's
 *   intra-species test does: every ordered pair of annotations of the same
 *   species on different images. Not the official protocol: only read when
 *   asked for (`pairSource: "coco"`), never as a fallback.
 *
 * As the official loader (`dataset/ap10k.py`) does by default, a pair keeps
 * the keypoints with visibility 2 in both images; categories are the 47
 * species of {@linkcode AP10K_SPECIES}, in that order, each with its pairs
 * sorted by file name; `sample` draws that many pairs per species with
 * numpy's seed 42, as `test.py --val_sample` (0, the default, keeps all).
 *
 * @example Usage
 * ```ts
 * import { readAp10k } from "./ap10k.ts";
 * import assert from "node:assert/strict";
 *
 * // The shared sample has two animals of different species: no pair.
 * const slice = await readAp10k("../shared/data/ap-10k", {
 *   pairSource: "coco",
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
import { numpyChoice } from "../core/numpy_choice.ts";
import { AP10K_SPECIES_SPLITS } from "./dataset_options.ts";
import { allInOrder } from "./_all_in_order.ts";
import { JsonFields } from "./_json.ts";
import { boxSize, checkMaxKeypoints, DEFAULT_MAX_KEYPOINTS, toKeypoints } from "./_keypoints.ts";
import type { Box, DatasetPair, DatasetSlice, ImageSize } from "./types.ts";

/** The default annotation file: the official test file of split 1. */
export const AP10K_DEFAULT_ANNOTATION_FILE = "annotations/ap10k-test-split1.json";

/**
 * The official code's 47 AP-10K species (`dataset/ap10k.py`, `self.cls`),
 * in its order: the categories of the official protocol.
 */
export const AP10K_SPECIES: readonly string[] = Object.freeze([
  "alouatta",
  "antelope",
  "beaver",
  "bison",
  "bobcat",
  "brown bear",
  "buffalo",
  "cat",
  "cheetah",
  "chimpanzee",
  "cow",
  "deer",
  "dog",
  "elephant",
  "fox",
  "giraffe",
  "gorilla",
  "hamster",
  "hippo",
  "horse",
  "jaguar",
  "leopard",
  "lion",
  "marmot",
  "monkey",
  "moose",
  "mouse",
  "noisy night monkey",
  "otter",
  "panda",
  "panther",
  "pig",
  "polar bear",
  "rabbit",
  "raccoon",
  "rat",
  "rhino",
  "sheep",
  "skunk",
  "snow leopard",
  "spider monkey",
  "squirrel",
  "tiger",
  "uakari",
  "weasel",
  "wolf",
  "zebra",
]);

/** The seed the official loader gives `np.random.seed` before sampling each species. */
export const AP10K_SAMPLE_SEED = 42;

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
   * Which layout to read: `"tree"` (GeoAware-SC's `PairAnnotation/` tree,
   * through the split's pair list {@linkcode ap10kPairList} or, for local
   * roots, its `PairAnnotation/<split>/` folder) or `"coco"` (an annotation
   * file, pairs built by this reader).
   *
   * @default {"tree"}
   */
  pairSource?: "tree" | "coco";
  /**
   * The split: a tree folder under `PairAnnotation/` (see
   * {@linkcode AP10K_TREE_SPLITS}; `train` names `trn`), or for COCO
   * `train` (or `trn`), `val` or `test` (`annotations/ap10k-<split>-split1.json`,
   * else `annotations/<split>_ap10k.json`).
   *
   * @default {"test"}
   */
  split?: string;
  /**
   * Which keypoints count: `"visible"`, visibility 2 in both images (the
   * official loader); `"labelled"`, visibility above 0 in both.
   *
   * @default {"visible"}
   */
  visibility?: "visible" | "labelled";
  /**
   * Which categories: `"official"`, the species of {@linkcode AP10K_SPECIES}
   * in its order; `"all"`, every category, by name (code units).
   *
   * @default {"official" on trn, val and test; "all" on the cross-species and cross-family sets}
   */
  species?: "official" | "all";
  /**
   * Pairs drawn per category, with replacement, as the official
   * `np.random.seed(42); np.random.choice(len(pairs), sample)`; 0 keeps all.
   * A pair drawn again gets `#2`, `#3`... after its id.
   *
   * @default {0}
   */
  sample?: number;
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
  /** Categories left out because they are not in the species list (`species: "official"`). */
  excluded_categories: string[];
}

interface Animal {
  id: number;
  imageId: number;
  species: string;
  image: string;
  size: ImageSize;
  box: Box;
  /** Per keypoint: x, y, visibility as stored. */
  kps: Keypoint[];
  names: string[];
}

/** One stored keypoint. */
interface Keypoint {
  x: number;
  y: number;
  /** The stored visibility: 0 not labelled, 1 labelled but hidden, 2 labelled and visible. */
  v: number;
}

/** Options of the two layouts, resolved. */
interface Resolved {
  maxKeypoints: number;
  excluded: Set<number>;
  visibility: "visible" | "labelled";
}

/**
 * Reads AP-10K pairs, from GeoAware-SC's tree or from an annotation file.
 *
 * Tree: each pair's `category` is the name after `:` in its id; pairs are
 * sorted by file name (code units), as the official loader's sorted glob.
 * The pair list {@linkcode ap10kPairList}, where present, names the files
 * (a root given as a URL needs it); otherwise the folder is listed. Image
 * annotations are read once each, concurrently;
 * `src_json_path`/`trg_json_path` are taken from their `ImageAnnotation/`
 * segment on (GeoAware-SC writes them relative to its own working folder,
 * `data/ap-10k/ImageAnnotation/...`).
 *
 * COCO: pairs are sorted by species name, then source annotation id, then
 * target annotation id. Crowd annotations (`iscrowd` 1) are left out. Image
 * sizes come from the file's `images`, so images need not be on disk.
 *
 * Both: keypoints are used as stored, those visible (or labelled) in both
 * images, the first `maxKeypoints`; a pair with none is kept with empty
 * keypoints (PCK skips and counts it). Then the categories: with `species:
 * "official"` those of {@linkcode AP10K_SPECIES}, in its order, others left
 * out (named in `excluded_categories`); with `"all"` every category, by
 * name. Within a category pairs keep their order, or with `sample` > 0 are
 * drawn as the official loader draws them.
 *
 * @param root The folder or base URL holding `ImageAnnotation/`,
 * `PairAnnotation/` and `JPEGImages/`, or `annotations/` and `data/` (see
 * `datasetRoot("ap10k", env)`), or its open data source.
 * @param options Layout, split, annotation file, visibility, species,
 * sampling, keypoint cap and excluded images.
 * @returns The pairs and how they were read.
 * @throws {DatasetNotFoundError} When the tree's split (or, for COCO, the
 * annotation file), a pair file or an image annotation is missing.
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
 * import { DatasetNotFoundError } from "../errors/mod.ts";
 * import assert from "node:assert/strict";
 *
 * // No GeoAware-SC tree in the shared sample: the official protocol has no pairs to read.
 * await assert.rejects(readAp10k("../shared/data/ap-10k"), DatasetNotFoundError);
 * // Pairs built from its COCO file, when asked for.
 * const slice = await readAp10k("../shared/data/ap-10k", { pairSource: "coco" });
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
  const pairSource = options.pairSource ?? "tree";
  const asked = options.split ?? "test";
  const maxKeypoints = options.maxKeypoints ?? DEFAULT_MAX_KEYPOINTS;
  const visibility = options.visibility ?? "visible";
  const split = asked === "train" ? "trn" : asked;
  // GeoAware-SC's cross sets have families or "all" as categories: no species list applies.
  const species = options.species ?? (AP10K_SPECIES_SPLITS.includes(split) ? "official" : "all");
  const sample = options.sample ?? 0;
  checkMaxKeypoints(maxKeypoints);
  if (!["coco", "tree"].includes(pairSource)) {
    throw new RangeError(
      `Cannot read AP-10K: pairSource must be tree or coco, got "${pairSource}"`,
    );
  }
  if (!["visible", "labelled"].includes(visibility)) {
    throw new RangeError(
      `Cannot read AP-10K: visibility must be visible or labelled, got "${visibility}"`,
    );
  }
  if (!["official", "all"].includes(species)) {
    throw new RangeError(`Cannot read AP-10K: species must be official or all, got "${species}"`);
  }
  if (!Number.isInteger(sample) || sample < 0) {
    throw new RangeError(`Cannot read AP-10K: sample must be an integer >= 0, got ${sample}`);
  }
  if (!/^[A-Za-z0-9_-]+$/.test(asked)) {
    throw new RangeError(
      `Cannot read AP-10K: split must be letters, digits, _ or -, got "${asked}"`,
    );
  }
  if (pairSource === "tree" && options.annotationFile !== undefined) {
    throw new RangeError("Cannot read AP-10K: annotationFile applies to pairSource coco only");
  }
  const resolved = { maxKeypoints, visibility, excluded: new Set(options.excludeImageIds ?? []) };
  const slice = pairSource === "tree"
    ? await readTreeSplit(source, split, resolved)
    : await readCocoSplit(source, asked === "trn" ? "train" : asked, options, resolved);
  return pickCategories(slice, { species, sample });
}

/** The tree's split, from its pair list or its folder; never anything else. */
async function readTreeSplit(
  source: DataSource,
  split: string,
  resolved: Resolved,
): Promise<Ap10kSlice> {
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
  throw new DatasetNotFoundError(
    `Cannot read AP-10K split ${split} under the dataset root: ${
      source.remote
        ? `a root given as a URL cannot list ${folder}/, so it needs the pair list ${list} (pair ids, one per line)`
        : `neither ${list} nor ${folder}/ exists`
    }. The official protocol reads GeoAware-SC's PairAnnotation/ tree; to build pairs from an AP-10K COCO annotation file instead, ask for pair_source "coco"`,
    { path: source.locate(list) },
  );
}

/** A COCO annotation file: the one named, or the split's. */
async function readCocoSplit(
  source: DataSource,
  split: string,
  options: ReadAp10kOptions,
  resolved: Resolved,
): Promise<Ap10kSlice> {
  if (options.annotationFile !== undefined) {
    const file = options.annotationFile;
    const stem = file.split(/[\\/]/).pop()!.replace(/\.json$/, "");
    return await readCoco(source, file, stem, resolved);
  }
  const candidates = [`annotations/ap10k-${split}-split1.json`, `annotations/${split}_ap10k.json`];
  for (const file of candidates) {
    if (await source.isFile(file)) return await readCoco(source, file, split, resolved);
  }
  throw new DatasetNotFoundError(
    `Cannot read AP-10K split ${split} under the dataset root: found no COCO annotation file (${
      candidates.join(", ")
    })`,
    { path: source.locate(candidates[0]) },
  );
}

/**
 * The categories of the protocol, in order, each with its pairs in order or
 * sampled as `np.random.seed(42); np.random.choice(n, sample)` per category.
 */
function pickCategories(
  slice: Ap10kSlice,
  options: { species: "official" | "all"; sample: number },
): Ap10kSlice {
  const byCategory = new Map<string, DatasetPair[]>();
  for (const p of slice.pairs) {
    const list = byCategory.get(p.category) ?? [];
    list.push(p);
    byCategory.set(p.category, list);
  }
  const found = [...byCategory.keys()].sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
  const order = options.species === "official" ? AP10K_SPECIES : found;
  const pairs: DatasetPair[] = [];
  for (const category of order) {
    const list = byCategory.get(category) ?? [];
    if (options.sample === 0 || list.length === 0) {
      pairs.push(...list);
      continue;
    }
    const seen = new Map<string, number>();
    for (const i of numpyChoice(list.length, options.sample, { seed: AP10K_SAMPLE_SEED })) {
      const p = list[i];
      const n = (seen.get(p.pair_id) ?? 0) + 1;
      seen.set(p.pair_id, n);
      pairs.push(n === 1 ? p : { ...p, pair_id: `${p.pair_id}#${n}` });
    }
  }
  const excluded = options.species === "official"
    ? found.filter((c) => !AP10K_SPECIES.includes(c))
    : [];
  return { ...slice, pairs, excluded_categories: excluded };
}

/** Reads a COCO-style annotation file and builds its intra-species pairs. */
async function readCoco(
  source: DataSource,
  annotationFile: string,
  split: string,
  { maxKeypoints, excluded, visibility }: Resolved,
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
      v: flat[3 * k + 2],
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
        visibility,
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
    excluded_categories: [],
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
  /** Per keypoint: x, y, visibility. */
  kps: Keypoint[];
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
    kps.push({ x: flat[k], y: flat[k + 1], v: flat[k + 2] });
  }
  return { id, image, size, box: [x, y, x + w, y + h], kps };
}

/** Reads the pairs of one split of GeoAware-SC's tree. */
async function readTree(
  source: DataSource,
  split: string,
  listing: string | DataEntry[],
  { maxKeypoints, excluded, visibility }: Resolved,
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

  // The official loader's sorted glob: by file name, in code units.
  const name = (i: { id: string }) => `${i.id}.json`;
  ids.sort((a, b) => name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);

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
      visibility,
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
    excluded_categories: [],
    pairs: pairs.filter((p) => p !== null),
  };
}

/** What a pair needs of one annotated animal. */
interface AnnotatedAnimal {
  image: string;
  size: ImageSize | null;
  box: Box;
  kps: Keypoint[];
}

/** Whether a keypoint counts: visibility 2 (`visible`, the official rule) or above 0. */
function counts(p: Keypoint, visibility: "visible" | "labelled"): boolean {
  return visibility === "visible" ? p.v === 2 : p.v > 0;
}

/**
 * A pair of two annotated animals, keeping only the keypoints that count in
 * both (the first `maxKeypoints` of them); threshold: the target box.
 */
function visiblePair(
  a: AnnotatedAnimal,
  b: AnnotatedAnimal,
  o: {
    pair_id: string;
    category: string;
    maxKeypoints: number;
    visibility: "visible" | "labelled";
    names: readonly string[] | null;
  },
): DatasetPair {
  const common = a.kps.flatMap((p, k) =>
    counts(p, o.visibility) && counts(b.kps[k], o.visibility) ? [k] : []
  ).slice(0, o.maxKeypoints);
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
