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

import type { DatasetId, DatasetSlice, KeypointConvention } from "./types.ts";
import { readPfWillow } from "./pf_willow.ts";
import { readPfPascal } from "./pf_pascal.ts";
import { readSpair } from "./spair.ts";
import { readAp10k } from "./ap10k.ts";
import { type DataSource, openDataSource } from "./data_source.ts";
import { DatasetNotFoundError } from "../errors/mod.ts";

/**
 * Splits each dataset has. AP-10K's `train`, `val` and `test` are its COCO
 * files, or GeoAware-SC's tree where present (`test` is then its
 * intra-species test set); `test_cross_species` and `test_cross_family` are
 * GeoAware-SC's other two test sets.
 */
export const DATASET_SPLITS: Readonly<Record<DatasetId, readonly string[]>> = Object.freeze({
  spair: ["trn", "val", "test"],
  pfpascal: ["train", "val", "test"],
  pfwillow: ["test"],
  ap10k: ["train", "val", "test", "test_cross_species", "test_cross_family"],
});

/** Options common to the readers. */
export interface ReadDatasetOptions {
  split: string;
  /** PF-WILLOW only: how stored coordinates become keypoints. */
  keypoints?: KeypointConvention;
}

/**
 * Reads a split of a dataset.
 *
 * @param id Dataset id, as the official code names it.
 * @param root The dataset root, a folder or a base URL (see `datasetRoot()`),
 * or its open data source.
 * @param options The split.
 * @returns The split's pairs.
 * @throws {DatasetNotFoundError} When the split does not exist or the files are missing.
 */
export async function readDataset(
  id: DatasetId,
  root: string | DataSource,
  options: ReadDatasetOptions,
): Promise<DatasetSlice> {
  const source = openDataSource(root);
  if (!DATASET_SPLITS[id].includes(options.split)) {
    throw new DatasetNotFoundError(
      `Cannot read ${id} split \`${options.split}\`: splits are ${DATASET_SPLITS[id].join(", ")}`,
      { path: source.root },
    );
  }
  switch (id) {
    case "pfwillow":
      return await readPfWillow(source, { keypoints: options.keypoints });
    case "pfpascal":
      return await readPfPascal(source, { split: options.split as "test" });
    case "spair":
      return await readSpair(source, { split: options.split as "test" });
    case "ap10k":
      return await readAp10k(source, { split: options.split });
  }
}
