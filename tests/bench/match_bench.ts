/**
 * `deno task bench`: time to ready of a cold start (empty model cache, so the
 * TF.js conversion of the default model is included) and of a warm one (the
 * same cache); per-stage times of `/v1/match` on a real PF-WILLOW pair
 * with the default model, through the real server and worker pool, and how
 * long issue 11's 36 MP 16-bit PNG takes to be refused from its header; feature
 * extraction time of the same model at the same resolution on every backend
 * this machine has, side by side; the preprocessing of each resample mode; the
 * cost volume as an ONNX graph against the TypeScript reference loop; then the
 * evaluate path (`./evaluate_bench.ts`): PNG decoding, matching at 60x60x768,
 * the 90-pair PF-WILLOW evaluation for several `WORKERS` x `ORT_THREADS` layouts
 * and its pairs/s against the official per-pair loop in PyTorch
 * (`./official_loop.py`, when a python3 here imports torch); `/v1/match`'s
 * decode + preprocess against commit bbfb6a0 (`./stages_bench.ts`); ViT-S/14
 * and ViT-B/14 extraction in fp32 and int8 per backend
 * (`./extraction_bench.ts`) and ViT-B/14 at 840's kernel time by kind, the
 * floor of any int8 variant (`./int8_ceiling_bench.ts`); the server's
 * resident set through a burst, in a child process (`./rss_bench.ts`); peak
 * RSS of the bench process. It starts with the machine's CPU line
 * (`./_cpu.ts`), since int8 figures depend on it.
 *
 * Trims: `BENCH_RUNS`, `BENCH_EVAL_LAYOUTS`, `BENCH_EVAL_ROUNDS`,
 * `BENCH_OFFICIAL_PAIRS`, `BENCH_BACKEND`, `BENCH_RSS_MATCHES`, `BENCH_RSS_SIDE`,
 * `BENCH_RSS_IDLE_S`, `BENCH_RSS_ENV`.
 *
 * Prints figures and ratios; asserts nothing about speed.
 *
 * @module
 */

import { startService } from "../../main.ts";
import { loadConfig } from "../../service/config.ts";
import { configureOrt, createWebSession as createSession } from "../../workers/ort.ts";
import { benchBackends } from "./backend_bench.ts";
import { buildCostVolumeGraph } from "../../core/cost_volume_graph.ts";
import { costVolume } from "../../core/cost_volume.ts";
import { benchEvaluatePath, peakRssMiB } from "./evaluate_bench.ts";
import { benchPreprocess } from "./preprocess_bench.ts";
import { benchMatchStages } from "./stages_bench.ts";
import { benchExtraction } from "./extraction_bench.ts";
import { pngWithClaimedSize } from "../fixtures/images.ts";
import { benchRss } from "./rss_bench.ts";
import { describeCpu } from "./_cpu.ts";
import { benchInt8Ceiling } from "./int8_ceiling_bench.ts";

const DATA = new URL("../../../shared/data/pf-willow/PF-dataset/", import.meta.url);
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 10);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Starts the service on `cacheDir` and returns it once ready, printing how long that took. */
async function start(cacheDir: string, label: string) {
  const t0 = performance.now();
  const service = await startService(
    loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      WORKERS: "1",
      MODEL_CACHE: cacheDir,
      ACCESS_LOG: "0",
    }),
    { quiet: true },
  );
  await service.ready;
  console.log(
    `${label}: ready in ${
      (performance.now() - t0).toFixed(0)
    } ms (registry, default model resolved, session created and warmed)`,
  );
  return service;
}

async function benchMatch(): Promise<void> {
  const source = await Deno.readFile(new URL("car(G)/Cars_006a.png", DATA));
  const target = await Deno.readFile(new URL("car(G)/Cars_007a.png", DATA));
  const cacheDir = await Deno.makeTempDir();
  await (await start(cacheDir, "cold start (empty model cache: TF.js conversion included)"))
    .close();
  const service = await start(cacheDir, "warm start (same cache: nothing converted)");
  const points = JSON.stringify(Array.from({ length: 10 }, (_, i) => [60 + 15 * i, 100]));
  const stages: Record<string, number[]> = {};
  const wall: number[] = [];
  let backend = "";
  let model = "";
  let resolution = 0;
  for (let i = 0; i < RUNS; i++) {
    const form = new FormData();
    form.set("source", new Blob([source]), "a.png");
    form.set("target", new Blob([target]), "b.png");
    form.set("points", points);
    const s = performance.now();
    const res = await fetch(`${service.url}/v1/match`, { method: "POST", body: form });
    const body = await res.json();
    wall.push(performance.now() - s);
    if (!res.ok) throw new Error(JSON.stringify(body));
    backend = body.backend;
    model = body.model;
    resolution = body.conventions.resolution;
    for (const [k, v] of Object.entries(body.timings_ms as Record<string, number>)) {
      (stages[k] ??= []).push(v);
    }
  }
  // Issue 11's hostile image: 280 KB of file, a 36 MP 16-bit header. It must be
  // refused from the header, before anything is inflated.
  const big = await pngWithClaimedSize(7360, 4912, 16, 2);
  const refused: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const form = new FormData();
    form.set("source", new Blob([big as BlobPart]), "big.png");
    form.set("target", new Blob([target]), "b.png");
    form.set("points", points);
    const s = performance.now();
    const res = await fetch(`${service.url}/v1/match`, { method: "POST", body: form });
    const code = (await res.json()).error?.code;
    refused.push(performance.now() - s);
    if (res.status !== 413) throw new Error(`36 MP PNG: ${res.status} ${code}`);
  }
  await service.close();
  await Deno.remove(cacheDir, { recursive: true });
  console.log(
    `\n/v1/match, ${model} @ ${resolution} on ${backend}, kernel-softargmax, 10 points, PF-WILLOW car(G) Cars_006a -> Cars_007a, ${RUNS} runs (median ms):`,
  );
  for (const [k, v] of Object.entries(stages)) {
    console.log(`  ${k.padEnd(11)} ${median(v).toFixed(2)}`);
  }
  console.log(`  ${"http wall".padEnd(11)} ${median(wall).toFixed(2)}`);
  console.log(
    `  a 36 MP 16-bit PNG (a ${big.length}-byte file) refused 413 from its header: ${
      median(refused).toFixed(2)
    } ms wall (${(median(refused) / median(wall)).toFixed(2)}x a normal match)`,
  );
  console.log(
    `  peak RSS of this process (the server and its worker run in it): ${
      (await peakRssMiB())?.toFixed(0) ?? "n/a"
    } MiB`,
  );
}

async function benchCostVolume(): Promise<void> {
  const C = 768;
  const cells = 60 * 60;
  const target = new Float32Array(C * cells).map((_, i) => Math.sin(i * 0.37));
  const session = await createSession(buildCostVolumeGraph(), { label: "cost volume" });
  console.log(`\ncost volume, ${C} channels, 60x60 target (median ms):`);
  for (const q of [20, 1000]) {
    const queries = new Float32Array(q * C).map((_, i) => Math.cos(i * 0.11));
    const onnx: number[] = [];
    const ts: number[] = [];
    for (let i = 0; i < 5; i++) {
      let s = performance.now();
      await session.run({
        queries: { data: queries, dims: [q, C] },
        target: { data: target, dims: [C, cells] },
      });
      onnx.push(performance.now() - s);
      s = performance.now();
      costVolume(queries, target, { queries: q, channels: C, cells });
      ts.push(performance.now() - s);
    }
    const a = median(onnx);
    const b = median(ts);
    console.log(
      `  ${String(q).padStart(4)} queries: onnx ${a.toFixed(1)}, typescript ${
        b.toFixed(1)
      }, ratio ts/onnx ${(b / a).toFixed(2)}x`,
    );
  }
  await session.release();
}

const CORES = navigator.hardwareConcurrency;
configureOrt({ numThreads: CORES });
console.log(`machine: ${await describeCpu()}`);
await benchMatch();
await benchMatchStages();
await benchPreprocess();
await benchBackends();
await benchCostVolume();
await benchEvaluatePath();

// Extraction per backend and dtype (fp32, int8), ViT-S and ViT-B at 448 and 840.
await benchExtraction();

// What int8 can reach on this CPU: ViT-B/14 at 840's kernel time by kind, fp32 against int8.
await benchInt8Ceiling();

// The server alone (a child process) through a burst of large and hostile requests.
await benchRss();

console.log(
  `\npeak RSS of the bench process, whole run: ${(await peakRssMiB())?.toFixed(0) ?? "n/a"} MiB`,
);
