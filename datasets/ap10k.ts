/**
 * The AP-10K reader, for its COCO-style annotation files.
 *
 * AP-10K (Yu et al.) annotates animals of 54 species (`categories`, with the
 * family as `supercategory`) with 17 keypoints `[x, y, v]` (v > 0: labelled)
 * and a COCO box `[x, y, w, h]`; images are `data/<file_name>`. Pairs are
 * built as GeoAware-SC's intra-species test does: every ordered pair of
 * annotations of the same species on different images, keeping only the
 * keypoints labelled in both. The PCK threshold is max(w, h) of the target
 * box (`bbox`).
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
 * assert.equal(slice.annotations, 2);
 * assert.equal(slice.pairs.length, 0);
 * ```
 *
 * @module
 */

import { insideRoot, readJson } from "./_files.ts";
import { JsonFields } from "./_json.ts";
import { boxSize, checkMaxKeypoints, DEFAULT_MAX_KEYPOINTS, toKeypoints } from "./_keypoints.ts";
import type { Box, DatasetPair, DatasetSlice, ImageSize } from "./types.ts";

/** The default annotation file: the official test file of split 1. */
export const AP10K_DEFAULT_ANNOTATION_FILE = "annotations/ap10k-test-split1.json";

/** Options of {@linkcode readAp10k}. */
export interface ReadAp10kOptions {
  /**
   * The annotation file, relative to the root.
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
  /** Image ids to leave out (e.g. GeoAware-SC's `ap-10k_is_crowd.txt`). */
  excludeImageIds?: Iterable<number>;
}

/** The result of {@linkcode readAp10k}. */
export interface Ap10kSlice extends DatasetSlice {
  /** Always `"ap10k"`. */
  dataset: "ap10k";
  /** Always `"coco"`: pairs are built from a COCO-style file. */
  pair_source: "coco";
  /** The annotation file's name without `.json`, e.g. `ap10k-test-split1`. */
  split: string;
  /** Annotations used (not crowd, not excluded). */
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

/**
 * Reads an AP-10K annotation file and builds its intra-species pairs, sorted
 * by species name, then source annotation id, then target annotation id.
 * Crowd annotations (`iscrowd` 1) are left out. Image sizes come from the
 * file's `images`, so images need not be on disk. Keypoints are used as
 * stored. A pair with no keypoint labelled in both is kept with empty
 * keypoints (PCK skips and counts it).
 *
 * @param root The folder holding `annotations/` and `data/` (see `datasetRoot("ap10k", env)`).
 * @param options Annotation file, keypoint cap and excluded images.
 * @returns The pairs and how they were read.
 * @throws {DatasetNotFoundError} When the annotation file is missing.
 * @throws {DatasetMalformedError} When it is not valid JSON, lacks a field,
 * has a keypoint list that does not match its category, or refers to an
 * unknown image or category.
 * @throws {DatasetUnsafePathError} When the option or an image file name
 * names a path outside the root.
 * @throws {RangeError} When an option is not valid.
 *
 * @example Usage
 * ```ts
 * import { readAp10k } from "./ap10k.ts";
 * import assert from "node:assert/strict";
 *
 * const slice = await readAp10k("../shared/data/ap-10k", {
 *   annotationFile: "annotations/test_ap10k.json",
 * });
 * assert.equal(slice.threshold_base, "bbox");
 * ```
 */
export async function readAp10k(root: string, options: ReadAp10kOptions = {}): Promise<Ap10kSlice> {
  const annotationFile = options.annotationFile ?? AP10K_DEFAULT_ANNOTATION_FILE;
  const maxKeypoints = options.maxKeypoints ?? DEFAULT_MAX_KEYPOINTS;
  checkMaxKeypoints(maxKeypoints);
  const excluded = new Set(options.excludeImageIds ?? []);
  const path = insideRoot(root, annotationFile, "the annotationFile option");
  const file = new JsonFields(await readJson(path, "AP-10K annotation file"), path);

  const images = new Map<number, { rel: string; size: ImageSize }>();
  for (const [i, value] of file.array("images").entries()) {
    const f = new JsonFields(value, path, `image ${i}`);
    const rel = `data/${f.string("file_name")}`;
    insideRoot(root, rel, path);
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
      const common = a.kps.flatMap((p, k) => p.labelled && b.kps[k].labelled ? [k] : [])
        .slice(0, maxKeypoints);
      pairs.push({
        pair_id: `${a.species}/${a.id}-${b.id}`,
        category: a.species,
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
        keypoint_ids: common.map((k) => a.names[k]),
      });
    }
  }
  return {
    dataset: "ap10k",
    root,
    split: annotationFile.split(/[\\/]/).pop()!.replace(/\.json$/, ""),
    pair_source: "coco",
    pair_file: annotationFile,
    keypoints: "raw",
    max_keypoints: maxKeypoints,
    threshold_base: "bbox",
    annotations: animals.length,
    pairs,
  };
}
