import assert from "node:assert/strict";
import {
  DATASET_OPTION_RULES,
  datasetOptionIssues,
  nonOfficialOptions,
  resolveDatasetOptions,
} from "../../datasets/dataset_options.ts";
import { DATASET_IDS } from "../../datasets/types.ts";

Deno.test("resolveDatasetOptions() gives each dataset the official values of the options that apply", () => {
  assert.deepEqual(resolveDatasetOptions("spair", "test", {}), { max_keypoints: 20 });
  assert.deepEqual(resolveDatasetOptions("pfpascal", "trn", {}), {
    keypoints: "floor",
    max_keypoints: 20,
  });
  assert.deepEqual(resolveDatasetOptions("ap10k", "test", {}), {
    max_keypoints: 20,
    sample: 0,
    visibility: "visible",
    species: "official",
    pair_source: "tree",
  });
  // A cross set has families as categories: no species list.
  assert.equal(resolveDatasetOptions("ap10k", "test_cross_species", {}).species, "all");
  for (const id of DATASET_IDS) {
    assert.deepEqual(nonOfficialOptions(id, "test", resolveDatasetOptions(id, "test", {})), []);
  }
});

Deno.test("datasetOptionIssues() names every option that does not apply", () => {
  const issues = datasetOptionIssues("pfwillow", "test", { sample: 2, species: "all" });
  assert.deepEqual(issues.map((i) => i.path[0]), ["sample", "species"]);
  assert.match(issues[0].message, /does not apply to pfwillow \(it applies to ap10k\)/);
  assert.deepEqual(datasetOptionIssues("ap10k", "test", { sample: 2, keypoints: undefined }), []);
  assert.throws(() => resolveDatasetOptions("spair", "test", { keypoints: "raw" }), RangeError);
  for (const rule of Object.values(DATASET_OPTION_RULES)) assert.ok(rule.source.length > 0);
});
