/**
 * Saved evaluation runs: {@linkcode EvaluationReport}s kept as JSON files,
 * one per file, in a folder (`RUNS_DIR`). {@linkcode saveRun} writes one
 * atomically; {@linkcode listRuns} reads them back, validating each against
 * {@linkcode SavedReportSchema} and skipping (and reporting) files it cannot
 * read.
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
