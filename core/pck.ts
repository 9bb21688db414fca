// This module is browser compatible.
/**
 * PCK (percentage of correct keypoints), exactly as the benchmarks define it,
 * with the conventions that differ between codebases as named options.
 *
 * For one pair with predicted points p_i, true target points t_i and a
 * threshold base b (in the same pixels), point i is correct at `alpha` when
 * `||p_i - t_i|| <= alpha * b` (the survey's official code) or
 * `||p_i - t_i|| < alpha * b` (GeoAware-SC). Distances are computed in
 * float64 as `Math.sqrt(dx * dx + dy * dy)`, the limit as `alpha * b`.
 *
 * Two averages are reported, both per category and over everything:
 * - per image: the mean over a pair's points, then the mean over pairs (the
 *   official "all" is this mean over pairs, not a mean of category means);
 * - per point: all correct points over all points.
 * plus `category_mean`, the plain mean of the per-category values.
 *
 * Exact merging: {@linkcode PckAccumulator} keeps only integer sums, so
 * results of separately evaluated slices (shards, workers) merge exactly and
 * in any order. A per-pair PCK is a ratio c/n of small integers; summing
 * those ratios in float64 would depend on the order of the pairs in the last
 * bit. Instead, for each pair size n, the accumulator keeps the integer sum
 * of correct counts over the pairs with n points (`correct_by_points`). The
 * sum of per-pair PCKs is only formed when a summary is asked for, as
 * `sum over n ascending of (that sum / n)`: a function of the integer state
 * alone, so a 3-shard merge gives the very same numbers as one pass.
 *
 * @example Usage
 * ```ts
 * import { PckAccumulator } from "./pck.ts";
 * import assert from "node:assert/strict";
 *
 * const acc = new PckAccumulator({ alphas: [0.1] });
 * // 2 points, threshold base 100: errors 5 (correct) and 20 (wrong) at alpha 0.1.
 * acc.add("cat", {
 *   pred: new Float32Array([5, 0, 20, 0]),
 *   truth: new Float32Array([0, 0, 0, 0]),
 *   thresholdBase: 100,
 * });
 * const s = acc.summary();
 * assert.equal(s.per_image.all["0.1"], 0.5);
 * assert.equal(s.per_point.all["0.1"], 0.5);
 * ```
 *
 * @module
 */

/** How a distance is compared with `alpha * thresholdBase`. */
export type PckComparison = typeof PCK_COMPARISONS[number];

/** The comparisons: `<=` (the survey's official code) and `<` (GeoAware-SC). */
export const PCK_COMPARISONS = Object.freeze(["<=", "<"] as const);

/** The default comparison, that of the survey's official code. */
export const DEFAULT_PCK_COMPARISON: PckComparison = "<=";

/** Options of {@linkcode pckPair}. */
export interface PckPairOptions {
  /** The threshold base b in pixels (bbox side, image side...), finite and >= 0. */
  thresholdBase: number;
  /** The alphas, e.g. `[0.05, 0.1, 0.15]`; finite and >= 0. */
  alphas: readonly number[];
  /**
   * `"<="` (official survey code) or `"<"` (GeoAware-SC).
   *
   * @default {"<="}
   */
  comparison?: PckComparison;
}

/** PCK counts of one pair. */
export interface PckPairResult {
  /** Number of points evaluated. */
  points: number;
  /** Correct points per alpha, in the order of the alphas given. */
  correct: number[];
}

function checkAlphas(alphas: readonly number[]): string[] {
  if (!Array.isArray(alphas) || alphas.length === 0) {
    throw new RangeError("Cannot compute PCK: alphas must be a non-empty array");
  }
  const keys = alphas.map((a) => {
    if (typeof a !== "number" || !Number.isFinite(a) || a < 0) {
      throw new RangeError(`Cannot compute PCK: alpha must be a finite number >= 0, got ${a}`);
    }
    return String(a);
  });
  if (new Set(keys).size !== keys.length) {
    throw new RangeError(`Cannot compute PCK: alphas repeat: ${keys.join(", ")}`);
  }
  return keys;
}

function checkComparison(comparison: string): PckComparison {
  if (comparison !== "<=" && comparison !== "<") {
    throw new RangeError(`Cannot compute PCK: comparison must be "<=" or "<", got "${comparison}"`);
  }
  return comparison;
}

/**
 * Counts the correct points of one pair at each alpha.
 *
 * A predicted point that is not finite (NaN, Infinity) counts as wrong.
 *
 * @param pred Predicted target points, `x, y` pairs.
 * @param truth True target points, `x, y` pairs, aligned with `pred`.
 * @param options Threshold base, alphas and comparison.
 * @returns The number of points and the correct count per alpha.
 * @throws {TypeError} When `pred` and `truth` differ in length or hold an odd
 * number of values.
 * @throws {RangeError} When a true point is not finite, the threshold base is
 * negative or not finite, an alpha is invalid or repeated, or the comparison
 * is unknown.
 *
 * @example Usage
 * ```ts
 * import { pckPair } from "./pck.ts";
 * import assert from "node:assert/strict";
 *
 * const pred = new Float32Array([3, 4, 10, 0]);
 * const truth = new Float32Array([0, 0, 0, 0]);
 * // Distances 5 and 10; limits 0.05 * 100 = 5 and 0.1 * 100 = 10.
 * const le = pckPair(pred, truth, { thresholdBase: 100, alphas: [0.05, 0.1] });
 * assert.deepEqual(le, { points: 2, correct: [1, 2] });
 * const lt = pckPair(pred, truth, { thresholdBase: 100, alphas: [0.05, 0.1], comparison: "<" });
 * assert.deepEqual(lt, { points: 2, correct: [0, 1] });
 * ```
 */
export function pckPair(
  pred: Float32Array,
  truth: Float32Array,
  options: PckPairOptions,
): PckPairResult {
  if (pred.length !== truth.length) {
    throw new TypeError(
      `Cannot compute PCK: ${pred.length / 2} predicted points for ${truth.length / 2} true points`,
    );
  }
  if (truth.length % 2 !== 0) {
    throw new TypeError(`Cannot compute PCK: ${truth.length} values is not a list of x, y pairs`);
  }
  const { thresholdBase } = options;
  if (typeof thresholdBase !== "number" || !Number.isFinite(thresholdBase) || thresholdBase < 0) {
    throw new RangeError(
      `Cannot compute PCK: thresholdBase must be a finite number >= 0, got ${thresholdBase}`,
    );
  }
  checkAlphas(options.alphas);
  const strict = checkComparison(options.comparison ?? DEFAULT_PCK_COMPARISON) === "<";
  const limits = options.alphas.map((a) => a * thresholdBase);
  const correct = limits.map(() => 0);
  const points = truth.length / 2;
  for (let i = 0; i < points; i++) {
    const tx = truth[2 * i], ty = truth[2 * i + 1];
    if (!Number.isFinite(tx) || !Number.isFinite(ty)) {
      throw new RangeError(`Cannot compute PCK: true point ${i} is not finite (${tx}, ${ty})`);
    }
    const dx = pred[2 * i] - tx, dy = pred[2 * i + 1] - ty;
    const d = Math.sqrt(dx * dx + dy * dy);
    for (let k = 0; k < limits.length; k++) {
      if (strict ? d < limits[k] : d <= limits[k]) correct[k]++;
    }
  }
  return { points, correct };
}

/** Why a pair was left out of PCK. */
export type PckSkipReason = "no_keypoints" | "no_threshold";

/** Raw integer sums of one category. */
export interface PckCategorySums {
  /** Pairs evaluated (skipped pairs excluded). */
  pairs: number;
  /** Points evaluated. */
  points: number;
  /** Correct points per alpha. */
  correct: number[];
  /**
   * Per pair size n (as a decimal string), per alpha: the sum of correct
   * counts over the evaluated pairs with n points. The sum of per-pair PCKs
   * is `sum over n of correct_by_points[n][k] / n`.
   */
  correct_by_points: Record<string, number[]>;
  /** Pairs left out, by reason. */
  skipped: Record<PckSkipReason, number>;
}

/** The whole state of a {@linkcode PckAccumulator}, as plain JSON data. */
export interface PckSums {
  /** The alphas, in order. */
  alphas: number[];
  /** The comparison used. */
  comparison: PckComparison;
  /** Sums per category. */
  categories: Record<string, PckCategorySums>;
}

/** PCK values keyed by alpha string (`"0.1"`); `null` where nothing was evaluated. */
export type PckByAlpha = Record<string, number | null>;

/** One average (per image or per point) at every level. */
export interface PckAverages {
  /** Over all evaluated pairs (per image) or points (per point). */
  all: PckByAlpha;
  /** Per category. */
  categories: Record<string, PckByAlpha>;
  /** Mean of the per-category values, over categories with an evaluated pair. */
  category_mean: PckByAlpha;
}

/** The result of {@linkcode PckAccumulator.summary}: fractions in [0, 1]. */
export interface PckSummary {
  /** The alpha keys, in order. */
  alphas: string[];
  /** The comparison used. */
  comparison: PckComparison;
  /** Pairs evaluated. */
  pairs: number;
  /** Points evaluated. */
  points: number;
  /** Pairs left out (no keypoint or no threshold). */
  skipped_pairs: number;
  /** Pairs left out, by reason. */
  skipped: Record<PckSkipReason, number>;
  /** Mean over pairs of the per-pair PCK. */
  per_image: PckAverages;
  /** Correct points over points. */
  per_point: PckAverages;
  /** Counts per category. */
  category_counts: Record<string, { pairs: number; points: number; skipped_pairs: number }>;
}

/** One pair to score with {@linkcode PckAccumulator.add}. */
export interface PckPairInput {
  /** Predicted target points, `x, y` pairs. */
  pred: Float32Array;
  /** True target points, aligned with `pred`. */
  truth: Float32Array;
  /** The threshold base; `null` when unknown (the pair is skipped and counted). */
  thresholdBase: number | null;
}

/** Options of {@linkcode PckAccumulator}. */
export interface PckAccumulatorOptions {
  /** The alphas, e.g. `[0.05, 0.1, 0.15]`. */
  alphas: readonly number[];
  /**
   * `"<="` (official survey code) or `"<"` (GeoAware-SC).
   *
   * @default {"<="}
   */
  comparison?: PckComparison;
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function emptyCategory(alphas: number): PckCategorySums {
  return {
    pairs: 0,
    points: 0,
    correct: new Array(alphas).fill(0),
    correct_by_points: {},
    skipped: { no_keypoints: 0, no_threshold: 0 },
  };
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sum of per-pair PCKs at alpha k, from the integer sums, n ascending. */
function pckSum(byPoints: Record<string, number[]>, k: number): number {
  let sum = 0;
  for (const n of Object.keys(byPoints).map(Number).sort((a, b) => a - b)) {
    sum += byPoints[n][k] / n;
  }
  return sum;
}

/**
 * Accumulates PCK over pairs, per category, as exact integer sums; merges
 * with other accumulators (same alphas and comparison) exactly and in any
 * order; and summarizes per image, per point, per category and as a mean of
 * categories.
 *
 * Pairs with no keypoint, and pairs whose threshold base is unknown
 * (`null`), are skipped and counted by reason.
 *
 * @example Usage
 * ```ts
 * import { PckAccumulator } from "./pck.ts";
 * import assert from "node:assert/strict";
 *
 * const shard1 = new PckAccumulator({ alphas: [0.1] });
 * shard1.addResult("dog", { points: 3, correct: [1] });
 * const shard2 = new PckAccumulator({ alphas: [0.1] });
 * shard2.addResult("dog", { points: 1, correct: [1] });
 * shard2.add("dog", { pred: new Float32Array(0), truth: new Float32Array(0), thresholdBase: 10 });
 *
 * const all = PckAccumulator.fromJSON(JSON.parse(JSON.stringify(shard1))).merge(shard2);
 * const s = all.summary();
 * assert.equal(s.pairs, 2);
 * assert.equal(s.skipped_pairs, 1);
 * assert.equal(s.per_image.all["0.1"], (1 / 3 + 1) / 2);
 * assert.equal(s.per_point.all["0.1"], 2 / 4);
 * ```
 */
export class PckAccumulator {
  #alphas: number[];
  #keys: string[];
  #comparison: PckComparison;
  #categories = new Map<string, PckCategorySums>();

  /**
   * Creates an empty accumulator.
   *
   * @param options The alphas and the comparison.
   * @throws {RangeError} When an alpha is invalid or repeated, or the
   * comparison is unknown.
   */
  constructor(options: PckAccumulatorOptions) {
    this.#keys = checkAlphas(options.alphas);
    this.#alphas = [...options.alphas];
    this.#comparison = checkComparison(options.comparison ?? DEFAULT_PCK_COMPARISON);
  }

  /** The alphas, in order. */
  get alphas(): readonly number[] {
    return [...this.#alphas];
  }

  /** The comparison used. */
  get comparison(): PckComparison {
    return this.#comparison;
  }

  #category(name: string): PckCategorySums {
    let sums = this.#categories.get(name);
    if (sums === undefined) {
      sums = emptyCategory(this.#alphas.length);
      this.#categories.set(name, sums);
    }
    return sums;
  }

  /**
   * Scores one pair with {@linkcode pckPair} and adds it.
   *
   * @param category The pair's category.
   * @param pair Predicted and true points and the threshold base.
   * @returns The pair's counts, or `null` when it was skipped (no keypoint,
   * or `thresholdBase` is `null`).
   * @throws {TypeError} As {@linkcode pckPair} does.
   * @throws {RangeError} As {@linkcode pckPair} does.
   */
  add(category: string, pair: PckPairInput): PckPairResult | null {
    if (pair.thresholdBase === null) {
      if (pair.pred.length !== pair.truth.length) {
        throw new TypeError(
          `Cannot compute PCK: ${pair.pred.length / 2} predicted points for ${
            pair.truth.length / 2
          } true points`,
        );
      }
      this.skip(category, pair.truth.length === 0 ? "no_keypoints" : "no_threshold");
      return null;
    }
    const result = pckPair(pair.pred, pair.truth, {
      thresholdBase: pair.thresholdBase,
      alphas: this.#alphas,
      comparison: this.#comparison,
    });
    this.addResult(category, result);
    return result.points === 0 ? null : result;
  }

  /**
   * Adds the counts of one pair scored elsewhere (e.g. in a worker) with the
   * same alphas. A result with 0 points is counted as skipped.
   *
   * @param category The pair's category.
   * @param result Its counts, as {@linkcode pckPair} returns them.
   * @throws {RangeError} When the counts are not integers with
   * `0 <= correct <= points`, or do not have one count per alpha.
   */
  addResult(category: string, result: PckPairResult): void {
    const { points, correct } = result;
    if (
      !isCount(points) || !Array.isArray(correct) || correct.length !== this.#alphas.length ||
      !correct.every((c) => isCount(c) && c <= points)
    ) {
      throw new RangeError(
        `Cannot add PCK result: expected ${this.#alphas.length} integer counts within 0..points, got ${
          JSON.stringify(result)
        }`,
      );
    }
    if (points === 0) {
      this.skip(category, "no_keypoints");
      return;
    }
    const sums = this.#category(category);
    sums.pairs++;
    sums.points += points;
    const row = sums.correct_by_points[points] ??= new Array(correct.length).fill(0);
    for (let k = 0; k < correct.length; k++) {
      sums.correct[k] += correct[k];
      row[k] += correct[k];
    }
  }

  /**
   * Counts a pair that cannot be scored.
   *
   * @param category The pair's category.
   * @param reason Why it is skipped.
   * @throws {RangeError} When the reason is unknown.
   */
  skip(category: string, reason: PckSkipReason): void {
    if (reason !== "no_keypoints" && reason !== "no_threshold") {
      throw new RangeError(`Cannot skip PCK pair: unknown reason "${reason}"`);
    }
    this.#category(category).skipped[reason]++;
  }

  /**
   * Adds another accumulator's sums to this one. Integer sums only, so the
   * result does not depend on the order of merges.
   *
   * @param other An accumulator, or its {@linkcode PckAccumulator.toJSON} data.
   * @returns This accumulator.
   * @throws {RangeError} When the alphas or the comparison differ, or the
   * data is malformed.
   */
  merge(other: PckAccumulator | PckSums): this {
    const theirs = other instanceof PckAccumulator
      ? other.toJSON()
      : PckAccumulator.fromJSON(other).toJSON();
    if (
      theirs.comparison !== this.#comparison ||
      theirs.alphas.length !== this.#alphas.length ||
      theirs.alphas.some((a, k) => a !== this.#alphas[k])
    ) {
      throw new RangeError(
        `Cannot merge PCK sums: alphas [${theirs.alphas}] with "${theirs.comparison}" into [${this.#alphas}] with "${this.#comparison}"`,
      );
    }
    for (const [name, add] of Object.entries(theirs.categories)) {
      const sums = this.#category(name);
      sums.pairs += add.pairs;
      sums.points += add.points;
      add.correct.forEach((c, k) => sums.correct[k] += c);
      for (const [n, row] of Object.entries(add.correct_by_points)) {
        const mine = sums.correct_by_points[n] ??= new Array(row.length).fill(0);
        row.forEach((c, k) => mine[k] += c);
      }
      sums.skipped.no_keypoints += add.skipped.no_keypoints;
      sums.skipped.no_threshold += add.skipped.no_threshold;
    }
    return this;
  }

  /**
   * The whole state as plain data (a deep copy), categories sorted by name.
   *
   * @returns The sums, ready for `JSON.stringify`.
   */
  toJSON(): PckSums {
    const categories: Record<string, PckCategorySums> = {};
    for (const name of [...this.#categories.keys()].sort(compareNames)) {
      const s = this.#categories.get(name)!;
      const byPoints: Record<string, number[]> = {};
      for (const n of Object.keys(s.correct_by_points).map(Number).sort((a, b) => a - b)) {
        byPoints[n] = [...s.correct_by_points[n]];
      }
      categories[name] = {
        pairs: s.pairs,
        points: s.points,
        correct: [...s.correct],
        correct_by_points: byPoints,
        skipped: { ...s.skipped },
      };
    }
    return { alphas: [...this.#alphas], comparison: this.#comparison, categories };
  }

  /**
   * Rebuilds an accumulator from {@linkcode PckAccumulator.toJSON} data,
   * checking it.
   *
   * @param sums The data.
   * @returns A new accumulator holding it.
   * @throws {RangeError} When the data is malformed or inconsistent.
   */
  static fromJSON(sums: PckSums): PckAccumulator {
    const acc = new PckAccumulator({ alphas: sums?.alphas, comparison: sums?.comparison });
    const bad = (name: string, what: string) =>
      new RangeError(`Cannot read PCK sums: category "${name}" ${what}`);
    if (typeof sums.categories !== "object" || sums.categories === null) {
      throw new RangeError("Cannot read PCK sums: categories is not an object");
    }
    const k = acc.#alphas.length;
    for (const [name, s] of Object.entries(sums.categories)) {
      if (!isCount(s?.pairs) || !isCount(s.points)) {
        throw bad(name, "has invalid pair or point counts");
      }
      if (!Array.isArray(s.correct) || s.correct.length !== k || !s.correct.every(isCount)) {
        throw bad(name, `needs ${k} correct counts`);
      }
      if (!isCount(s.skipped?.no_keypoints) || !isCount(s.skipped.no_threshold)) {
        throw bad(name, "has invalid skipped counts");
      }
      if (typeof s.correct_by_points !== "object" || s.correct_by_points === null) {
        throw bad(name, "has no correct_by_points");
      }
      const totals = new Array(k).fill(0);
      for (const [n, row] of Object.entries(s.correct_by_points)) {
        const points = Number(n);
        if (!(String(points) === n && isCount(points) && points > 0)) {
          throw bad(name, `has invalid pair size "${n}"`);
        }
        if (!Array.isArray(row) || row.length !== k || !row.every(isCount)) {
          throw bad(name, `needs ${k} counts for pair size ${n}`);
        }
        row.forEach((c, j) => totals[j] += c);
      }
      if (totals.some((t, j) => t !== s.correct[j])) {
        throw bad(name, "has correct counts that do not add up");
      }
      if (s.correct.some((c) => c > s.points)) {
        throw bad(name, "has more correct points than points");
      }
      if (s.points < s.pairs || (s.pairs === 0) !== (s.points === 0)) {
        throw bad(name, "has pairs without points");
      }
      acc.#categories.set(name, {
        pairs: s.pairs,
        points: s.points,
        correct: [...s.correct],
        correct_by_points: Object.fromEntries(
          Object.entries(s.correct_by_points).map(([n, row]) => [n, [...row]]),
        ),
        skipped: { no_keypoints: s.skipped.no_keypoints, no_threshold: s.skipped.no_threshold },
      });
    }
    return acc;
  }

  /**
   * Summarizes the sums. Values are fractions in [0, 1] keyed by alpha
   * string, `null` where nothing was evaluated; categories are sorted by
   * name; `category_mean` averages the categories with an evaluated pair.
   *
   * @returns Per-image and per-point PCK, overall, per category and as a
   * mean of categories, with pair, point and skip counts.
   */
  summary(): PckSummary {
    const keys = this.#keys;
    const k = keys.length;
    const names = [...this.#categories.keys()].sort(compareNames);
    const byAlpha = (f: (j: number) => number | null): PckByAlpha =>
      Object.fromEntries(keys.map((key, j) => [key, f(j)]));
    const perImage: Record<string, PckByAlpha> = {};
    const perPoint: Record<string, PckByAlpha> = {};
    const counts: PckSummary["category_counts"] = {};
    const allByPoints: Record<string, number[]> = {};
    const correct = new Array(k).fill(0);
    let pairs = 0, points = 0;
    const skipped = { no_keypoints: 0, no_threshold: 0 };
    for (const name of names) {
      const s = this.#categories.get(name)!;
      perImage[name] = byAlpha((j) =>
        s.pairs === 0 ? null : pckSum(s.correct_by_points, j) / s.pairs
      );
      perPoint[name] = byAlpha((j) => s.points === 0 ? null : s.correct[j] / s.points);
      counts[name] = {
        pairs: s.pairs,
        points: s.points,
        skipped_pairs: s.skipped.no_keypoints + s.skipped.no_threshold,
      };
      pairs += s.pairs;
      points += s.points;
      skipped.no_keypoints += s.skipped.no_keypoints;
      skipped.no_threshold += s.skipped.no_threshold;
      for (let j = 0; j < k; j++) correct[j] += s.correct[j];
      for (const [n, row] of Object.entries(s.correct_by_points)) {
        const all = allByPoints[n] ??= new Array(k).fill(0);
        for (let j = 0; j < k; j++) all[j] += row[j];
      }
    }
    const evaluated = names.filter((name) => this.#categories.get(name)!.pairs > 0);
    const meanOf = (table: Record<string, PckByAlpha>) =>
      byAlpha((j) =>
        evaluated.length === 0
          ? null
          : evaluated.reduce((sum, name) => sum + (table[name][keys[j]] as number), 0) /
            evaluated.length
      );
    return {
      alphas: [...keys],
      comparison: this.#comparison,
      pairs,
      points,
      skipped_pairs: skipped.no_keypoints + skipped.no_threshold,
      skipped,
      per_image: {
        all: byAlpha((j) => pairs === 0 ? null : pckSum(allByPoints, j) / pairs),
        categories: perImage,
        category_mean: meanOf(perImage),
      },
      per_point: {
        all: byAlpha((j) => points === 0 ? null : correct[j] / points),
        categories: perPoint,
        category_mean: meanOf(perPoint),
      },
      category_counts: counts,
    };
  }
}
