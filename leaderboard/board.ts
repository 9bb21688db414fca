/**
 * The leaderboard: the survey's tables (`./survey.ts`) beside this service's
 * own saved evaluation runs (`evaluation/runs_store.ts`), filtered alike. No
 * HTTP here: `routes/leaderboard.ts` serves it.
 *
 * @example Usage
 * ```ts
 * import { buildLeaderboard } from "./board.ts";
 * import { RunsStore } from "../evaluation/runs_store.ts";
 * import assert from "node:assert/strict";
 *
 * const board = await buildLeaderboard({ table: "XI", dataset: "spair", alpha: "0.1" }, {
 *   runs: new RunsStore("/no/such/runs", { maxCount: 10, maxBytes: 1e6 }),
 * });
 * const ours = board.tables[0].rows.find((r) => r.method === "Ours(DINOv2)")!;
 * assert.deepEqual(ours.results[0].pck["0.1"], { percent: 85.1, fraction: 0.851 });
 * assert.deepEqual(board.runs, []);
 * ```
 *
 * @module
 */

import type { DatasetId, ThresholdBase } from "../datasets/types.ts";
import type { RunList, SavedRun, SkippedRun } from "../evaluation/runs_store.ts";
import {
  filterTables,
  type LeaderboardFilters,
  type LeaderboardTable,
  loadSurvey,
  PCK_KEYS,
  type PckCells,
  type PckKey,
} from "./survey.ts";

/** PCK of one scoring frame of a run. */
export interface RunResult {
  frame: string;
  /** `per_image` or `per_point`: the report's `by`. */
  averaging: "per_image" | "per_point";
  pairs: number;
  points: number;
  pck: PckCells;
}

/** A saved run as the leaderboard lists it. */
export interface LeaderboardRun {
  file: string;
  saved_at: string | null;
  method: string;
  /** The report's protocol settings, as saved. */
  protocol: Record<string, unknown>;
  /** The survey's PCK key with the same dataset and threshold base, if any. */
  literature_key: PckKey | null;
  results: RunResult[];
}

/** The whole leaderboard. */
export interface Leaderboard {
  source: Record<string, unknown>;
  filters: Record<keyof LeaderboardFilters, string | null>;
  pck_keys: { key: PckKey; dataset: DatasetId; threshold_base: ThresholdBase; label: string }[];
  protocol_notes: Record<string, string>;
  tables: LeaderboardTable[];
  runs: LeaderboardRun[];
  /** Which runs of those that match the filters are shown (newest last, by file name). */
  runs_page: { offset: number; limit: number; total: number };
  skipped_runs: SkippedRun[];
  discrepancies: Record<string, unknown>[];
  notes: string[];
}

const NOTES: readonly string[] = Object.freeze([
  "Literature rows repeat what each original paper reported: input resolution, per-image or per-point averaging and splits follow that paper, so only values with the same dataset, threshold base and alpha are comparable at all.",
  "`percent` is the value as printed in the paper; `fraction` = percent / 100, the unit of this service's runs.",
  "The survey's own experiments (ablation tables and its baseline rows, `reported_by: survey`) use per-image PCK; frame, resize and split are not stated in the tables and are null.",
  "Ablation rows have no setting column: `setting` comes from their FT column (fine-tuned with keypoint supervision = supervised, frozen = zero_shot); see `setting_from`.",
  "FT/ML/Aug positions are lost in 27 rows of Tables II and III (flag `flag_columns_ambiguous`): those cells are null and `config.meta_candidates` lists every possible placement.",
  "Runs are this service's saved evaluation reports (RUNS_DIR); they are filtered by dataset and alpha only. `literature_key` names the survey column with the same dataset and threshold base.",
]);

function toPercent(fraction: number): number {
  return Number((fraction * 100).toPrecision(12));
}

function literatureKey(dataset: string, base: string): PckKey | null {
  for (const [key, v] of Object.entries(PCK_KEYS)) {
    if (v.dataset === dataset && v.threshold_base === base) return key as PckKey;
  }
  return null;
}

/**
 * A saved run as a leaderboard entry: its protocol, and PCK per frame at the
 * report's averaging (`by`), as fractions and percent.
 *
 * @param run A run from {@linkcode listRuns}.
 * @param alpha Keep only this alpha key (e.g. `"0.1"`); frames without it are left out.
 * @returns The entry.
 */
export function runEntry(run: SavedRun, alpha?: string): LeaderboardRun {
  const r = run.report;
  const averaging = r.by === "point" ? "per_point" : "per_image";
  const results: RunResult[] = [];
  for (const [frame, f] of Object.entries(r.frames)) {
    if (f === undefined) continue;
    const pck: PckCells = {};
    for (const [a, v] of Object.entries(f[averaging].all)) {
      if (alpha !== undefined && a !== alpha) continue;
      pck[a] = v === null ? null : { percent: toPercent(v), fraction: v };
    }
    if (alpha !== undefined && Object.keys(pck).length === 0) continue;
    results.push({ frame, averaging, pairs: f.pairs, points: f.points, pck });
  }
  return {
    file: run.file,
    saved_at: run.saved_at,
    method: r.model,
    protocol: {
      dataset: r.dataset,
      split: r.split,
      frame: r.frame,
      by: r.by,
      thres_type: r.thres_type,
      comparison: r.comparison ?? null,
      alphas: r.alphas,
      resolution: r.resolution,
      resize: r.resize,
      // Runs saved before these fields existed have none.
      resample: r.resample ?? null,
      model: r.model,
      localizer: r.localizer ?? null,
      keypoints: r.keypoints ?? null,
      dataset_options: r.dataset_options ?? null,
      non_official: r.non_official ?? null,
      selection: r.selection ?? {},
      n_pairs: r.n_pairs,
      n_points: r.n_points,
    },
    literature_key: literatureKey(r.dataset, r.thres_type),
    results,
  };
}

function touches(d: Record<string, unknown>, ids: Set<string>): boolean {
  const named = [d.table, ...(Array.isArray(d.tables) ? d.tables : [])];
  return named.some((t) => typeof t === "string" && ids.has(t));
}

/**
 * Builds the leaderboard: the survey tables and the saved runs, filtered.
 *
 * @param filters What to show.
 * @param options `runs`: the saved runs (a `RunsStore`); `page`: which of the matching runs to
 *   show (default: all).
 * @returns The leaderboard.
 * @throws {DatasetMalformedError} When the survey file cannot be read.
 *
 * @example Usage
 * ```ts
 * import { buildLeaderboard } from "./board.ts";
 * import assert from "node:assert/strict";
 *
 * const runs = { list: () => Promise.resolve({ runs: [], skipped: [] }) };
 * const board = await buildLeaderboard({ setting: "weakly_supervised" }, { runs });
 * assert.deepEqual(board.tables.map((t) => t.id), ["III"]);
 * ```
 */
export async function buildLeaderboard(
  filters: LeaderboardFilters,
  options: { runs: { list(): Promise<RunList> }; page?: { offset: number; limit: number } },
): Promise<Leaderboard> {
  const survey = await loadSurvey();
  const tables = filterTables(survey.tables, filters);
  const ids = new Set(tables.map((t) => t.id));
  const { runs, skipped } = await options.runs.list();
  const entries = runs
    .filter((r) => filters.dataset === undefined || r.report.dataset === filters.dataset)
    .map((r) => runEntry(r, filters.alpha))
    .filter((r) => r.results.length > 0);
  const page = options.page ?? { offset: 0, limit: entries.length };
  return {
    source: {
      ...survey.source,
      note:
        "Numbers and configuration cells come from the paper; labels, flags and notes were written for this project (leaderboard/literature/README.md).",
    },
    filters: {
      dataset: filters.dataset ?? null,
      table: filters.table ?? null,
      setting: filters.setting ?? null,
      kind: filters.kind ?? null,
      alpha: filters.alpha ?? null,
    },
    pck_keys: Object.entries(PCK_KEYS).map(([key, v]) => ({
      key: key as PckKey,
      ...v,
      label: survey.column_keys[key] ?? key,
    })),
    protocol_notes: survey.protocol_notes,
    tables,
    runs: entries.slice(page.offset, page.offset + page.limit),
    runs_page: { offset: page.offset, limit: page.limit, total: entries.length },
    skipped_runs: skipped,
    discrepancies: survey.discrepancies.filter((d) => touches(d, ids)),
    notes: [...NOTES],
  };
}
