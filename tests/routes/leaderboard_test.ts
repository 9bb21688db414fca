import assert from "node:assert/strict";
import { join } from "node:path";
import { withService } from "./_service.ts";
import { saveRun } from "../../evaluation/runs_store.ts";
import { type EvaluationReport, evaluationReport } from "../../evaluation/report.ts";
import { PckAccumulator } from "../../core/pck.ts";
import { DEFAULT_LOCALIZER } from "../../core/localizer_options.ts";

/** A real PF-WILLOW report: per image PCK@0.1 = (3/4 + 2/2) / 2 = 0.875. */
function willowReport(): EvaluationReport {
  const acc = new PckAccumulator({ alphas: [0.05, 0.1] });
  acc.addResult("car", { points: 4, correct: [1, 3] });
  acc.addResult("car", { points: 2, correct: [2, 2] });
  return evaluationReport({
    frames: { official: acc.summary() },
    sums: { official: acc.toJSON() },
    counters: { pairs: 2, distinct_images: 4, extractions: 4, matches: 2 },
    timings_ms: { read: 1, extract: 2, match: 3, total: 6 },
  }, {
    slice: {
      dataset: "pfwillow",
      root: "/data",
      split: "test",
      pair_source: "csv",
      pair_file: "test_pairs.csv",
      keypoints: "raw",
      max_keypoints: 10,
      threshold_base: "bbox-kp",
      pairs: [],
    },
    request: {
      by: "image",
      alphas: [0.05, 0.1],
      resize: "stretch",
      resample: "torch",
      comparison: "<=",
    },
    model: "dsift",
    resolution: 256,
    localizer: { ...DEFAULT_LOCALIZER },
    frames: ["official"],
    protocol: { dataset_options: { keypoints: "raw", max_keypoints: 10 }, non_official: [] },
  });
}

// deno-lint-ignore no-explicit-any
async function get(url: string, query = ""): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}/v1/leaderboard${query}`);
  return { status: res.status, json: await res.json() };
}

// deno-lint-ignore no-explicit-any
type Json = any;

Deno.test("GET /v1/leaderboard serves the survey tables and the saved runs", async (t) => {
  const runsDir = await Deno.makeTempDir({ prefix: "leaderboard_route_test_" });
  try {
    const saved = await saveRun(willowReport(), runsDir, { now: new Date("2026-01-02T00:00:00Z") });
    await Deno.writeTextFile(join(runsDir, "broken.json"), "{");
    await withService({ RUNS_DIR: runsDir }, async (url) => {
      await t.step("no filter: 13 tables, 180 rows, the run, the skipped file", async () => {
        const r = await get(url);
        assert.equal(r.status, 200);
        assert.equal(r.json.tables.length, 13);
        const rows = r.json.tables.reduce((n: number, x: Json) => n + x.rows.length, 0);
        assert.equal(rows, 180);
        assert.equal(r.json.source.venue, "TPAMI 2025");
        assert.deepEqual(r.json.skipped_runs.map((s: Json) => s.file), ["broken.json"]);
        assert.deepEqual(r.json.runs.map((x: Json) => x.file), [saved.split("/").pop()]);
      });
      await t.step("the saved run lists its protocol and PCK", async () => {
        const r = await get(url, "?dataset=pfwillow&alpha=0.1");
        assert.equal(r.status, 200);
        const [run] = r.json.runs;
        assert.equal(run.method, "dsift");
        assert.equal(run.literature_key, "pfwillow_bboxkp");
        assert.equal(run.protocol.thres_type, "bbox-kp");
        assert.equal(run.protocol.by, "image");
        assert.equal(run.protocol.resolution, 256);
        assert.equal(run.protocol.n_pairs, 2);
        assert.deepEqual(run.results, [{
          frame: "official",
          averaging: "per_image",
          pairs: 2,
          points: 6,
          pck: { "0.1": { percent: 87.5, fraction: 0.875 } },
        }]);
      });
      await t.step("dataset and alpha filter tables and runs", async () => {
        const r = await get(url, "?dataset=ap10k&alpha=0.10");
        assert.equal(r.status, 200);
        assert.deepEqual(r.json.filters.alpha, "0.1");
        assert.deepEqual(r.json.tables.map((x: Json) => x.id), ["XII"]);
        for (const row of r.json.tables[0].rows) {
          assert.deepEqual(row.results.map((x: Json) => x.key), ["ap10k"]);
          assert.deepEqual(Object.keys(row.results[0].pck), ["0.1"]);
        }
        assert.deepEqual(r.json.runs, []);
      });
      await t.step("table (any case) keeps flags; setting filters rows", async () => {
        const xi = await get(url, "?table=xi");
        assert.deepEqual(xi.json.tables.map((x: Json) => x.id), ["XI"]);
        const dinov3 = xi.json.tables[0].rows.find((x: Json) => x.method === "Ours(DINOv3)");
        assert.deepEqual(dinov3.flags, ["project_page_only"]);
        const weak = await get(url, "?setting=weakly_supervised");
        assert.deepEqual(weak.json.tables.map((x: Json) => x.id), ["III"]);
        const ablation = await get(url, "?kind=ablation&setting=supervised");
        assert.ok(
          ablation.json.tables.every((x: Json) =>
            x.kind === "ablation" && x.rows.every((row: Json) => row.setting === "supervised")
          ),
        );
      });
      await t.step("404 unknown_table", async () => {
        const r = await get(url, "?table=XIII");
        assert.equal(r.status, 404);
        assert.equal(r.json.error.code, "unknown_table");
        assert.ok(r.json.error.details.known.includes("A2"));
        assert.equal(typeof r.json.request_id, "string");
      });
      await t.step("422 invalid_request on a bad query value", async () => {
        for (const q of ["?dataset=cub", "?alpha=2", "?alpha=abc", "?setting=x", "?colour=red"]) {
          const r = await get(url, q);
          assert.equal(r.status, 422, q);
          assert.equal(r.json.error.code, "invalid_request", q);
          assert.ok(r.json.error.details.issues.length > 0, q);
        }
      });
    });
  } finally {
    await Deno.remove(runsDir, { recursive: true });
  }
});
