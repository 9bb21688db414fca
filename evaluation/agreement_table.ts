// This module is browser compatible.
/**
 * An agreement report (`./agreement.ts`) as text for a terminal: a summary
 * line, then a Markdown table with one row per category and the total.
 *
 * @example Usage
 * ```ts
 * import { agreementTable } from "./agreement_table.ts";
 * import assert from "node:assert/strict";
 *
 * const side = (model: string) => ({ model, pck: { "0.1": 0.5 }, total_ms: 1000, extract_ms: 800 });
 * const text = agreementTable({
 *   dataset: "pfwillow", split: "test", resolution: 448, pairs: 1, points: 10, identical: 9,
 *   share: 0.9, per_category: { "car(G)": { points: 10, identical: 9, share: 0.9 } },
 *   disagreement_px: { max: 28, median: 28 }, model: side("m-int8"), against: side("m"),
 * });
 * assert.match(text, /^m-int8 against m on pfwillow test @ 448: 9\/10 points identical \(90\.00%\)/);
 * assert.match(text, /\| car\(G\) \| 10 \| 9 \| 90\.00 \|/);
 * assert.match(text, /\| all \| 10 \| 9 \| 90\.00 \|/);
 * ```
 *
 * @module
 */

import type { AgreementReport, AgreementSide } from "./agreement.ts";

function percent(share: number | null): string {
  return share === null ? "-" : (100 * share).toFixed(2);
}

function sideLine(s: AgreementSide): string {
  const pck = s.pck["0.1"] ?? Object.values(s.pck).at(-1) ?? null;
  return `${s.model}: PCK@0.1 ${percent(pck)}, ${(s.total_ms / 1000).toFixed(1)} s ` +
    `(extraction ${(s.extract_ms / 1000).toFixed(1)} s summed over workers)`;
}

/**
 * Renders an agreement report.
 *
 * @param r The report.
 * @returns Text: the summary, each model's PCK and time, and the table.
 */
export function agreementTable(r: AgreementReport): string {
  const d = r.disagreement_px;
  const lines = [
    `${r.model.model} against ${r.against.model} on ${r.dataset} ${r.split} @ ${r.resolution}: ` +
    `${r.identical}/${r.points} points identical (${percent(r.share)}%) over ${r.pairs} pairs, ` +
    `nn matches; disagreements ${
      d ? `${d.median.toFixed(1)} px median, ${d.max.toFixed(1)} px max` : "none"
    }`,
    sideLine(r.model),
    sideLine(r.against),
    "",
    "| category | points | identical | % |",
    "| --- | ---: | ---: | ---: |",
  ];
  const row = (name: string, c: { points: number; identical: number; share: number | null }) =>
    `| ${name} | ${c.points} | ${c.identical} | ${percent(c.share)} |`;
  for (const [name, c] of Object.entries(r.per_category)) lines.push(row(name, c));
  lines.push(row("all", r));
  return lines.join("\n");
}
