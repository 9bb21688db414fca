// This module is browser compatible.
/**
 * Cuts a slice out of a split's pair list: by category, by pair id, by
 * offset and limit, and into deterministic shards. Shard `i` of `k` takes the
 * contiguous block `[floor(i n / k), floor((i + 1) n / k))` of the `n` pairs
 * left by the other filters: shards are disjoint, cover the slice, differ in
 * size by at most one, and (readers sort pairs by category) share few images,
 * so each replica extracts few features twice.
 *
 * @example Usage
 * ```ts
 * import { selectPairs } from "./select_pairs.ts";
 * import assert from "node:assert/strict";
 *
 * const pairs = ["a", "b", "c", "d", "e"].map((id) => ({ pair_id: id, category: id < "c" ? "x" : "y" }));
 * assert.deepEqual(selectPairs(pairs, { categories: ["y"] }).map((p) => p.pair_id), ["c", "d", "e"]);
 * assert.deepEqual(selectPairs(pairs, { offset: 1, limit: 2 }).map((p) => p.pair_id), ["b", "c"]);
 * assert.deepEqual(selectPairs(pairs, { shards: 2, shard: 1 }).map((p) => p.pair_id), ["c", "d", "e"]);
 * ```
 *
 * @module
 */

/** How to cut the slice; every field is optional. */
export interface PairSelection {
  /** Keep these categories only. */
  categories?: readonly string[];
  /** Keep these pair ids only (in the split's order). */
  pair_ids?: readonly string[];
  /** Skip this many pairs (after the filters above). */
  offset?: number;
  /** Keep at most this many pairs. */
  limit?: number;
  /** Number of shards the slice is split into. */
  shards?: number;
  /** Which shard to keep, 0-based. */
  shard?: number;
}

/**
 * Selects pairs.
 *
 * @param pairs The split's pairs, in their deterministic order.
 * @param selection Filters, then offset/limit, then sharding.
 * @returns The selected pairs, in order.
 * @throws {RangeError} When a shard index is out of range.
 */
export function selectPairs<T extends { pair_id: string; category: string }>(
  pairs: readonly T[],
  selection: PairSelection,
): T[] {
  let out = [...pairs];
  if (selection.categories?.length) {
    const keep = new Set(selection.categories);
    out = out.filter((p) => keep.has(p.category));
  }
  if (selection.pair_ids?.length) {
    const keep = new Set(selection.pair_ids);
    out = out.filter((p) => keep.has(p.pair_id));
  }
  const offset = selection.offset ?? 0;
  out = out.slice(offset, selection.limit === undefined ? undefined : offset + selection.limit);
  const shards = selection.shards ?? 1;
  const shard = selection.shard ?? 0;
  if (
    !Number.isInteger(shards) || shards < 1 || !Number.isInteger(shard) || shard < 0 ||
    shard >= shards
  ) {
    throw new RangeError(`Cannot select shard ${shard} of ${shards}: need 0 <= shard < shards`);
  }
  const n = out.length;
  return out.slice(Math.floor((shard * n) / shards), Math.floor(((shard + 1) * n) / shards));
}
