/**
 * Benchmark dataset readers (SPair-71k, PF-PASCAL, PF-WILLOW, AP-10K), each
 * returning a {@linkcode DatasetSlice} of {@linkcode DatasetPair}s, plus the
 * MAT-file reader, the dataset roots and the data sources (local folders
 * or `https://` base URLs) every reader reads through.
 *
 * @example Usage
 * ```ts
 * import { datasetRoot, readPfWillow } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const root = datasetRoot("pfwillow", { DATA_ROOT: "../shared/data" });
 * const slice = await readPfWillow(root);
 * assert.equal(slice.pairs.length, 540);
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "../errors/dataset_errors.ts";
export * from "./roots.ts";
export * from "./data_source.ts";
export * from "./mat_file.ts";
export * from "./image_size.ts";
export * from "./pf_willow.ts";
export * from "./spair.ts";
export * from "./pf_pascal.ts";
export * from "./ap10k.ts";
