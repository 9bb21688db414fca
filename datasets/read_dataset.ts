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
import { isFile } from "./_files.ts";
import { join } from "node:path";
import { DatasetNotFoundError } from "./errors.ts";

/** Splits each dataset has. */
export const DATASET_SPLITS: Readonly<Record<DatasetId, readonly string[]>> = Object.freeze({
  spair: ["trn", "val", "test"],
  pfpascal: ["train", "val", "test"],
  pfwillow: ["test"],
  ap10k: ["train", "val", "test"],
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
 * @param root The dataset root.
 * @param options The split.
 * @returns The split's pairs.
 * @throws {DatasetNotFoundError} When the split does not exist or the files are missing.
 */
export async function readDataset(
  id: DatasetId,
  root: string,
  options: ReadDatasetOptions,
): Promise<DatasetSlice> {
  if (!DATASET_SPLITS[id].includes(options.split)) {
    throw new DatasetNotFoundError(
      `Cannot read ${id} split \`${options.split}\`: splits are ${DATASET_SPLITS[id].join(", ")}`,
      { path: root },
    );
  }
  switch (id) {
    case "pfwillow":
      return await readPfWillow(root, { keypoints: options.keypoints });
    case "pfpascal":
      return await readPfPascal(root, { split: options.split as "test" });
    case "spair":
      return await readSpair(root, { split: options.split as "test" });
    case "ap10k": {
      // The official split files, else the `<split>_ap10k.json` naming of smaller exports.
      const candidates = [
        `annotations/ap10k-${options.split}-split1.json`,
        `annotations/${options.split}_ap10k.json`,
      ];
      let annotationFile = candidates[0];
      for (const c of candidates) {
        if (await isFile(join(root, c))) {
          annotationFile = c;
          break;
        }
      }
      return await readAp10k(root, { annotationFile });
    }
  }
}
