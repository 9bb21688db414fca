/**
 * The agreement benches' shared run: several model variants served from one
 * `MODELS_CONFIG` by a one-worker native pool, each evaluated on the same
 * PF-WILLOW slice through the normal evaluation path (`nn` localizer,
 * predictions returned), and each one's matches compared point by point with
 * the first variant's (`evaluation/agreement.ts`). Unlike
 * `measureAgreement` (one model against one other), the reference is
 * evaluated once for all.
 *
 * @module
 */

import { join } from "node:path";
import { loadConfig } from "../../service/config.ts";
import { createServices } from "../../service/services.ts";
import { EvaluateRequestSchema } from "../../evaluation/request.ts";
import { evaluatePrepared, prepareEvaluation } from "../../evaluation/run_evaluation.ts";
import { comparePredictions, type PredictionAgreement } from "../../evaluation/agreement.ts";
import type { EvaluationReport } from "../../evaluation/report.ts";

/** One variant's evaluation and how its matches agree with the first variant's. */
export interface VariantAgreement {
  id: string;
  report: EvaluationReport;
  agreement: PredictionAgreement;
}

/**
 * Evaluates each of `ids` in order and compares it with the first.
 *
 * @param descriptors The `MODELS_CONFIG` entries, written to `dir/models.json`.
 * @param ids The variants to evaluate; the first is the reference.
 * @param request Evaluate request fields (dataset `pfwillow`, slice, resolution), without
 *   the model, localizer and predictions, which this sets.
 * @param options `dir` for the config and the model cache (`dir/cache`); `willow`, the
 *   PF-WILLOW root.
 * @returns One entry per id, in order.
 */
export async function evaluateVariants(
  descriptors: unknown[],
  ids: string[],
  request: Record<string, unknown>,
  options: { dir: string; willow: string },
): Promise<VariantAgreement[]> {
  await Deno.writeTextFile(join(options.dir, "models.json"), JSON.stringify(descriptors));
  const config = loadConfig({
    WORKERS: "1",
    KV_PATH: ":memory:",
    MODELS_CONFIG: join(options.dir, "models.json"),
    MODEL_CACHE: join(options.dir, "cache"),
    DATA_PFWILLOW: options.willow,
    DEFAULT_MODEL: ids[0],
    ORT_BACKEND: "native",
    // One worker takes every image of the slice: ViT-B/14 at 840 queues them for minutes.
    DEADLINE_MS: String(3_600_000),
  });
  const services = await createServices(config, { startModel: ids[0], jobs: false });
  try {
    await services.ready;
    const deps = services.evaluation;
    const req = EvaluateRequestSchema.parse({
      dataset: "pfwillow",
      ...request,
      localizer: "nn",
      return_predictions: true,
    });
    const out: VariantAgreement[] = [];
    for (const id of ids) {
      const report = await evaluatePrepared(
        await prepareEvaluation({ ...req, model: id }, deps),
        deps,
      );
      const reference = out[0]?.report ?? report;
      out.push({
        id,
        report,
        agreement: comparePredictions(report.predictions!, reference.predictions!),
      });
    }
    return out;
  } finally {
    await services.dispose();
  }
}

/**
 * A variant's table cells: identical / points, %, median / max px of the
 * disagreements, PCK@0.1.
 */
export function agreementCells({ report, agreement: a }: VariantAgreement): string {
  const d = a.disagreement_px;
  const pck = report.pck.per_image.all["0.1"];
  return `${a.identical}/${a.points} | ${(100 * a.share!).toFixed(2)} | ${
    d ? `${d.median.toFixed(0)} / ${d.max.toFixed(0)}` : "-"
  } | ${pck === null ? "-" : (100 * pck).toFixed(2)}`;
}
