/**
 * The survey's result tables (Zhang et al., "Semantic Correspondence:
 * Unified Benchmarking and a Strong Baseline", TPAMI 2025), flattened to one
 * row per printed line.
 *
 * The tables come from `./literature/survey_tables.json` (see the README
 * beside it). Each PCK value keeps the paper's `percent` as printed and adds
 * `fraction` (= percent / 100), the unit of this service's reports. Every row
 * states its protocol: the threshold base of each dataset column, the
 * averaging (per image for the survey's own experiments, `null` for numbers
 * repeated from other papers) and its resolution; frame, resize and split are
 * not in the file and stay `null`.
 *
 * @example Usage
 * ```ts
 * import { filterTables, loadSurvey } from "./survey.ts";
 * import assert from "node:assert/strict";
 *
 * const { tables } = await loadSurvey();
 * const [xi] = filterTables(tables, { table: "XI", dataset: "spair", alpha: "0.1" });
 * const ours = xi.rows.find((r) => r.method === "Ours(DINOv2)")!;
 * assert.deepEqual(ours.results[0].pck["0.1"], { percent: 85.1, fraction: 0.851 });
 * assert.equal(ours.results[0].threshold_base, "bbox");
 * ```
 *
 * @module
 */

import type { DatasetId, ThresholdBase } from "../datasets/types.ts";
import { DatasetMalformedError } from "../errors/mod.ts";

/** Where the survey tables lie. */
export const SURVEY_TABLES_URL: URL = new URL("./literature/survey_tables.json", import.meta.url);

/** The training settings, in the survey's order. */
export const SETTINGS = Object.freeze(["supervised", "weakly_supervised", "zero_shot"] as const);

/** Training setting of a row, as the survey groups methods. */
export type Setting = typeof SETTINGS[number];

/** The table kinds, as the file labels them. */
export const TABLE_KINDS = Object.freeze(
  ["literature", "ablation", "baseline_comparison"] as const,
);

/** Kind of a survey table. */
export type TableKind = typeof TABLE_KINDS[number];

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
 * import { flattenSurvey } from "./survey.ts";
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
 * import { loadSurvey } from "./survey.ts";
 * import assert from "node:assert/strict";
 *
 * const survey = await loadSurvey();
 * assert.equal(survey.tables.reduce((n, t) => n + t.rows.length, 0), 180);
 * ```
 */
export function loadSurvey(): Promise<Survey> {
  surveyPromise ??= (async () => {
    // Named as the project names it: the checkout's absolute path is the server's.
    const path = "leaderboard/literature/survey_tables.json";
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
 * import { filterTables, loadSurvey } from "./survey.ts";
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
