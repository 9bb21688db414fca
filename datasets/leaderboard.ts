/**
 * The leaderboard: the result tables of the survey (Zhang et al., "Semantic
 * Correspondence: Unified Benchmarking and a Strong Baseline", TPAMI 2025),
 * flattened to one row per printed line, beside this service's own saved
 * evaluation runs. No HTTP here: `routes/leaderboard.ts` serves it.
 *
 * The tables come from `./literature/survey_tables.json` (see the README
 * beside it). Each PCK value keeps the paper's `percent` as printed and adds
 * `fraction` (= percent / 100), the unit of this service's reports. Every row
 * states its protocol: the threshold base of each dataset column, the
 * averaging (per image for the survey's own experiments, `null` for numbers
 * repeated from other papers) and its resolution; frame, resize and split are
 * not in the file and stay `null`.
 *
 * Runs are {@linkcode EvaluationReport}s saved as JSON files, one per file,
 * in a folder (`RUNS_DIR`, default `./runs`) by {@linkcode saveRun} and read
 * back by {@linkcode listRuns}, which skips (and reports) files it cannot read.
 *
 * @example Usage
 * ```ts
 * import { buildLeaderboard } from "./leaderboard.ts";
 * import assert from "node:assert/strict";
 *
 * const board = await buildLeaderboard({ table: "XI", dataset: "spair", alpha: "0.1" }, {
 *  runsDir: "/no/such/runs",
 * });
 * const ours = board.tables[0].rows.find((r) => r.method === "Ours(DINOv2)")!;
 * assert.deepEqual(ours.results[0].pck["0.1"], { percent: 85.1, fraction: 0.851 });
 * assert.equal(ours.results[0].threshold_base, "bbox");
 * assert.deepEqual(board.runs, []);
 * ```
 *
 * @module
 */

import { join } from "node:path";
import type { DatasetId, ThresholdBase } from "./types.ts";
import type { EvaluationReport } from "./evaluation_report.ts";
import { DatasetMalformedError } from "./errors.ts";

/** Where the survey tables lie. */
export const SURVEY_TABLES_URL: URL = new URL("./literature/survey_tables.json", import.meta.url);

/** The default folder of saved runs (`RUNS_DIR`). */
export const DEFAULT_RUNS_DIR = "./runs";

/** Training setting of a row, as the survey groups methods. */
export type Setting = "supervised" | "weakly_supervised" | "zero_shot";

/** The settings, in the survey's order. */
export const SETTINGS: readonly Setting[] = Object.freeze([
  "supervised",
  "weakly_supervised",
  "zero_shot",
]);

/** Kind of a survey table, as the file labels it. */
export type TableKind = "literature" | "ablation" | "baseline_comparison";

/** The table kinds. */
export const TABLE_KINDS: readonly TableKind[] = Object.freeze([
  "literature",
  "ablation",
  "baseline_comparison",
]);

/** Each PCK key of the file: the dataset it measures and its threshold base. */
export const PCK_KEYS = Object.freeze(
  {
    spair: { dataset: "spair", threshold_base: "bbox" },
    pfpascal_img: { dataset: "pfpascal", threshold_base: "img" },
    pfwillow_bbox: { dataset: "pfwillow", threshold_base: "bbox" },
    pfwillow_bboxkp: { dataset: "pfwillow", threshold_base: "bbox-kp" },
    ap10k: { dataset: "ap10k", threshold_base: "bbox" },
  } as const satisfies Record<string, { dataset: DatasetId; threshold_base: ThresholdBase }>,
);

/** A PCK key of the file (`spair`, `pfpascal_img`, ...). */
export type PckKey = keyof typeof PCK_KEYS;

/** One PCK value: as printed (percent) and as a fraction in [0, 1]. */
export interface PckValue {
  percent: number;
  fraction: number;
}

/** PCK values keyed by alpha string (`"0.1"`); `null` where nothing is reported. */
export type PckCells = Record<string, PckValue | null>;

/** One dataset column group of a row. */
export interface LiteratureResult {
  /** The file's PCK key. */
  key: PckKey;
  dataset: DatasetId;
  /** What alpha scales: `bbox`, `bbox-kp` or `img` (as this service's `thres_type`). */
  threshold_base: ThresholdBase;
  /** The file's description of the key, e.g. "SPair-71k, PCK@alpha_bbox". */
  label: string;
  pck: PckCells;
}

/** How a row's numbers were obtained, as far as the file says. */
export interface RowProtocol {
  /** `survey`: the survey's own experiment; `original_paper`: repeated from the cited paper. */
  reported_by: "survey" | "original_paper";
  /** `per_image` for the survey's own experiments; `null` = as reported by the paper. */
  averaging: "per_image" | null;
  /** The resolution cell (e.g. `"840"`, `"960, 840"`, `"Ori"`); `null` = not stated. */
  resolution: string | null;
  /** Scoring frame: never stated in the file. */
  frame: null;
  /** Resize convention: never stated in the file. */
  resize: null;
  /** Evaluation split: never stated in the file. */
  split: null;
  note: string;
}

/** One printed line of a survey table. */
export interface LeaderboardRow {
  table: string;
  /** Method name (literature rows); `null` on ablation rows. */
  method: string | null;
  /** A display name: the method, or the ablation row's configuration cells. */
  label: string;
  /** Citation number in the survey (e.g. `"[29]"`), `null` for the survey's own rows. */
  ref: string | null;
  setting: Setting | null;
  /** Which field gave `setting`: the row's `setting`, or its FT column (ablations). */
  setting_from: "setting" | "finetuned" | null;
  /** A row of the survey's strong baseline ("Ours"). */
  is_survey_baseline: boolean;
  /** The row's configuration cells, as in the file (see the table's `columns`). */
  config: Record<string, unknown>;
  results: LiteratureResult[];
  protocol: RowProtocol;
  /** Problems found in this row (see the README); kept on every view. */
  flags: string[];
  notes: string | null;
  /** Where the row was read: text line, cells as printed, project-page check. */
  source: Record<string, unknown>;
}

/** One survey table, flattened. */
export interface LeaderboardTable {
  id: string;
  title: string;
  kind: TableKind;
  /** The settings of its rows, in {@linkcode SETTINGS} order. */
  settings: Setting[];
  /** The datasets of its columns (of the rows shown). */
  datasets: DatasetId[];
  /** The alphas of its columns (of the rows shown). */
  alphas: string[];
  /** What each row field means, from the file. */
  columns: Record<string, unknown>;
  on_project_page: boolean;
  /** Rows in the paper table (before any filter). */
  row_count: number;
  rows: LeaderboardRow[];
}

/** The survey, flattened. */
export interface Survey {
  source: Record<string, unknown>;
  protocol_notes: Record<string, string>;
  column_keys: Record<string, string>;
  tables: LeaderboardTable[];
  discrepancies: Record<string, unknown>[];
}

/** What to show; every field is optional. */
export interface LeaderboardFilters {
  dataset?: DatasetId;
  /** Table id (`II` ... `XII`, `A1`, `A2`). */
  table?: string;
  setting?: Setting;
  kind?: TableKind;
  /** One alpha, as a key (`"0.1"`). */
  alpha?: string;
}

/** A run read back from the runs folder. */
export interface SavedRun {
  /** File name inside the folder. */
  file: string;
  /** Modification time of the file (ISO 8601), `null` if unknown. */
  saved_at: string | null;
  report: EvaluationReport;
}

/** A file of the runs folder that could not be read. */
export interface SkippedRun {
  file: string;
  reason: string;
}

/** What {@linkcode listRuns} returns. */
export interface RunList {
  runs: SavedRun[];
  skipped: SkippedRun[];
}

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

const ROW_FIELDS = new Set([
  "method",
  "ref",
  "setting",
  "pck",
  "flags",
  "notes",
  "is_survey_baseline",
]);
const SOURCE_FIELDS = new Set([
  "method_as_printed",
  "text_source_line",
  "text_meta_cells",
  "text_cells_dropped",
  "html",
]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function toFraction(percent: number): number {
  return Number((percent / 100).toPrecision(12));
}

function toPercent(fraction: number): number {
  return Number((fraction * 100).toPrecision(12));
}

function rowLabel(row: Record<string, unknown>): string {
  if (typeof row.method === "string") return row.method;
  const parts = [String(row.backbone ?? "?")];
  if (row.finetuned === true) {
    parts.push(
      typeof row.finetune_from_stage === "number"
        ? `fine-tuned from stage ${row.finetune_from_stage}`
        : "fine-tuned",
    );
  } else if (row.finetuned === false) parts.push("frozen");
  if (typeof row.module === "string") parts.push(`+ ${row.module}`);
  if (typeof row.resolution === "string") parts.push(`@ ${row.resolution}`);
  return parts.join(" ");
}

function rowSetting(
  row: Record<string, unknown>,
): Pick<LeaderboardRow, "setting" | "setting_from"> {
  if (typeof row.setting === "string") {
    if (!(SETTINGS as readonly string[]).includes(row.setting)) {
      throw new TypeError(`unknown setting "${row.setting}"`);
    }
    return { setting: row.setting as Setting, setting_from: "setting" };
  }
  if (typeof row.finetuned === "boolean") {
    return { setting: row.finetuned ? "supervised" : "zero_shot", setting_from: "finetuned" };
  }
  return { setting: null, setting_from: null };
}

function rowResults(pck: unknown, columnKeys: Record<string, string>): LiteratureResult[] {
  if (!isObject(pck)) throw new TypeError("pck is not an object");
  return Object.entries(pck).map(([key, cells]) => {
    if (!Object.hasOwn(PCK_KEYS, key)) throw new TypeError(`unknown PCK key "${key}"`);
    if (!isObject(cells)) throw new TypeError(`pck.${key} is not an object`);
    const out: PckCells = {};
    for (const [alpha, v] of Object.entries(cells)) {
      if (v !== null && typeof v !== "number") {
        throw new TypeError(`pck.${key}.${alpha} is not a number`);
      }
      out[alpha] = v === null ? null : { percent: v, fraction: toFraction(v) };
    }
    const k = key as PckKey;
    return { key: k, ...PCK_KEYS[k], label: columnKeys[k] ?? k, pck: out };
  });
}

function flattenRow(
  table: { id: string; kind: TableKind },
  row: Record<string, unknown>,
  columnKeys: Record<string, string>,
): LeaderboardRow {
  const config: Record<string, unknown> = {};
  const source: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (SOURCE_FIELDS.has(k)) source[k] = v;
    else if (!ROW_FIELDS.has(k)) config[k] = v;
  }
  const flags = row.flags ?? [];
  if (!Array.isArray(flags) || !flags.every((f) => typeof f === "string")) {
    throw new TypeError("flags is not a list of strings");
  }
  const bySurvey = table.kind === "ablation" || row.is_survey_baseline === true;
  return {
    table: table.id,
    method: typeof row.method === "string" ? row.method : null,
    label: rowLabel(row),
    ref: typeof row.ref === "string" ? row.ref : null,
    ...rowSetting(row),
    is_survey_baseline: row.is_survey_baseline === true,
    config,
    results: rowResults(row.pck, columnKeys),
    protocol: {
      reported_by: bySurvey ? "survey" : "original_paper",
      averaging: bySurvey ? "per_image" : null,
      resolution: typeof row.resolution === "string" ? row.resolution : null,
      frame: null,
      resize: null,
      split: null,
      note: bySurvey
        ? "The survey's own experiment: per-image PCK; frame, resize and split not stated in the table"
        : "As reported by the paper: averaging, resolution handling, frame and split follow the cited paper",
    },
    flags: [...flags],
    notes: typeof row.notes === "string" && row.notes !== "" ? row.notes : null,
    source,
  };
}

type TableHead = Omit<LeaderboardTable, "settings" | "datasets" | "alphas" | "rows">;

/** A table with these rows, its settings, datasets and alphas taken from them. */
function withRows(t: TableHead, rows: LeaderboardRow[]): LeaderboardTable {
  const settings = new Set(rows.map((r) => r.setting));
  const datasets: DatasetId[] = [];
  const alphas: string[] = [];
  for (const row of rows) {
    for (const r of row.results) {
      if (!datasets.includes(r.dataset)) datasets.push(r.dataset);
      for (const a of Object.keys(r.pck)) if (!alphas.includes(a)) alphas.push(a);
    }
  }
  alphas.sort((a, b) => Number(a) - Number(b));
  return {
    id: t.id,
    title: t.title,
    kind: t.kind,
    settings: SETTINGS.filter((s) => settings.has(s)),
    datasets,
    alphas,
    columns: t.columns,
    on_project_page: t.on_project_page,
    row_count: t.row_count,
    rows,
  };
}

/**
 * Flattens the parsed survey file: one {@linkcode LeaderboardRow} per printed
 * row, each value with its percent and fraction, each row with its protocol
 * and flags.
 *
 * @param value The parsed `survey_tables.json`.
 * @param path The file, for error messages.
 * @returns The flattened survey.
 * @throws {DatasetMalformedError} When the file does not have the expected shape.
 *
 * @example Usage
 * ```ts
 * import { flattenSurvey } from "./leaderboard.ts";
 * import assert from "node:assert/strict";
 *
 * const survey = flattenSurvey({
 *   source: { title: "t" },
 *   column_keys: { spair: "SPair-71k, PCK@alpha_bbox" },
 *   tables: [{ id: "X", title: "x", kind: "literature", columns: {}, rows: [
 *     { method: "M", setting: "zero_shot", pck: { spair: { "0.1": 45.4 } }, flags: [] },
 *   ] }],
 * }, "survey.json");
 * const row = survey.tables[0].rows[0];
 * assert.deepEqual(row.results[0].pck, { "0.1": { percent: 45.4, fraction: 0.454 } });
 * assert.equal(row.protocol.averaging, null);
 * ```
 */
export function flattenSurvey(value: unknown, path: string): Survey {
  const fail = (what: string) =>
    new DatasetMalformedError(`Cannot read ${path}: ${what}`, { path });
  if (!isObject(value) || !Array.isArray(value.tables)) throw fail("no `tables` list");
  const columnKeys = isObject(value.column_keys) ? value.column_keys as Record<string, string> : {};
  const tables = value.tables.map((t, i): LeaderboardTable => {
    if (!isObject(t) || typeof t.id !== "string" || !Array.isArray(t.rows)) {
      throw fail(`table ${i} has no id or rows`);
    }
    if (!(TABLE_KINDS as readonly unknown[]).includes(t.kind)) {
      throw fail(`table ${t.id} has unknown kind "${t.kind}"`);
    }
    const head = { id: t.id, kind: t.kind as TableKind };
    const rows = t.rows.map((r, j) => {
      try {
        if (!isObject(r)) throw new TypeError("not an object");
        return flattenRow(head, r, columnKeys);
      } catch (e) {
        throw fail(`table ${t.id} row ${j}: ${(e as Error).message}`);
      }
    });
    return withRows({
      ...head,
      title: String(t.title ?? ""),
      columns: isObject(t.columns) ? t.columns : {},
      on_project_page: t.on_project_page === true,
      row_count: typeof t.row_count === "number" ? t.row_count : rows.length,
    }, rows);
  });
  return {
    source: isObject(value.source) ? value.source : {},
    protocol_notes: isObject(value.protocol_notes)
      ? value.protocol_notes as Record<string, string>
      : {},
    column_keys: columnKeys,
    tables,
    discrepancies: Array.isArray(value.discrepancies) ? value.discrepancies.filter(isObject) : [],
  };
}

let surveyPromise: Promise<Survey> | undefined;

/**
 * Loads and flattens `literature/survey_tables.json`, once; a failed load
 * is retried on the next call.
 *
 * @returns The flattened survey (shared: do not mutate).
 * @throws {DatasetMalformedError} When the file cannot be parsed.
 *
 * @example Usage
 * ```ts
 * import { loadSurvey } from "./leaderboard.ts";
 * import assert from "node:assert/strict";
 *
 * const survey = await loadSurvey();
 * assert.equal(survey.tables.reduce((n, t) => n + t.rows.length, 0), 180);
 * ```
 */
export function loadSurvey(): Promise<Survey> {
  surveyPromise ??= (async () => {
    const path = SURVEY_TABLES_URL.pathname;
    let value: unknown;
    try {
      value = JSON.parse(await Deno.readTextFile(SURVEY_TABLES_URL));
    } catch (e) {
      throw new DatasetMalformedError(`Cannot read ${path}: ${(e as Error).message}`, {
        path,
        cause: e,
      });
    }
    return flattenSurvey(value, path);
  })().catch((e) => {
    surveyPromise = undefined;
    throw e;
  });
  return surveyPromise;
}

function narrow(cells: PckCells, alpha: string | undefined): PckCells | null {
  if (alpha === undefined) return cells;
  return Object.hasOwn(cells, alpha) ? { [alpha]: cells[alpha] } : null;
}

function hasValue(cells: PckCells): boolean {
  return Object.values(cells).some((v) => v !== null);
}

/**
 * Keeps the tables, rows, dataset columns and alphas that match the filters.
 * With a `dataset` or `alpha` filter, columns and rows left with no value are
 * dropped; tables left with no row are dropped unless named by `table`.
 *
 * @param tables The flattened tables.
 * @param filters What to keep.
 * @returns New tables (rows keep their flags and notes).
 *
 * @example Usage
 * ```ts
 * import { filterTables, loadSurvey } from "./leaderboard.ts";
 * import assert from "node:assert/strict";
 *
 * const { tables } = await loadSurvey();
 * const ap10k = filterTables(tables, { dataset: "ap10k" });
 * assert.deepEqual(ap10k.map((t) => t.id), ["XII"]);
 * ```
 */
export function filterTables(
  tables: readonly LeaderboardTable[],
  filters: LeaderboardFilters,
): LeaderboardTable[] {
  const { dataset, table, setting, kind, alpha } = filters;
  const narrowing = dataset !== undefined || alpha !== undefined;
  const out: LeaderboardTable[] = [];
  for (const t of tables) {
    if (table !== undefined && t.id !== table) continue;
    if (kind !== undefined && t.kind !== kind) continue;
    const rows: LeaderboardRow[] = [];
    for (const row of t.rows) {
      if (setting !== undefined && row.setting !== setting) continue;
      const results: LiteratureResult[] = [];
      for (const r of row.results) {
        if (dataset !== undefined && r.dataset !== dataset) continue;
        const pck = narrow(r.pck, alpha);
        if (pck === null || (narrowing && !hasValue(pck))) continue;
        results.push({ ...r, pck });
      }
      if (narrowing && results.length === 0) continue;
      rows.push({ ...row, results });
    }
    if (rows.length === 0 && table === undefined) continue;
    out.push(withRows(t, rows));
  }
  return out;
}

function slug(s: string): string {
  const out = s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
  return out === "" ? "unknown" : out;
}

/**
 * The file name a report is saved under:
 * `<dataset>-<split>-<model>-<UTC timestamp>.json`, each part reduced to
 * `[a-z0-9-]`, so it is safe on any file system and sorts by time per setup.
 *
 * @param report The report.
 * @param now The time to stamp.
 * @returns The file name.
 *
 * @example Usage
 * ```ts
 * import { runFileName } from "./leaderboard.ts";
 * import assert from "node:assert/strict";
 *
 * const name = runFileName(
 *   { dataset: "spair", split: "test", model: "../DINOv2 b/14" },
 *   new Date("2026-01-02T03:04:05.678Z"),
 * );
 * assert.equal(name, "spair-test-dinov2-b-14-20260102T030405678Z.json");
 * ```
 */
export function runFileName(
  report: Pick<EvaluationReport, "dataset" | "split" | "model">,
  now: Date,
): string {
  const stamp = now.toISOString().replace(/[-:.]/g, "");
  return `${slug(report.dataset)}-${slug(report.split)}-${slug(report.model)}-${stamp}.json`;
}

function checkFrame(v: unknown, where: string): void {
  if (!isObject(v)) throw new TypeError(`${where} is not an object`);
  for (const avg of ["per_image", "per_point"]) {
    const a = v[avg];
    if (!isObject(a) || !isObject(a.all)) throw new TypeError(`${where}.${avg}.all is missing`);
    for (const [alpha, x] of Object.entries(a.all)) {
      if (x !== null && typeof x !== "number") {
        throw new TypeError(`${where}.${avg}.all.${alpha} is not a number`);
      }
    }
  }
  for (const n of ["pairs", "points"]) {
    if (typeof v[n] !== "number") throw new TypeError(`${where}.${n} is not a number`);
  }
}

/**
 * Checks that a value has the fields of an {@linkcode EvaluationReport} the
 * leaderboard reads.
 *
 * @param value A parsed report.
 * @returns The value, typed.
 * @throws {TypeError} Naming the first missing or mistyped field.
 */
function checkReport(value: unknown): EvaluationReport {
  if (!isObject(value)) throw new TypeError("Cannot read run: not a JSON object");
  for (const key of ["dataset", "split", "frame", "by", "thres_type", "resize", "model"]) {
    if (typeof value[key] !== "string") {
      throw new TypeError(`Cannot read run: field \`${key}\` is not a string`);
    }
  }
  for (const key of ["resolution", "n_pairs", "n_points"]) {
    if (typeof value[key] !== "number") {
      throw new TypeError(`Cannot read run: field \`${key}\` is not a number`);
    }
  }
  if (value.by !== "image" && value.by !== "point") {
    throw new TypeError("Cannot read run: field `by` is neither image nor point");
  }
  if (!Array.isArray(value.alphas) || !value.alphas.every((a) => typeof a === "string")) {
    throw new TypeError("Cannot read run: field `alphas` is not a list of strings");
  }
  if (!isObject(value.frames) || Object.keys(value.frames).length === 0) {
    throw new TypeError("Cannot read run: field `frames` is empty");
  }
  for (const [f, r] of Object.entries(value.frames)) {
    try {
      checkFrame(r, `frames.${f}`);
    } catch (e) {
      throw new TypeError(`Cannot read run: field ${(e as Error).message}`);
    }
  }
  return value as unknown as EvaluationReport;
}

/**
 * Saves an evaluation report into the runs folder (created if needed) under
 * {@linkcode runFileName}; if that name is taken, `-2`, `-3`... is appended.
 * The file appears complete or not at all (written aside, then linked).
 *
 * @param report The report, as `POST /v1/evaluate` answers it.
 * @param dir The runs folder.
 * @param options `now`: the time to stamp (default: now).
 * @returns The path written.
 * @throws {TypeError} When the report lacks a field the leaderboard reads.
 *
 * @example Usage
 * ```ts ignore
 * const path = await saveRun(report, Deno.env.get("RUNS_DIR") ?? "./runs");
 * ```
 */
export async function saveRun(
  report: EvaluationReport,
  dir: string,
  options: { now?: Date } = {},
): Promise<string> {
  checkReport(report);
  await Deno.mkdir(dir, { recursive: true });
  const name = runFileName(report, options.now ?? new Date());
  const temp = join(dir, `.${name}.${crypto.randomUUID()}.tmp`);
  await Deno.writeTextFile(temp, JSON.stringify(report, null, 2) + "\n", { createNew: true });
  try {
    for (let n = 1;; n++) {
      const path = join(dir, n === 1 ? name : name.replace(/\.json$/, `-${n}.json`));
      try {
        await Deno.link(temp, path);
        return path;
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists) || n >= 1000) throw e;
      }
    }
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
}

/**
 * Reads the saved reports of the runs folder (`*.json`, by name). A missing
 * folder is an empty list; a file that cannot be read or is not a report is
 * skipped and listed with the reason.
 *
 * @param dir The runs folder.
 * @returns The runs and the skipped files.
 *
 * @example Usage
 * ```ts
 * import { listRuns } from "./leaderboard.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(await listRuns("/no/such/folder"), { runs: [], skipped: [] });
 * ```
 */
export async function listRuns(dir: string): Promise<RunList> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(".json") && !e.name.startsWith(".")) names.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { runs: [], skipped: [] };
    return {
      runs: [],
      skipped: [{ file: ".", reason: `Cannot list runs: ${(e as Error).message}` }],
    };
  }
  names.sort();
  const runs: SavedRun[] = [];
  const skipped: SkippedRun[] = [];
  for (const file of names) {
    const path = join(dir, file);
    try {
      const text = await Deno.readTextFile(path);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        throw new SyntaxError(`Cannot parse run: ${(e as Error).message}`);
      }
      const report = checkReport(value);
      const mtime = (await Deno.stat(path)).mtime;
      runs.push({ file, saved_at: mtime ? mtime.toISOString() : null, report });
    } catch (e) {
      skipped.push({ file, reason: (e as Error).message });
    }
  }
  return { runs, skipped };
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
      model: r.model,
      localizer: r.localizer ?? null,
      keypoints: r.keypoints ?? null,
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
 * @param options `runsDir`: the runs folder.
 * @returns The leaderboard.
 * @throws {DatasetMalformedError} When the survey file cannot be read.
 *
 * @example Usage
 * ```ts
 * import { buildLeaderboard } from "./leaderboard.ts";
 * import assert from "node:assert/strict";
 *
 * const board = await buildLeaderboard({ setting: "weakly_supervised" }, { runsDir: "/none" });
 * assert.deepEqual(board.tables.map((t) => t.id), ["III"]);
 * ```
 */
export async function buildLeaderboard(
  filters: LeaderboardFilters,
  options: { runsDir: string },
): Promise<Leaderboard> {
  const survey = await loadSurvey();
  const tables = filterTables(survey.tables, filters);
  const ids = new Set(tables.map((t) => t.id));
  const { runs, skipped } = await listRuns(options.runsDir);
  return {
    source: {
      ...survey.source,
      note:
        "Numbers and configuration cells come from the paper; labels, flags and notes were written for this project (datasets/literature/README.md).",
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
    runs: runs
      .filter((r) => filters.dataset === undefined || r.report.dataset === filters.dataset)
      .map((r) => runEntry(r, filters.alpha))
      .filter((r) => r.results.length > 0),
    skipped_runs: skipped,
    discrepancies: survey.discrepancies.filter((d) => touches(d, ids)),
    notes: [...NOTES],
  };
}
