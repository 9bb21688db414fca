/**
 * The pairs an evaluate request scores, exactly: the split read with the
 * request's dataset options, the slice selected, and each pair's query
 * points as they are matched (annotations clamped into the source image, as
 * the official code clamps them). `POST /v1/evaluate` scores these and
 * `GET /v1/datasets/{name}/pairs` lists them, from the same function.
 *
 * @example Usage
 * ```ts ignore
 * const scored = await readScoredPairs(request, { registry, roots: config.datasets });
 * scored.pairs[0].pair_id; scored.queries[0];
 * ```
 *
 * @module
 */

import type { ModelRegistry } from "../models/registry.ts";
import { readDataset } from "../datasets/read_dataset.ts";
import type { DatasetRoots } from "../datasets/roots.ts";
import { type DataSource, openRoot } from "../datasets/data_source.ts";
import { selectPairs } from "../datasets/select_pairs.ts";
import type { DatasetPair, DatasetSlice } from "../datasets/types.ts";
import { makeFrame } from "../core/frame.ts";
import { clampToFrame } from "../core/clamp_to_frame.ts";
import type { EvaluateRequest } from "./request.ts";
import { type ProtocolEcho, protocolEcho } from "./protocol_echo.ts";

/** What {@linkcode readScoredPairs} returns. */
export interface ScoredPairs {
  /** The split as read (every pair, before the selection). */
  slice: DatasetSlice;
  /** The dataset's root, opened with its configured limits: its images are read through it. */
  source: DataSource;
  /** The selected pairs, in order, as the dataset gives them. */
  pairs: DatasetPair[];
  /** Per pair, the source points matched: `source_kps` clamped into the image. */
  queries: Float32Array[];
  /** The model's input side. */
  resolution: number;
  /** The dataset options and non-official settings. */
  protocol: ProtocolEcho;
}

/**
 * Reads and selects the pairs of a request.
 *
 * @param req A validated evaluate request.
 * @param deps The model registry (for the resolution) and the dataset roots.
 * @param options `slice`: the split already read for an identical request (job shards).
 * @returns The pairs, their queries, the source they are read from, the resolution and
 *   the protocol echo.
 * @throws {DatasetError} When the dataset cannot be read.
 * @throws {ModelNotFoundError} When the model is unknown.
 * @throws {ResolutionError} When the resolution does not fit the model.
 */
export async function readScoredPairs(
  req: EvaluateRequest & { model: string },
  deps: { registry: ModelRegistry; roots: DatasetRoots },
  options: { slice?: DatasetSlice } = {},
): Promise<ScoredPairs> {
  const descriptor = deps.registry.get(req.model);
  const resolution = deps.registry.resolution(descriptor, req.resolution);
  const protocol = protocolEcho(req);
  const source = openRoot(deps.roots, req.dataset);
  const slice = options.slice ??
    await readDataset(req.dataset, source, {
      split: req.split,
      ...protocol.dataset_options,
    });
  const pairs = selectPairs(slice.pairs, req);
  const queries = pairs.map((p) =>
    p.source_size === null
      ? p.source_kps
      : clampToFrame(p.source_kps, makeFrame(p.source_size, { size: resolution, mode: req.resize }))
  );
  return { slice, source, pairs, queries, resolution, protocol };
}
