/**
 * Saved evaluation runs: {@linkcode EvaluationReport}s kept as JSON files,
 * one per file, in a folder (`RUNS_DIR`). {@linkcode saveRun} writes one
 * atomically; {@linkcode listRuns} reads them back, validating each against
 * {@linkcode SavedReportSchema} and skipping (and reporting) files it cannot
 * read. {@linkcode RunsStore} is what the service uses: the same folder with
 * caps on the number and total size of runs (`RUNS_MAX`, `RUNS_MAX_BYTES`),
 * and an index that re-reads the folder only when its entries changed.
 *
 * @example Usage
 * ```ts
 * import { listRuns } from "./runs_store.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(await listRuns("/no/such/folder"), { runs: [], skipped: [] });
 * ```
 *
 * @module
 */

import { join } from "node:path";
import { RunsQuotaError } from "../errors/mod.ts";
import { z } from "zod";
import type { EvaluationReport } from "./report.ts";
import { AVERAGINGS } from "./request.ts";

const missingOr = (what: string) => (i: { input: unknown }) =>
  i.input === undefined ? "is missing" : what;
const text = z.string({ error: "is not a string" });
const count = z.number({ error: "is not a number" });
const pckByAlpha = z.record(z.string(), z.number().nullable(), {
  error: missingOr("is not a map of numbers"),
});
const averaged = z.looseObject({ all: pckByAlpha }, { error: missingOr("is not an object") });
const frame = z.looseObject({
  per_image: averaged,
  per_point: averaged,
  pairs: count,
  points: count,
}, { error: "is not an object" });

/**
 * The fields of a saved report that the leaderboard reads; other fields are
 * kept as they are.
 */
export const SavedReportSchema = z.looseObject({
  dataset: text,
  split: text,
  frame: text,
  by: z.enum(AVERAGINGS, { error: "is neither image nor point" }),
  thres_type: text,
  resize: text,
  model: text,
  resolution: count,
  n_pairs: count,
  n_points: count,
  alphas: z.array(z.string(), { error: "is not a list of strings" }),
  frames: z.record(z.string(), frame, { error: "is not an object" })
    .refine((f) => Object.keys(f).length > 0, "is empty"),
});

/**
 * Validates a parsed report against {@linkcode SavedReportSchema}.
 *
 * @param value A parsed report.
 * @returns The report.
 * @throws {TypeError} Naming the first missing or mistyped field.
 */
function checkReport(value: unknown): EvaluationReport {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError("Cannot read run: not a JSON object");
  }
  const r = SavedReportSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue.path.map(String);
    const field = path.length === 1 ? `\`${path[0]}\`` : path.join(".");
    throw new TypeError(`Cannot read run: field ${field} ${issue.message}`);
  }
  return value as EvaluationReport;
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
 * import { runFileName } from "./runs_store.ts";
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
 * import { listRuns } from "./runs_store.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(await listRuns("/no/such/folder"), { runs: [], skipped: [] });
 * ```
 */
export function listRuns(dir: string): Promise<RunList> {
  return new RunsStore(dir, { maxCount: Infinity, maxBytes: Infinity }).list();
}

/** Caps of a {@linkcode RunsStore}. */
export interface RunsStoreOptions {
  /** Most runs kept; a save beyond is refused (0: no saves). */
  maxCount: number;
  /** Most bytes of runs kept; a save beyond is refused. */
  maxBytes: number;
}

interface IndexEntry {
  bytes: number;
  run?: SavedRun;
  skipped?: SkippedRun;
}

/**
 * The runs folder as the service uses it: listing is cached (runs are
 * written once, under new names, so a folder whose modification time has not
 * changed has the same runs; a changed one is re-read for its new names
 * only), and saving is refused past the caps.
 *
 * @example Usage
 * ```ts
 * import { RunsStore } from "./runs_store.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new RunsStore(await Deno.makeTempDir(), { maxCount: 10, maxBytes: 1e6 });
 * assert.deepEqual(await store.list(), { runs: [], skipped: [] });
 * ```
 */
export class RunsStore {
  #dir: string;
  #options: RunsStoreOptions;
  #index = new Map<string, IndexEntry>();
  #indexedAt: number | null = null;
  #listing?: Promise<RunList>;

  /**
   * @param dir The runs folder (created on the first save).
   * @param options Caps on count and bytes.
   */
  constructor(dir: string, options: RunsStoreOptions) {
    this.#dir = dir;
    this.#options = options;
  }

  /** The folder. */
  get dir(): string {
    return this.#dir;
  }

  /**
   * The saved runs, by file name, and the files that could not be read.
   *
   * @returns The runs (shared: do not mutate) and the skipped files.
   */
  list(): Promise<RunList> {
    // Concurrent callers share one pass over the folder.
    this.#listing ??= this.#refresh().finally(() => (this.#listing = undefined));
    return this.#listing;
  }

  /** Bytes of the runs folder's files, as last listed. */
  get bytes(): number {
    let n = 0;
    for (const e of this.#index.values()) n += e.bytes;
    return n;
  }

  async #refresh(): Promise<RunList> {
    let mtime: number | null;
    try {
      mtime = (await Deno.stat(this.#dir)).mtime?.getTime() ?? null;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        this.#index.clear();
        this.#indexedAt = null;
        return { runs: [], skipped: [] };
      }
      return {
        runs: [],
        skipped: [{ file: ".", reason: `Cannot list runs: ${(e as Error).message}` }],
      };
    }
    if (mtime === null || mtime !== this.#indexedAt) {
      const names = new Set<string>();
      for await (const e of Deno.readDir(this.#dir)) {
        if (e.isFile && e.name.endsWith(".json") && !e.name.startsWith(".")) names.add(e.name);
      }
      for (const name of this.#index.keys()) if (!names.has(name)) this.#index.delete(name);
      for (const name of names) {
        if (!this.#index.has(name)) this.#index.set(name, await readRun(this.#dir, name));
      }
      this.#indexedAt = mtime;
    }
    const files = [...this.#index.keys()].sort();
    const runs: SavedRun[] = [];
    const skipped: SkippedRun[] = [];
    for (const f of files) {
      const e = this.#index.get(f)!;
      if (e.run) runs.push(e.run);
      if (e.skipped) skipped.push(e.skipped);
    }
    return { runs, skipped };
  }

  /**
   * Saves a report (see {@linkcode saveRun}) unless a cap would be passed.
   *
   * @param report The report.
   * @param options `now`: the time to stamp.
   * @returns The path written.
   * @throws {RunsQuotaError} When the folder already holds `maxCount` runs or the
   *   report would take it past `maxBytes`.
   * @throws {TypeError} When the report lacks a field the leaderboard reads.
   */
  async save(report: EvaluationReport, options: { now?: Date } = {}): Promise<string> {
    const { runs } = await this.list();
    const size = new TextEncoder().encode(JSON.stringify(report, null, 2)).length + 1;
    const { maxCount, maxBytes } = this.#options;
    if (runs.length >= maxCount || this.bytes + size > maxBytes) {
      throw new RunsQuotaError(
        `Cannot save the run: the runs folder holds ${runs.length} runs of ${this.bytes} bytes, ` +
          `the caps are ${maxCount} runs and ${maxBytes} bytes (RUNS_MAX, RUNS_MAX_BYTES)`,
        {
          details: {
            runs: runs.length,
            bytes: this.bytes,
            max_runs: maxCount,
            max_bytes: maxBytes,
          },
        },
      );
    }
    return await saveRun(report, this.#dir, options);
  }
}

async function readRun(dir: string, file: string): Promise<IndexEntry> {
  const path = join(dir, file);
  try {
    const info = await Deno.stat(path);
    const text = await Deno.readTextFile(path);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return {
        bytes: info.size,
        skipped: { file, reason: `Cannot parse run: ${(e as Error).message}` },
      };
    }
    try {
      const report = checkReport(value);
      return {
        bytes: info.size,
        run: { file, saved_at: info.mtime ? info.mtime.toISOString() : null, report },
      };
    } catch (e) {
      return { bytes: info.size, skipped: { file, reason: (e as Error).message } };
    }
  } catch (e) {
    return { bytes: 0, skipped: { file, reason: (e as Error).message } };
  }
}
