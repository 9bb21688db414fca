// This module is browser compatible.
/**
 * A report as a Markdown table: one row per category, then the mean over
 * pairs ("all", the official code's headline) and the mean of category means,
 * one column per alpha, in percent.
 *
 * @example Usage
 * ```ts
 * import { markdownTable } from "./report_table.ts";
 * import assert from "node:assert/strict";
 *
 * const block = { all: { "0.1": 0.5 }, categories: { cat: { "0.1": 0.5 } }, category_mean: { "0.1": 0.5 } };
 * const table = markdownTable({ alphas: ["0.1"], frames: { official: { per_image: block, per_point: block } } }, { by: "image" });
 * assert.match(table, /\| all \(mean over pairs\) \| 50\.00 \|/);
 * ```
 *
 * @module
 */

type ByAlpha = Record<string, number | null>;
interface Block {
  all: ByAlpha;
  categories: Record<string, ByAlpha>;
  category_mean: ByAlpha;
}

/** The parts of a report the table reads. */
export interface TableInput {
  alphas: string[];
  frames: Partial<Record<string, { per_image: Block; per_point: Block }>>;
}

/**
 * Renders PCK tables, one per frame.
 *
 * @param report The report.
 * @param options `by`: per image (mean over pairs) or per point.
 * @returns Markdown.
 */
export function markdownTable(report: TableInput, options: { by: "image" | "point" }): string {
  const pct = (
    v: number | null | undefined,
  ) => (v === null || v === undefined ? "-" : (100 * v).toFixed(2));
  const out: string[] = [];
  for (const [frame, f] of Object.entries(report.frames)) {
    if (!f) continue;
    const block = options.by === "image" ? f.per_image : f.per_point;
    out.push(`PCK per ${options.by}, ${frame} frame (%)`, "");
    out.push(`| category | ${report.alphas.map((a) => `@${a}`).join(" | ")} |`);
    out.push(`|---|${report.alphas.map(() => "---:").join("|")}|`);
    for (const [cat, row] of Object.entries(block.categories)) {
      out.push(`| ${cat} | ${report.alphas.map((a) => pct(row[a])).join(" | ")} |`);
    }
    const all = options.by === "image" ? "all (mean over pairs)" : "all (points)";
    out.push(`| ${all} | ${report.alphas.map((a) => pct(block.all[a])).join(" | ")} |`);
    out.push(
      `| mean of categories | ${
        report.alphas.map((a) => pct(block.category_mean[a])).join(" | ")
      } |`,
    );
    out.push("");
  }
  return out.join("\n");
}
