/**
 * One entry point over the dataset readers: a dataset id, its root and a
 * split give the split's pairs.
 *
 * @example Usage
 * ```ts
 * import { readDataset } from "./read_dataset.ts";
 * import assert from "node:assert/strict";
 *
 * const slice = await readDataset("pfwillow", "../shared/data/pf-willow", { split: "test" });
 * assert.equal(slice.pairs.length, 540);
 * ```
 *
 * @module
 */

import type { DatasetId, DatasetSlice } from "./types.ts";
import { readPfWillow } from "./pf_willow.ts";
import { readPfPascal } from "./pf_pascal.ts";
import { readSpair } from "./spair.ts";
import { readAp10k } from "./ap10k.ts";
import { type DataSource, openDataSource } from "./data_source.ts";
import { type DatasetOptionsInput, resolveDatasetOptions } from "./dataset_options.ts";
import { DatasetNotFoundError } from "../errors/mod.ts";

/**
 * Splits each dataset has, by the official code's names. AP-10K's are
 * GeoAware-SC's tree folders (`test` is its intra-species test set;
 * `test_cross_species` and `test_cross_family` its other two), or with
 * `pair_source: "coco"` its COCO files.
 */
export const DATASET_SPLITS: Readonly<Record<DatasetId, readonly string[]>> = Object.freeze({
  spair: ["trn", "val", "test"],
  pfpascal: ["trn", "val", "test"],
  pfwillow: ["test"],
  ap10k: [
    "trn",
    "val",
    "test",
    "test_cross_species",
    "test_cross_family",
    "val_cross_species",
    "val_cross_family",
  ],
});

/** Other names of splits: NC-Net and AP-10K's COCO files call `trn` `train`. */
export const SPLIT_ALIASES: Readonly<Partial<Record<DatasetId, Record<string, string>>>> = Object
  .freeze({ pfpascal: { train: "trn" }, ap10k: { train: "trn" } });

/**
 * The official name of a split.
 *
 * @param id The dataset.
 * @param split A split name or one of its {@linkcode SPLIT_ALIASES}.
 * @returns The name in {@linkcode DATASET_SPLITS}, or `split` itself when unknown.
 */
export function canonicalSplit(id: DatasetId, split: string): string {
  return SPLIT_ALIASES[id]?.[split] ?? split;
}

/** What to read: the split and the protocol options (see `dataset_options.ts`). */
export interface ReadDatasetOptions extends DatasetOptionsInput {
  split: string;
}

/**
 * Reads a split of a dataset with the official protocol's options, or
 * those given.
 *
 * @param id Dataset id, as the official code names it.
 * @param root The dataset root, a folder or a base URL (see `datasetRoot()`),
 * or its open data source.
 * @param options The split and protocol options.
 * @returns The split's pairs.
 * @throws {DatasetNotFoundError} When the split does not exist or the files are missing.
 * @throws {RangeError} When an option does not apply to the dataset.
 */
export async function readDataset(
  id: DatasetId,
  root: string | DataSource,
  options: ReadDatasetOptions,
): Promise<DatasetSlice> {
  const source = openDataSource(root);
  const split = canonicalSplit(id, options.split);
  if (!DATASET_SPLITS[id].includes(split)) {
    throw new DatasetNotFoundError(
      `Cannot read ${id} split \`${options.split}\`: splits are ${DATASET_SPLITS[id].join(", ")}`,
    );
  }
  const o = resolveDatasetOptions(id, split, options);
  const maxKeypoints = o.max_keypoints;
  switch (id) {
    case "pfwillow":
      return await readPfWillow(source, { keypoints: o.keypoints, maxKeypoints });
    case "pfpascal":
      return await readPfPascal(source, {
        split: split as "test",
        keypoints: o.keypoints,
        maxKeypoints,
      });
    case "spair":
      return await readSpair(source, { split: split as "test", maxKeypoints });
    case "ap10k":
      return await readAp10k(source, {
        split,
        maxKeypoints,
        pairSource: o.pair_source,
        visibility: o.visibility,
        species: o.species,
        sample: o.sample,
      });
  }
}
