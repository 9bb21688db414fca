/**
 * The contract every dataset reader keeps, as one suite each reader's test
 * runs on the real data in `../shared/data` and on the synthetic trees it
 * builds: {@linkcode runReaderContract} checks every clause of
 * {@linkcode READER_CLAUSES} on a slice, and a reader lists the clauses it
 * cannot be held to with the reason (reported as ignored steps).
 *
 * The clauses are the promises of `datasets/types.ts` that the evaluation
 * and the PCK rely on: the same pairs in the same order on every read, each
 * category's pairs together (sharding and feature reuse assume it), unique
 * ids, keypoints as aligned `x, y` pairs, thresholds positive and measured
 * on the target in its own pixels, paths relative to the root.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { DatasetPair, DatasetSlice } from "../../datasets/types.ts";

/** One clause: what it promises and how it is checked on two reads of the same slice. */
export interface ReaderClause {
  name: string;
  check(slice: DatasetSlice, again: DatasetSlice): void;
}

/** The name of a clause, to skip it. */
export type ReaderClauseName = typeof READER_CLAUSES[number]["name"];

/** Distance within which a threshold equals its base (thresholds are float64 sums of floats). */
const THRESHOLD_TOLERANCE = 1e-9;

/** Max side of a box `[xmin, ymin, xmax, ymax]`. */
function maxSide(box: readonly number[]): number {
  return Math.max(box[2] - box[0], box[3] - box[1]);
}

/** Max side of the tight box around `x, y` pairs (written apart from the readers' own helper). */
function keypointBoxSide(kps: Float32Array): number {
  const xs = kps.filter((_, i) => i % 2 === 0);
  const ys = kps.filter((_, i) => i % 2 === 1);
  return Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
}

/** What the threshold of a pair must equal, from the target side alone; undefined if unknown. */
function thresholdOf(p: DatasetPair): number | undefined {
  switch (p.threshold_base) {
    case "bbox":
      return p.target_bbox ? maxSide(p.target_bbox) : undefined;
    case "bbox-kp":
      return p.target_kps.length ? keypointBoxSide(p.target_kps) : undefined;
    case "img":
      return p.target_size ? Math.max(p.target_size.width, p.target_size.height) : undefined;
  }
}

function eachPair(slice: DatasetSlice, f: (p: DatasetPair) => void): void {
  for (const p of slice.pairs) {
    try {
      f(p);
    } catch (e) {
      throw new Error(`pair ${p.pair_id}: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** Every clause, in the order the suite runs them. */
export const READER_CLAUSES = [
  {
    name: "the same pairs in the same order on every read",
    check(slice, again) {
      assert.deepEqual(again.pairs.map((p) => p.pair_id), slice.pairs.map((p) => p.pair_id));
      assert.deepEqual(again.pairs, slice.pairs);
    },
  },
  {
    name: "pair ids are unique",
    check(slice) {
      const seen = new Set<string>();
      for (const p of slice.pairs) {
        assert.ok(!seen.has(p.pair_id), `${p.pair_id} appears twice`);
        seen.add(p.pair_id);
      }
    },
  },
  {
    name: "each category's pairs are contiguous",
    check(slice) {
      const done = new Set<string>();
      let current: string | undefined;
      for (const p of slice.pairs) {
        if (p.category === current) continue;
        assert.ok(!done.has(p.category), `category ${p.category} resumes at ${p.pair_id}`);
        if (current !== undefined) done.add(current);
        current = p.category;
      }
    },
  },
  {
    name: "keypoints are aligned x, y pairs of finite numbers, as many in source and target",
    check(slice) {
      eachPair(slice, (p) => {
        assert.ok(p.source_kps instanceof Float32Array && p.target_kps instanceof Float32Array);
        assert.equal(p.source_kps.length % 2, 0, "odd source keypoint values");
        assert.equal(p.target_kps.length, p.source_kps.length, "source and target counts differ");
        assert.ok(p.source_kps.every(Number.isFinite) && p.target_kps.every(Number.isFinite));
        if (p.keypoint_ids) assert.equal(p.keypoint_ids.length, p.source_kps.length / 2);
      });
    },
  },
  {
    name: "image sizes are positive integers where known",
    check(slice) {
      eachPair(slice, (p) => {
        for (const size of [p.source_size, p.target_size]) {
          if (size === null) continue;
          assert.ok(Number.isInteger(size.width) && size.width > 0, `width ${size.width}`);
          assert.ok(Number.isInteger(size.height) && size.height > 0, `height ${size.height}`);
        }
      });
    },
  },
  {
    name:
      "thresholds are positive and in target pixels: the target's box, keypoint box or image side",
    check(slice) {
      eachPair(slice, (p) => {
        assert.equal(p.threshold_base, slice.threshold_base);
        const expected = thresholdOf(p);
        if (p.threshold === null) {
          assert.equal(expected, undefined, `threshold null, its ${p.threshold_base} is known`);
          return;
        }
        assert.ok(p.threshold > 0 && Number.isFinite(p.threshold), `threshold ${p.threshold}`);
        assert.ok(expected !== undefined, `threshold ${p.threshold} from no ${p.threshold_base}`);
        assert.ok(
          Math.abs(p.threshold - expected) <= THRESHOLD_TOLERANCE * expected,
          `threshold ${p.threshold}, the target's ${p.threshold_base} gives ${expected}`,
        );
      });
    },
  },
  {
    name: "paths are relative to the root, with / separators",
    check(slice) {
      eachPair(slice, (p) => {
        for (const path of [p.source, p.target]) {
          assert.ok(path.length > 0, "empty path");
          assert.ok(!path.startsWith("/") && !/^[A-Za-z]:/.test(path), `${path} is absolute`);
          assert.ok(!path.includes("\\"), `${path} has a backslash`);
          assert.ok(!/^[a-z]+:\/\//i.test(path), `${path} is a URL`);
          assert.ok(!path.split("/").includes(".."), `${path} climbs out of the root`);
        }
        assert.notEqual(p.source, p.target, "an image paired with itself");
      });
    },
  },
] as const satisfies readonly ReaderClause[];

/** Options of {@linkcode runReaderContract}. */
export interface ReaderContractOptions {
  /** Clauses this reading cannot be held to, each with its reason. */
  skip?: Partial<Record<ReaderClauseName, string>>;
  /** At least this many pairs, so no clause holds vacuously (default 1). */
  minPairs?: number;
}

/**
 * Runs the contract on a reading, one test step per clause.
 *
 * @param t The test context.
 * @param name What is read (e.g. "shared PF-WILLOW"), prefixed to each step.
 * @param read Reads the slice; called twice.
 * @param options Skipped clauses with reasons; the least number of pairs.
 */
export async function runReaderContract(
  t: Deno.TestContext,
  name: string,
  read: () => Promise<DatasetSlice>,
  options: ReaderContractOptions = {},
): Promise<void> {
  const slice = await read();
  const again = await read();
  const minPairs = options.minPairs ?? 1;
  assert.ok(slice.pairs.length >= minPairs, `${name}: ${slice.pairs.length} pairs`);
  for (const clause of READER_CLAUSES) {
    const reason = options.skip?.[clause.name];
    await t.step({
      name: `${name}: ${clause.name}${reason ? ` (skipped: ${reason})` : ""}`,
      ignore: reason !== undefined,
      fn: () => clause.check(slice, again),
    });
  }
}
