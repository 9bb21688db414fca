import assert from "node:assert/strict";
import { join } from "node:path";
import { buildLeaderboard, runEntry } from "../../leaderboard/board.ts";
import {
  filterTables,
  flattenSurvey,
  type LeaderboardRow,
  type LeaderboardTable,
  loadSurvey,
} from "../../leaderboard/survey.ts";
import { listRuns, runFileName, RunsStore, saveRun } from "../../evaluation/runs_store.ts";
import { DatasetMalformedError } from "../../errors/mod.ts";
import { type EvaluationReport, evaluationReport } from "../../evaluation/report.ts";
import type { DatasetId, ThresholdBase } from "../../datasets/types.ts";
import { PckAccumulator } from "../../core/pck.ts";
import { DEFAULT_LOCALIZER } from "../../core/localizer_options.ts";

const ROWS_PER_TABLE: Record<string, number> = {
  II: 32,
  III: 19,
  IV: 6,
  V: 19,
  VI: 9,
  VII: 6,
  VIII: 8,
  IX: 14,
  X: 5,
  XI: 10,
  XII: 4,
  A1: 24,
  A2: 24,
};

/** A real report: two pairs of 4 and 2 points; per image PCK@0.1 = (3/4 + 2/2) / 2. */
function fixtureReport(
  dataset: DatasetId = "pfwillow",
  thresholdBase: ThresholdBase = "bbox-kp",
): EvaluationReport {
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
      dataset,
      root: "/data",
      split: "test",
      pair_source: "csv",
      pair_file: "test_pairs.csv",
      keypoints: "raw",
      max_keypoints: 10,
      threshold_base: thresholdBase,
      pairs: [],
    },
    request: {
      by: "image",
      alphas: [0.05, 0.1],
      resize: "stretch",
      resample: "torch",
      comparison: "<=",
      limit: 2,
    },
    model: "dsift",
    resolution: 256,
    localizer: { ...DEFAULT_LOCALIZER },
    frames: ["official"],
    protocol: { dataset_options: { keypoints: "raw", max_keypoints: 10 }, non_official: [] },
  });
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "leaderboard_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function rowsOf(tables: LeaderboardTable[]): LeaderboardRow[] {
  return tables.flatMap((t) => t.rows);
}

function findRow(tables: LeaderboardTable[], table: string, method: string): LeaderboardRow {
  const row = tables.find((t) => t.id === table)?.rows.find((r) => r.method === method);
  assert.ok(row, `no row ${method} in table ${table}`);
  return row;
}

Deno.test("loadSurvey() flattens the 13 survey tables to 180 rows", async () => {
  const { tables, source } = await loadSurvey();
  assert.deepEqual(
    Object.fromEntries(tables.map((t) => [t.id, t.rows.length])),
    ROWS_PER_TABLE,
  );
  assert.equal(rowsOf(tables).length, 180);
  for (const t of tables) assert.equal(t.rows.length, t.row_count, t.id);
  assert.equal(source.arxiv, "https://arxiv.org/abs/2505.18060");
  assert.strictEqual(await loadSurvey(), await loadSurvey());
});

Deno.test("loadSurvey() keeps each percent as printed and adds its fraction", async (t) => {
  const { tables } = await loadSurvey();
  await t.step("checked cells of the README", () => {
    const pck = (table: string, method: string, key: string) =>
      findRow(tables, table, method).results.find((r) => r.key === key)!.pck;
    assert.deepEqual(pck("XI", "SimSC-iBOT", "pfpascal_img")["0.05"], {
      percent: 88.4,
      fraction: 0.884,
    });
    assert.deepEqual(pck("XI", "LPMFlow", "pfwillow_bboxkp")["0.1"], {
      percent: 81,
      fraction: 0.81,
    });
    assert.deepEqual(pck("XII", "Ours(DINOv2)", "ap10k")["0.1"], {
      percent: 87.4,
      fraction: 0.874,
    });
    assert.equal(pck("XI", "SimSC-iBOT", "spair")["0.15"], null);
  });
  await t.step("every fraction is percent / 100", () => {
    let cells = 0;
    for (const row of rowsOf(tables)) {
      for (const r of row.results) {
        for (const v of Object.values(r.pck)) {
          if (v === null) continue;
          cells++;
          assert.ok(Math.abs(v.fraction - v.percent / 100) < 1e-12);
          assert.ok(v.fraction >= 0 && v.fraction <= 1);
        }
      }
    }
    assert.ok(cells > 800, `${cells} cells`);
  });
});

Deno.test("loadSurvey() states each row's protocol and setting", async (t) => {
  const { tables } = await loadSurvey();
  await t.step("PCK keys map to datasets and threshold bases", () => {
    const scd = findRow(tables, "II", "SCNet").results;
    assert.deepEqual(
      scd.map((r) => [r.key, r.dataset, r.threshold_base]),
      [
        ["spair", "spair", "bbox"],
        ["pfpascal_img", "pfpascal", "img"],
        ["pfwillow_bbox", "pfwillow", "bbox"],
        ["pfwillow_bboxkp", "pfwillow", "bbox-kp"],
      ],
    );
  });
  await t.step("literature rows: as reported by the paper", () => {
    const row = findRow(tables, "XI", "SD-DINO");
    assert.equal(row.protocol.reported_by, "original_paper");
    assert.equal(row.protocol.averaging, null);
    assert.equal(row.protocol.frame, null);
    assert.match(row.protocol.note, /as reported by the paper/i);
  });
  await t.step("survey rows: per image", () => {
    const row = findRow(tables, "XI", "Ours(DINOv2)");
    assert.equal(row.is_survey_baseline, true);
    assert.equal(row.protocol.reported_by, "survey");
    assert.equal(row.protocol.averaging, "per_image");
    assert.equal(row.protocol.resolution, "840");
    for (const r of tables.find((x) => x.id === "V")!.rows) {
      assert.equal(r.protocol.averaging, "per_image");
    }
  });
  await t.step("ablation rows take their setting from the FT column", () => {
    const v = tables.find((x) => x.id === "V")!;
    assert.deepEqual(v.settings, ["zero_shot"]);
    assert.ok(v.rows.every((r) => r.setting_from === "finetuned" && r.method === null));
    assert.deepEqual(tables.find((x) => x.id === "VII")!.settings, ["supervised", "zero_shot"]);
  });
});

Deno.test("loadSurvey() keeps every flag and note", async () => {
  const { tables } = await loadSurvey();
  const flagged = rowsOf(tables).filter((r) => r.flags.includes("flag_columns_ambiguous"));
  assert.equal(flagged.length, 27);
  for (const r of flagged) assert.ok(Array.isArray(r.config.meta_candidates));
  const dinov3 = findRow(tables, "XI", "Ours(DINOv3)");
  assert.deepEqual(dinov3.flags, ["project_page_only"]);
  assert.equal(rowsOf(tables).filter((r) => r.flags.includes("resolution_inferred")).length, 26);
  assert.match(findRow(tables, "IV", "SCOT").notes ?? "", /PF-WILLOW/);
});

Deno.test("filterTables() filters by dataset, table, setting, kind and alpha", async (t) => {
  const { tables } = await loadSurvey();
  await t.step("dataset keeps only its columns and rows with a value", () => {
    const out = filterTables(tables, { dataset: "pfwillow" });
    assert.deepEqual(out.map((x) => x.id), ["II", "III", "IV", "X", "XI"]);
    for (const row of rowsOf(out)) {
      assert.ok(row.results.length > 0);
      for (const r of row.results) assert.equal(r.dataset, "pfwillow");
    }
    assert.ok(findRow(out, "II", "HPF").flags.includes("pfwillow_groups_duplicated"));
    assert.deepEqual(out[0].datasets, ["pfwillow"]);
  });
  await t.step("ap10k is only in XII", () => {
    const out = filterTables(tables, { dataset: "ap10k" });
    assert.deepEqual(out.map((x) => x.id), ["XII"]);
    assert.equal(out[0].rows.length, 4);
  });
  await t.step("alpha keeps that column only", () => {
    const out = filterTables(tables, { alpha: "0.01" });
    assert.deepEqual(out.map((x) => x.id), ["V", "VI", "VII", "VIII", "IX", "XII", "A1", "A2"]);
    for (const row of rowsOf(out)) {
      for (const r of row.results) assert.deepEqual(Object.keys(r.pck), ["0.01"]);
    }
    assert.deepEqual(filterTables(tables, { alpha: "0.2" }), []);
  });
  await t.step("setting", () => {
    assert.deepEqual(filterTables(tables, { setting: "weakly_supervised" }).map((x) => x.id), [
      "III",
    ]);
    const zs = filterTables(tables, { setting: "zero_shot", kind: "literature" });
    assert.deepEqual(zs.map((x) => x.id), ["IV"]);
  });
  await t.step("kind", () => {
    assert.deepEqual(filterTables(tables, { kind: "baseline_comparison" }).map((x) => x.id), [
      "X",
      "XI",
      "XII",
    ]);
  });
  await t.step("table, even when nothing else matches", () => {
    const out = filterTables(tables, { table: "XII", dataset: "spair" });
    assert.deepEqual(out.map((x) => [x.id, x.rows.length]), [["XII", 0]]);
    assert.equal(out[0].row_count, 4);
  });
  await t.step("no filter: rows are kept with their null cells", () => {
    assert.equal(rowsOf(filterTables(tables, {})).length, 180);
  });
});

Deno.test("flattenSurvey() rejects a file of the wrong shape", () => {
  assert.throws(() => flattenSurvey({}, "x.json"), DatasetMalformedError);
  const table = (pck: unknown) => ({
    tables: [{ id: "X", kind: "literature", rows: [{ method: "m", pck, flags: [] }] }],
  });
  assert.throws(() => flattenSurvey(table({ cub: { "0.1": 1 } }), "x.json"), /unknown PCK key/);
  assert.throws(() => flattenSurvey(table({ spair: { "0.1": "1" } }), "x.json"), /not a number/);
});

Deno.test("runFileName() builds a safe, deterministic name", () => {
  const now = new Date("2026-11-26T22:32:00.123Z");
  assert.equal(
    runFileName({ dataset: "spair", split: "test", model: "dsift" }, now),
    "spair-test-dsift-20261126T223200123Z.json",
  );
  assert.equal(
    runFileName({ dataset: "../..", split: "a/b", model: "Ünï c\u0000" }, now),
    "unknown-a-b-n-c-20261126T223200123Z.json",
  );
});

Deno.test("saveRun() and listRuns() round-trip a report", async (t) => {
  await withTempDir(async (root) => {
    const dir = join(root, "runs");
    const report = fixtureReport();
    const now = new Date("2026-01-02T03:04:05.006Z");
    let first = "";
    await t.step("saveRun() creates the folder and writes the report", async () => {
      first = await saveRun(report, dir, { now });
      assert.equal(first, join(dir, "pfwillow-test-dsift-20260102T030405006Z.json"));
      assert.deepEqual(JSON.parse(await Deno.readTextFile(first)), report);
    });
    await t.step("a taken name gets a suffix; no temp file remains", async () => {
      const second = await saveRun(report, dir, { now });
      assert.equal(second, join(dir, "pfwillow-test-dsift-20260102T030405006Z-2.json"));
      const names = [];
      for await (const e of Deno.readDir(dir)) names.push(e.name);
      assert.equal(names.length, 2);
    });
    await t.step("listRuns() reads them back", async () => {
      const { runs, skipped } = await listRuns(dir);
      assert.deepEqual(skipped, []);
      assert.deepEqual(runs.map((r) => r.file), [
        "pfwillow-test-dsift-20260102T030405006Z-2.json",
        "pfwillow-test-dsift-20260102T030405006Z.json",
      ]);
      assert.deepEqual(runs[1].report, report);
      assert.ok(runs[1].saved_at !== null && !Number.isNaN(Date.parse(runs[1].saved_at)));
    });
    await t.step("saveRun() rejects what is not a report", async () => {
      await assert.rejects(
        () => saveRun({ dataset: "spair" } as unknown as EvaluationReport, dir),
        TypeError,
      );
    });
  });
});

Deno.test("listRuns() skips and reports malformed files", async (t) => {
  await withTempDir(async (dir) => {
    await saveRun(fixtureReport(), dir, { now: new Date(0) });
    await Deno.writeTextFile(join(dir, "broken.json"), "{ not json");
    await Deno.writeTextFile(join(dir, "empty.json"), "{}");
    const bad = { ...fixtureReport(), frames: { official: { per_image: {} } } };
    await Deno.writeTextFile(join(dir, "frames.json"), JSON.stringify(bad));
    await Deno.writeTextFile(join(dir, "notes.txt"), "ignored");
    await Deno.mkdir(join(dir, "sub.json"));
    const { runs, skipped } = await listRuns(dir);
    assert.deepEqual(runs.map((r) => r.file), ["pfwillow-test-dsift-19700101T000000000Z.json"]);
    await t.step("each skipped file names its reason", () => {
      assert.deepEqual(skipped.map((s) => s.file), ["broken.json", "empty.json", "frames.json"]);
      assert.match(skipped[0].reason, /Cannot parse run/);
      assert.match(skipped[1].reason, /field `dataset` is not a string/);
      assert.match(skipped[2].reason, /frames\.official\.per_image\.all is missing/);
    });
  });
  await t.step("a missing folder is an empty list", async () => {
    assert.deepEqual(await listRuns("/no/such/runs/dir"), { runs: [], skipped: [] });
  });
});

Deno.test("runEntry() lists a run's protocol and PCK as fraction and percent", () => {
  const report = fixtureReport();
  const entry = runEntry({ file: "f.json", saved_at: null, report });
  assert.equal(entry.method, "dsift");
  assert.equal(entry.literature_key, "pfwillow_bboxkp");
  assert.deepEqual(entry.protocol, {
    dataset: "pfwillow",
    split: "test",
    frame: "official",
    by: "image",
    thres_type: "bbox-kp",
    comparison: "<=",
    alphas: ["0.05", "0.1"],
    resolution: 256,
    resize: "stretch",
    resample: "torch",
    model: "dsift",
    localizer: { ...DEFAULT_LOCALIZER },
    keypoints: "raw",
    dataset_options: { keypoints: "raw", max_keypoints: 10 },
    non_official: [],
    selection: { limit: 2 },
    n_pairs: 2,
    n_points: 6,
  });
  assert.deepEqual(entry.results, [{
    frame: "official",
    averaging: "per_image",
    pairs: 2,
    points: 6,
    pck: {
      "0.05": { percent: 62.5, fraction: 0.625 },
      "0.1": { percent: 87.5, fraction: 0.875 },
    },
  }]);
  const perPoint = runEntry({ file: "f.json", saved_at: null, report: { ...report, by: "point" } });
  const v = perPoint.results[0].pck["0.1"]!;
  assert.equal(v.fraction, 5 / 6);
  assert.ok(Math.abs(v.percent - 500 / 6) < 1e-9);
  assert.deepEqual(runEntry({ file: "f", saved_at: null, report }, "0.01").results, []);
  assert.equal(
    runEntry({ file: "f", saved_at: null, report: fixtureReport("spair", "bbox") })
      .literature_key,
    "spair",
  );
});

Deno.test("buildLeaderboard() puts runs beside the tables", async () => {
  await withTempDir(async (dir) => {
    await saveRun(fixtureReport(), dir);
    await saveRun(fixtureReport("spair", "bbox"), dir);
    const all = await buildLeaderboard({}, {
      runs: new RunsStore(dir, { maxCount: 100, maxBytes: 1e8 }),
    });
    assert.equal(all.runs.length, 2);
    assert.equal(all.tables.length, 13);
    assert.ok(all.notes.length > 0);
    const willow = await buildLeaderboard({ dataset: "pfwillow", alpha: "0.1" }, {
      runs: new RunsStore(dir, { maxCount: 100, maxBytes: 1e8 }),
    });
    assert.deepEqual(willow.runs.map((r) => r.protocol.dataset), ["pfwillow"]);
    assert.deepEqual(willow.filters, {
      dataset: "pfwillow",
      table: null,
      setting: null,
      kind: null,
      alpha: "0.1",
    });
    const xi = await buildLeaderboard({ table: "XI" }, {
      runs: new RunsStore(dir, { maxCount: 100, maxBytes: 1e8 }),
    });
    assert.ok(xi.discrepancies.every((d) => d.table === "XI"));
    assert.ok(xi.discrepancies.length >= 1);
  });
});
