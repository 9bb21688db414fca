/**
 * The options that decide which pairs and keypoints a benchmark read yields,
 * declared once: their values, the datasets each applies to, and the value
 * the survey's official code (Visual-AI/Semantic-Correspondence, `test.py`
 * and `dataset/*.py`) uses, which is the default. An option given for a
 * dataset it does not apply to is an error, not ignored, and every value
 * that differs from the official one is listed by
 * {@linkcode nonOfficialOptions} so results can say so.
 *
 * @example Usage
 * ```ts
 * import { datasetOptionIssues, nonOfficialOptions, resolveDatasetOptions } from "./dataset_options.ts";
 * import assert from "node:assert/strict";
 *
 * const willow = resolveDatasetOptions("pfwillow", "test", {});
 * assert.deepEqual(willow, { keypoints: "floor", max_keypoints: 20 });
 * assert.deepEqual(nonOfficialOptions("pfwillow", "test", { ...willow, keypoints: "raw" }), [
 *   { option: "keypoints", value: "raw", official: "floor" },
 * ]);
 * assert.equal(datasetOptionIssues("spair", "test", { keypoints: "floor" })[0].path[0], "keypoints");
 * ```
 *
 * @module
 */

import { z } from "zod";
import { DATASET_IDS, type DatasetId, KEYPOINT_CONVENTIONS } from "./types.ts";

/**
 * AP-10K keypoints kept: `visible`, those with visibility 2 in both images
 * (the official `_process_keypoints`); `labelled`, those with visibility
 * above 0 in both (COCO's labelled points, GeoAware-SC's pair building).
 */
export const AP10K_VISIBILITIES = Object.freeze(["visible", "labelled"] as const);

/**
 * AP-10K species read: `official`, the 47 species of the official list, in
 * its order; `all`, every category found, by name.
 */
export const AP10K_SPECIES_SETS = Object.freeze(["official", "all"] as const);

/**
 * Where AP-10K pairs come from: `tree`, GeoAware-SC's `PairAnnotation/`
 * tree as the official code reads it; `coco`, pairs this service builds
 * from an AP-10K COCO annotation file (every ordered pair of animals of a
 * species on different images).
 */
export const AP10K_PAIR_SOURCES = Object.freeze(["tree", "coco"] as const);

/**
 * The AP-10K splits whose categories are species (`trn`, `val`, `test`,
 * and `train` as another name of `trn`); GeoAware-SC's cross-species and
 * cross-family sets are not, and the official code does not read them.
 */
export const AP10K_SPECIES_SPLITS: readonly string[] = Object.freeze([
  "trn",
  "train",
  "val",
  "test",
]);

/** The options as a request carries them, each optional. */
export const DatasetOptionsSchema = z.object({
  /** PF-WILLOW, PF-PASCAL: how stored coordinates become keypoints. */
  keypoints: z.enum(KEYPOINT_CONVENTIONS).optional(),
  /** The most keypoints kept per pair, the first ones. */
  max_keypoints: z.coerce.number().int().min(1).max(1000).optional(),
  /** AP-10K: pairs drawn per category (with replacement, as `test.py --val_sample`); 0 = all. */
  sample: z.coerce.number().int().min(0).max(100_000).optional(),
  /** AP-10K: which keypoints count, see {@linkcode AP10K_VISIBILITIES}. */
  visibility: z.enum(AP10K_VISIBILITIES).optional(),
  /** AP-10K: which species, see {@linkcode AP10K_SPECIES_SETS}. */
  species: z.enum(AP10K_SPECIES_SETS).optional(),
  /** AP-10K: where pairs come from, see {@linkcode AP10K_PAIR_SOURCES}. */
  pair_source: z.enum(AP10K_PAIR_SOURCES).optional(),
});

/** Dataset options as given (each optional). */
export type DatasetOptionsInput = z.output<typeof DatasetOptionsSchema>;

/** The name of one option. */
export type DatasetOptionName = keyof DatasetOptionsInput;

/** Options resolved for one dataset: those that apply, with their values. */
export type DatasetOptions = Partial<Required<DatasetOptionsInput>> & { max_keypoints: number };

interface Rule {
  /** The datasets it applies to. */
  datasets: readonly DatasetId[];
  /** The official code's value (the default). */
  official: string | number;
  /** Where the official code fixes it, for messages and docs. */
  source: string;
}

/** Each option: where it applies and its official value. */
export const DATASET_OPTION_RULES: Readonly<Record<DatasetOptionName, Rule>> = Object.freeze({
  keypoints: {
    datasets: ["pfwillow", "pfpascal"],
    official: "floor",
    source: "dataset/pfwillow.py and dataset/pfpascal.py: .float().floor()",
  },
  max_keypoints: {
    datasets: DATASET_IDS,
    official: 20,
    source: "dataset/dataset.py: self.max_pts = 20",
  },
  sample: {
    datasets: ["ap10k"],
    // test.py's --val_sample defaults to 2; the papers' numbers use all pairs.
    official: 0,
    source: "dataset/ap10k.py: np.random.seed(42); np.random.choice(len(pairs), subsample)",
  },
  visibility: {
    datasets: ["ap10k"],
    official: "visible",
    source: "dataset/ap10k.py: _process_keypoints, visibility == 2 in both images",
  },
  species: {
    datasets: ["ap10k"],
    official: "official",
    source: "dataset/ap10k.py: self.cls, 47 species",
  },
  pair_source: {
    datasets: ["ap10k"],
    official: "tree",
    source: "dataset/ap10k.py: PairAnnotation/<split>/*:<species>.json",
  },
});

const NAMES = Object.keys(DATASET_OPTION_RULES) as DatasetOptionName[];

/** Whether a split of AP-10K has species as its categories. */
function speciesSplit(split: string): boolean {
  return AP10K_SPECIES_SPLITS.includes(split);
}

/** The default of an option for a dataset and split. */
function defaultOf(id: DatasetId, split: string, name: DatasetOptionName): string | number {
  // GeoAware-SC's cross sets have families or "all" as categories: no species list applies.
  if (id === "ap10k" && name === "species" && !speciesSplit(split)) return "all";
  return DATASET_OPTION_RULES[name].official;
}

/**
 * The problems of a set of options for a dataset and split: options that do
 * not apply to it, and `species: "official"` on an AP-10K split whose
 * categories are not species.
 *
 * @param id The dataset.
 * @param split The split asked for.
 * @param given The options given.
 * @returns One issue per problem, with the option as its path; empty when fine.
 */
export function datasetOptionIssues(
  id: DatasetId,
  split: string,
  given: DatasetOptionsInput,
): { path: [DatasetOptionName]; message: string }[] {
  const issues: { path: [DatasetOptionName]; message: string }[] = [];
  for (const name of NAMES) {
    if (given[name] === undefined) continue;
    const rule = DATASET_OPTION_RULES[name];
    if (!rule.datasets.includes(id)) {
      issues.push({
        path: [name],
        message: `does not apply to ${id} (it applies to ${rule.datasets.join(", ")})`,
      });
    }
  }
  if (id === "ap10k" && given.species === "official" && !speciesSplit(split)) {
    issues.push({
      path: ["species"],
      message: `\`official\` applies to the splits whose categories are species (${
        AP10K_SPECIES_SPLITS.join(", ")
      }), not ${split}`,
    });
  }
  return issues;
}

/**
 * Every option that applies to a dataset, with the value given or the
 * default. Call it on options without issues ({@linkcode datasetOptionIssues}).
 *
 * @param id The dataset.
 * @param split The split asked for.
 * @param given The options given.
 * @returns The resolved options.
 * @throws {RangeError} When an option does not apply to the dataset.
 */
export function resolveDatasetOptions(
  id: DatasetId,
  split: string,
  given: DatasetOptionsInput,
): DatasetOptions {
  const problems = datasetOptionIssues(id, split, given);
  if (problems.length) {
    const p = problems[0];
    throw new RangeError(`Cannot read ${id}: option \`${p.path[0]}\` ${p.message}`);
  }
  const out: Record<string, string | number> = {};
  for (const name of NAMES) {
    if (DATASET_OPTION_RULES[name].datasets.includes(id)) {
      out[name] = given[name] ?? defaultOf(id, split, name);
    }
  }
  return out as DatasetOptions;
}

/** One setting of a result that differs from the official protocol. */
export interface NonOfficialSetting {
  /** The option's name. */
  option: string;
  /** The value used. */
  value: string | number;
  /** The official code's value. */
  official: string | number;
}

/**
 * The resolved options whose values differ from the official code's, plus
 * an AP-10K split the official code does not read.
 *
 * @param id The dataset.
 * @param split The split read.
 * @param options The resolved options.
 * @returns One entry per difference, in option order.
 */
export function nonOfficialOptions(
  id: DatasetId,
  split: string,
  options: DatasetOptions,
): NonOfficialSetting[] {
  const out: NonOfficialSetting[] = [];
  if (id === "ap10k" && !speciesSplit(split)) {
    out.push({ option: "split", value: split, official: "trn, val or test" });
  }
  for (const name of NAMES) {
    const value = options[name];
    const official = DATASET_OPTION_RULES[name].official;
    if (value === undefined || value === official) continue;
    // A split without species has no species list to follow: "all" is its only reading.
    if (name === "species" && id === "ap10k" && !speciesSplit(split)) continue;
    out.push({ option: name, value, official });
  }
  return out;
}
