/**
 * `deno task eval`: the same evaluation as `POST /v1/evaluate`, from a
 * terminal, with a progress bar and a Markdown table at the end.
 *
 * ```sh
 * deno task eval --dataset pfwillow --frame both
 * deno task eval --dataset pfwillow --shards 3 --shard 0 --out runs/s0.json
 * deno task eval --dataset pfwillow --server http://localhost:8000   # against a running service
 * deno task eval merge runs/s0.json runs/s1.json runs/s2.json --out runs/all.json
 * deno task eval agree --dataset pfwillow --model dinov2-small-int8 --against dinov2-small --limit 30
 * deno task eval --dataset pfwillow --visualize pictures --visualize-limit 10   # one PNG per pair
 * ```
 *
 * Options are the request's fields as flags (`--localizer nn`, `--alphas
 * 0.05,0.1`, `--categories "car(G),car(M)"`, `--return-predictions`); shard
 * `I` of `K` is a deterministic slice, so `K` replicas can each take one and
 * `merge` combines their saved results exactly. `agree` runs two models on
 * the same slice with the `nn` localizer and counts the points whose matches
 * are identical (`evaluation/agreement.ts`): the check of a quantized or
 * fp16 variant against its fp32 original.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  type EvaluateRequest,
  EvaluateRequestSchema,
  requestFromStrings,
} from "./evaluation/request.ts";
import {
  evaluatePrepared,
  type EvaluationDeps,
  prepareEvaluation,
} from "./evaluation/run_evaluation.ts";
import { DEFAULT_PICTURE_LIMIT, writeMatchPictures } from "./evaluation/match_pictures.ts";
import type { EvaluationProgress } from "./evaluation/evaluate_pairs.ts";
import type { EvaluationReport } from "./evaluation/report.ts";
import { mergeReports } from "./evaluation/merge_reports.ts";
import { markdownTable } from "./evaluation/report_table.ts";
import { loadConfig, type ServiceConfig } from "./service/config.ts";
import { createServices, type Services } from "./service/services.ts";
import { RunsStore } from "./evaluation/runs_store.ts";
import { measureAgreement } from "./evaluation/agreement.ts";
import { agreementTable } from "./evaluation/agreement_table.ts";

function usage(): never {
  console.error(
    "usage: deno task eval --dataset <spair|pfpascal|pfwillow|ap10k> [--split test] [--model dsift]\n" +
      "  [--resolution N] [--resize stretch|letterbox] [--resample torch|pil|lanczos]\n" +
      "  [--localizer kernel-softargmax] [--frame official|original|both] [--comparison '<='|'<']\n" +
      "  [--keypoints floor|raw|zero-based] [--max-keypoints 20] [--sample 0] [--visibility visible|labelled]\n" +
      "  [--species official|all] [--pair-source tree|coco]\n" +
      "  [--alphas 0.05,0.1] [--categories a,b] [--offset N] [--limit N] [--shards K --shard I]\n" +
      "  [--return-predictions] [--server URL] [--workers N] [--out FILE] [--save]\n" +
      `  [--visualize DIR [--visualize-limit ${DEFAULT_PICTURE_LIMIT}]]\n` +
      "       deno task eval merge A.json B.json ... [--out FILE]\n" +
      "       deno task eval agree --dataset <name> --model A --against B [selection and input flags]\n" +
      "         [--workers N] [--out FILE]   (nn matches of A and B compared point by point)",
  );
  Deno.exit(2);
}

function toRequest(values: Record<string, string | boolean | undefined>): EvaluateRequest {
  const {
    server: _s,
    out: _o,
    workers: _w,
    help: _h,
    save: _v,
    visualize: _p,
    "visualize-limit": _l,
    against: _a,
    ...fields
  } = values;
  const r = EvaluateRequestSchema.safeParse(requestFromStrings(fields));
  if (!r.success) {
    for (const i of r.error.issues) console.error(`--${i.path.join(".")}: ${i.message}`);
    Deno.exit(2);
  }
  return r.data;
}

/**
 * Progress on stderr: a bar redrawn in place with the ETA on a terminal; in
 * a redirected log, one plain line per tenth of the pairs (and the last).
 */
function progressReporter(): (p: EvaluationProgress) => void {
  const encoder = new TextEncoder();
  const tty = Deno.stderr.isTerminal();
  const started = performance.now();
  let lastTenth = -1;
  return (p) => {
    const pck = p.pck["0.1"] ?? Object.values(p.pck).at(-1);
    const elapsed = (performance.now() - started) / 1000;
    const eta = p.done > 0 ? (elapsed / p.done) * (p.total - p.done) : NaN;
    const etaText = Number.isFinite(eta) ? `ETA ${formatSeconds(eta)}` : "ETA -";
    const text = `${p.done}/${p.total} pairs, ${p.extractions} images, running PCK ${
      pck === null || pck === undefined ? "-" : (100 * pck).toFixed(1)
    }, ${formatSeconds(elapsed)} elapsed, ${etaText}`;
    if (tty) {
      const width = 30;
      const filled = Math.round((p.done / p.total) * width);
      const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}] `;
      Deno.stderr.writeSync(encoder.encode(`\r${bar}${text}\x1b[K`));
      if (p.done === p.total) Deno.stderr.writeSync(encoder.encode("\n"));
      return;
    }
    const tenth = Math.floor((10 * p.done) / p.total);
    if (tenth !== lastTenth || p.done === p.total) {
      lastTenth = tenth;
      Deno.stderr.writeSync(encoder.encode(`${text}\n`));
    }
  };
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(0)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Where `--visualize` writes its pictures, and how many. */
interface PictureRequest {
  dir: string;
  limit: number;
}

/** Starts the services here for one command and stops them after. */
async function withLocalServices<T>(
  config: ServiceConfig,
  options: { model?: string; workers?: number },
  run: (deps: EvaluationDeps, services: Services) => Promise<T>,
): Promise<T> {
  const services = await createServices(config, {
    startModel: options.model ?? config.models.defaultModel,
    pool: { size: options.workers, maxQueue: 1024 },
    jobs: false,
  });
  try {
    await services.ready;
    return await run(services.evaluation, services);
  } finally {
    await services.dispose();
  }
}

async function evaluateLocally(
  req: EvaluateRequest,
  config: ServiceConfig,
  options: { workers?: number; pictures?: PictureRequest },
): Promise<EvaluationReport> {
  return await withLocalServices(
    config,
    { model: req.model, workers: options.workers },
    async (deps, services) => {
      const prepared = await prepareEvaluation(req, deps);
      const report = await evaluatePrepared(prepared, deps, { onProgress: progressReporter() });
      if (options.pictures) {
        const files = await writeMatchPictures(prepared, services.pool, options.pictures);
        console.error(`${files.length} pictures in ${options.pictures.dir}`);
      }
      return report;
    },
  );
}

async function evaluateRemotely(req: EvaluateRequest, server: string): Promise<EvaluationReport> {
  const res = await fetch(new URL("/v1/evaluate", server), {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/x-ndjson" },
    body: JSON.stringify(req),
  });
  if (!res.ok || !res.body) throw new Error(`${res.status}: ${await res.text()}`);
  const report = progressReporter();
  let buffer = "";
  for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const event = JSON.parse(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      if (event.type === "progress") report(event);
      else if (event.type === "result") return event.result;
      else if (event.type === "error") {
        throw new Error(`${event.error.code}: ${event.error.message}`);
      }
    }
  }
  throw new Error("The server closed the stream before the result");
}

function picturesOf(
  values: Record<string, string | boolean | undefined>,
): PictureRequest | undefined {
  const dir = values.visualize;
  if (typeof dir !== "string") {
    if (values["visualize-limit"] !== undefined) {
      console.error("--visualize-limit needs --visualize DIR");
      Deno.exit(2);
    }
    return undefined;
  }
  const text = values["visualize-limit"];
  const limit = text === undefined ? DEFAULT_PICTURE_LIMIT : Number(text);
  if (!Number.isInteger(limit) || limit < 1) {
    console.error(`--visualize-limit: expected a positive integer, got ${text}`);
    Deno.exit(2);
  }
  return { dir, limit };
}

const text = { type: "string" } as const;

/** The flags of an evaluation: the request's fields, then the command's own. */
const EVAL_FLAGS = {
  dataset: text,
  split: text,
  model: text,
  resolution: text,
  resize: text,
  resample: text,
  localizer: text,
  temperature: text,
  sigma: text,
  window: text,
  alphas: text,
  by: text,
  frame: text,
  comparison: text,
  keypoints: text,
  "max-keypoints": text,
  sample: text,
  visibility: text,
  species: text,
  "pair-source": text,
  categories: text,
  "pair-ids": text,
  offset: text,
  limit: text,
  shards: text,
  shard: text,
  server: text,
  out: text,
  workers: text,
  "return-predictions": { type: "boolean" },
  save: { type: "boolean" },
  visualize: text,
  "visualize-limit": text,
  help: { type: "boolean" },
} as const;

/**
 * `deno task eval agree`: two models on the same slice, here (the pool runs
 * both), their nn matches compared point by point.
 */
async function agree(args: string[], config: ServiceConfig): Promise<void> {
  const { values } = parseArgs({ args, options: { ...EVAL_FLAGS, against: text } });
  if (values.help || !values.dataset || !values.model || !values.against) usage();
  for (const flag of ["server", "save", "visualize", "visualize-limit", "return-predictions"]) {
    if (values[flag as keyof typeof values] !== undefined) {
      console.error(`--${flag} does not apply to agree (it runs both models here)`);
      Deno.exit(2);
    }
  }
  if (values.localizer !== undefined && values.localizer !== "nn") {
    console.error("--localizer: agree compares nn matches (leave it out, or give nn)");
    Deno.exit(2);
  }
  const req = toRequest(values);
  const against = values.against;
  const report = await withLocalServices(
    config,
    { model: req.model, workers: values.workers ? Number(values.workers) : undefined },
    (deps) =>
      measureAgreement(req, against, deps, {
        progressFor: (model) => {
          console.error(model);
          return progressReporter();
        },
      }),
  );
  if (values.out) await Deno.writeTextFile(values.out, JSON.stringify(report, null, 2));
  console.log(agreementTable(report));
}

async function main(args: string[], config: ServiceConfig): Promise<void> {
  if (args[0] === "merge") {
    const { values, positionals } = parseArgs({
      args: args.slice(1),
      options: { out: { type: "string" }, by: { type: "string" } },
      allowPositionals: true,
    });
    if (positionals.length === 0) usage();
    const reports = await Promise.all(
      positionals.map(async (p) => JSON.parse(await Deno.readTextFile(p)) as EvaluationReport),
    );
    const merged = mergeReports(reports);
    if (values.out) await Deno.writeTextFile(values.out, JSON.stringify(merged, null, 2));
    console.log(markdownTable(merged, { by: merged.by }));
    return;
  }
  if (args[0] === "agree") return await agree(args.slice(1), config);
  const { values } = parseArgs({ args, options: EVAL_FLAGS });
  if (values.help || !values.dataset) usage();
  const req = toRequest(values);
  const pictures = picturesOf(values);
  if (pictures && values.server) {
    console.error("--visualize draws the pairs here: leave out --server (the data must be local)");
    Deno.exit(2);
  }
  const report = values.server
    ? await evaluateRemotely(req, values.server)
    : await evaluateLocally(req, config, {
      workers: values.workers ? Number(values.workers) : undefined,
      pictures,
    });
  if (values.out) await Deno.writeTextFile(values.out, JSON.stringify(report, null, 2));
  if (values.save) {
    const file = await new RunsStore(config.runs.dir, config.runs).save(report);
    console.error(`saved to ${file} (listed by GET /v1/leaderboard)`);
  }
  console.log(
    `${report.dataset} ${report.split}: ${report.n_pairs} pairs, ${report.n_points} points, ` +
      `model ${report.model} @ ${report.resolution} (${report.resize}, ${report.resample}), ` +
      `${report.localizer.method}, threshold ${report.thres_type}, ` +
      `${report.counters.extractions} feature extractions, ` +
      `${(report.timings_ms.total / 1000).toFixed(1)} s`,
  );
  const deviations = report.non_official ?? [];
  console.log(
    deviations.length
      ? `not the official protocol: ${
        deviations.map((d) => `${d.option} ${d.value} (official: ${d.official})`).join(", ")
      }\n`
      : "official protocol\n",
  );
  console.log(markdownTable(report, { by: report.by }));
}

if (import.meta.main) {
  try {
    await main(Deno.args, loadConfig(Deno.env.toObject()));
  } catch (e) {
    console.error(`eval: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
