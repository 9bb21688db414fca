/**
 * `GET /v1/leaderboard`: the survey's comparative tables (Zhang et al.,
 * TPAMI 2025) with this service's own saved evaluation runs beside them.
 *
 * Query (all optional): `dataset` (`spair | pfpascal | pfwillow | ap10k`),
 * `table` (`II` ... `XII`, `A1`, `A2`; case-insensitive), `setting`
 * (`supervised | weakly_supervised | zero_shot`), `kind`
 * (`literature | ablation | baseline_comparison`), `alpha` (e.g. `0.1`),
 * `runs_offset` and `runs_limit` (default 0 and 100, at most 1000: a page of
 * the matching runs). A bad value is 422 `invalid_request`; an unknown table
 * is 404 `unknown_table`. Runs come from the service's runs store (the
 * configured `RUNS_DIR`, indexed once and re-read only when it changes) and
 * are filtered by `dataset` and `alpha` only.
 *
 * The answer:
 *
 * ```text
 * {
 *   source:  { title, authors, venue, arxiv, project_page, code, ..., note },
 *   filters: { dataset, table, setting, kind, alpha },        // null = not filtered
 *   pck_keys: [{ key, dataset, threshold_base, label }],     // spair -> spair, bbox ...
 *   protocol_notes: { spair, pfpascal, pfwillow, ap10k, averaging, values },
 *   tables: [{
 *     id, title, kind, settings, datasets, alphas, columns, on_project_page, row_count,
 *     rows: [{
 *       table, method, label, ref, setting, setting_from, is_survey_baseline,
 *       config:  { backbone, finetuned, resolution, ... },   // the row's cells, see columns
 *       results: [{ key, dataset, threshold_base, label,
 *                   pck: { "0.1": { percent: 85.1, fraction: 0.851 } | null } }],
 *       protocol: { reported_by, averaging, resolution, frame, resize, split, note },
 *       flags: [...], notes, source: { text_source_line, method_as_printed, ... }
 *     }]
 *   }],
 *   runs_page: { offset, limit, total },                     // total: runs matching the filters
 *   runs: [{
 *     file, saved_at, method, literature_key,
 *     protocol: { dataset, split, frame, by, thres_type, comparison, alphas, resolution,
 *                 resize, model, localizer, keypoints, selection, n_pairs, n_points },
 *     results: [{ frame, averaging, pairs, points, pck: { "0.1": { percent, fraction } } }]
 *   }],
 *   skipped_runs: [{ file, reason }],                        // unreadable run files
 *   discrepancies: [...],                                    // those touching the tables shown
 *   notes: [...]                                             // how to read the numbers
 * }
 * ```
 *
 * @example Usage
 * ```ts
 * import { Hono } from "hono";
 * import leaderboard from "./leaderboard.ts";
 * import { onError } from "./_on_error.ts";
 * import type { AppEnv, Services } from "./app_env.ts";
 * import { RunsStore } from "../evaluation/runs_store.ts";
 * import assert from "node:assert/strict";
 *
 * // The route reads only the runs store of the services.
 * const runs = new RunsStore("/no/such/runs", { maxCount: 10, maxBytes: 1e6 });
 * const app = new Hono<AppEnv>();
 * app.use(async (c, next) => {
 *   c.set("services", { runs } as Services);
 *   await next();
 * });
 * app.route("/v1/leaderboard", leaderboard);
 * app.onError(onError);
 * const body = await (await app.request("/v1/leaderboard?table=xii&alpha=0.1")).json();
 * assert.deepEqual(body.tables.map((t: { id: string }) => t.id), ["XII"]);
 * assert.equal((await app.request("/v1/leaderboard?table=XIII")).status, 404);
 * ```
 *
 * @module
 */

import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "./app_env.ts";
import { validate } from "./_validate.ts";
import { UnknownTableError } from "../errors/mod.ts";
import { buildLeaderboard, type Leaderboard } from "../leaderboard/board.ts";
import { loadSurvey, SETTINGS, TABLE_KINDS } from "../leaderboard/survey.ts";
import { DATASET_IDS } from "../datasets/types.ts";

/** The query. */
export const LeaderboardQuerySchema = z.strictObject({
  dataset: z.enum(DATASET_IDS).optional(),
  table: z.string().regex(/^[A-Za-z0-9]{1,8}$/, "not a table id").transform((s) => s.toUpperCase())
    .optional(),
  setting: z.enum(SETTINGS).optional(),
  kind: z.enum(TABLE_KINDS).optional(),
  alpha: z.coerce.number().positive().max(1).optional(),
  runs_offset: z.coerce.number().int().min(0).default(0),
  runs_limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** A validated query. */
export type LeaderboardQuery = z.output<typeof LeaderboardQuerySchema>;

const Cells = z.record(
  z.string(),
  z.object({ percent: z.number(), fraction: z.number() }).nullable(),
).describe('PCK by alpha ("0.1"): as printed (percent) and as a fraction');

/** The answer of `GET /v1/leaderboard` (see the module doc for every field). */
export const LeaderboardSchema = z.object({
  source: z.record(z.string(), z.unknown()).describe("the survey: title, authors, venue, links"),
  filters: z.record(z.string(), z.string().nullable()),
  pck_keys: z.array(z.object({
    key: z.string(),
    dataset: z.string(),
    threshold_base: z.string(),
    label: z.string(),
  })),
  protocol_notes: z.record(z.string(), z.string()),
  tables: z.array(z.object({
    id: z.string(),
    title: z.string(),
    kind: z.string(),
    rows: z.array(z.object({
      method: z.string().nullable(),
      setting: z.string().nullable(),
      results: z.array(z.object({ key: z.string(), pck: Cells })),
    })),
  })),
  runs: z.array(z.object({
    file: z.string(),
    saved_at: z.string().nullable(),
    method: z.string(),
    protocol: z.record(z.string(), z.unknown()),
    literature_key: z.string().nullable(),
    results: z.array(z.object({
      frame: z.string(),
      averaging: z.enum(["per_image", "per_point"]),
      pairs: z.int(),
      points: z.int(),
      pck: Cells,
    })),
  })),
  runs_page: z.object({ offset: z.int(), limit: z.int(), total: z.int() }),
  skipped_runs: z.array(z.object({ file: z.string(), reason: z.string() })),
  discrepancies: z.array(z.record(z.string(), z.unknown())),
  notes: z.array(z.string()),
});

/**
 * The board as the answer: every board fits the schema, so a change of the
 * board that the schema misses fails the type check.
 *
 * @param board The leaderboard.
 * @returns It, typed as the answer's schema takes it.
 */
export function leaderboardAnswer(board: Leaderboard): z.input<typeof LeaderboardSchema> {
  return board;
}

const app = new Hono<AppEnv>();

app.get("/", validate("query", LeaderboardQuerySchema), async (c) => {
  const q = c.req.valid("query");
  if (q.table !== undefined) {
    const known = (await loadSurvey()).tables.map((t) => t.id);
    if (!known.includes(q.table)) {
      throw new UnknownTableError(
        `Cannot find table \`${q.table}\`: known tables are ${known.join(", ")}`,
        { details: { known } },
      );
    }
  }
  const board = await buildLeaderboard({
    dataset: q.dataset,
    table: q.table,
    setting: q.setting,
    kind: q.kind,
    alpha: q.alpha === undefined ? undefined : String(q.alpha),
  }, { runs: c.var.services.runs, page: { offset: q.runs_offset, limit: q.runs_limit } });
  return c.json(leaderboardAnswer(board));
});

export default app;
