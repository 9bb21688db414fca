/**
 * Feature extraction per backend (native onnxruntime-node, WASM) and dtype
 * (fp32, and the int8 variant `quantize: "int8"` derives with
 * `models/onnx_quantize.ts`) for ViT-S/14 and ViT-B/14 (random weights,
 * DINOv2 contract, 12 blocks) at 448 and 840, in one table with the ratios
 * int8/fp32 and WASM/native.
 *
 * Slow cells are skipped by `BENCH_EXTRACTION_SKIP`, a comma-separated list
 * of `backend:model:side` patterns (`*` matches any part; default
 * `wasm:vit-b:840`, about 20 s a forward; empty runs everything).
 * `BENCH_EXTRACTION_RUNS` sets the timed runs per cell (default 3, after
 * one warm-up). Run alone: `deno run -A tests/bench/extraction_bench.ts`.
 *
 * @module
 */

import { createSession } from "../../workers/backend.ts";
import { configuredThreads, configureOrt } from "../../workers/ort.ts";
import { loadNativeRuntime } from "../../workers/ort_native.ts";
import type { BackendName } from "../../workers/session.ts";
import { quantizeMatMulsInt8 } from "../../models/onnx_quantize.ts";
import { buildTinyVitGraph } from "../fixtures/tiny_vit_graph.ts";
import { describeCpu } from "./_cpu.ts";

const MODELS = [
  { key: "vit-s", name: "ViT-S/14", dim: 384, heads: 6 },
  { key: "vit-b", name: "ViT-B/14", dim: 768, heads: 12 },
] as const;
const SIDES = [448, 840] as const;
const DTYPES = ["fp32", "int8"] as const;

/** Options of {@linkcode benchExtraction}. */
export interface ExtractionBenchOptions {
  /** Timed runs per cell, after one warm-up (default `BENCH_EXTRACTION_RUNS` or 3). */
  runs?: number;
  /** `backend:model:side` patterns to skip (default `BENCH_EXTRACTION_SKIP` or `wasm:vit-b:840`). */
  skip?: string[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function skipped(patterns: string[], cell: string[]): boolean {
  return patterns.some((p) => {
    const parts = p.split(":");
    return parts.length === cell.length && parts.every((x, i) => x === "*" || x === cell[i]);
  });
}

/**
 * Prints the extraction table (median ms per forward) and returns the times
 * by `backend:model:side:dtype`.
 */
export async function benchExtraction(
  options: ExtractionBenchOptions = {},
): Promise<Record<string, number>> {
  configureOrt({ numThreads: navigator.hardwareConcurrency });
  const runs = options.runs ?? Number(Deno.env.get("BENCH_EXTRACTION_RUNS") ?? 3);
  const env = Deno.env.get("BENCH_EXTRACTION_SKIP");
  const skip = options.skip ??
    (env === undefined ? ["wasm:vit-b:840"] : env.split(",").filter((s) => s !== ""));
  const backends: BackendName[] = [];
  try {
    await loadNativeRuntime();
    backends.push("native");
  } catch (e) {
    console.log(`\nnative backend unavailable: ${(e as Error).message}`);
  }
  backends.push("wasm");
  console.log(
    `\nfeature extraction, random-weight DINOv2-contract ViTs (12 blocks), fp32 vs int8` +
      ` (MatMul -> DynamicQuantizeLinear + MatMulInteger, int8 weights in [-64, 64] per column);` +
      ` ${configuredThreads()} onnxruntime thread(s), median ms of ${runs} after 1 warm-up;` +
      ` skipped: ${skip.join(", ") || "none"}; ${await describeCpu()}`,
  );
  const times: Record<string, number> = {};
  const rows: string[][] = [];
  for (const m of MODELS) {
    const fp32 = buildTinyVitGraph({ dim: m.dim, heads: m.heads, depth: 12, seed: 1 });
    const bytes = { fp32, int8: quantizeMatMulsInt8(fp32).bytes };
    for (const side of SIDES) {
      const pixels = new Float32Array(3 * side * side).map((_, i) => Math.sin(i * 0.001));
      const feeds = { pixel_values: { data: pixels, dims: [1, 3, side, side] } };
      for (const backend of backends) {
        if (skipped(skip, [backend, m.key, String(side)])) continue;
        for (const dtype of DTYPES) {
          const s = await createSession(bytes[dtype], { label: `${m.name} ${dtype}`, backend });
          await s.run(feeds);
          const t: number[] = [];
          for (let i = 0; i < runs; i++) {
            const t0 = performance.now();
            await s.run(feeds);
            t.push(performance.now() - t0);
          }
          await s.release();
          times[`${backend}:${m.key}:${side}:${dtype}`] = median(t);
        }
      }
      const at = (b: string, d: string) => times[`${b}:${m.key}:${side}:${d}`];
      const ms = (v: number | undefined) => v === undefined ? "-" : v.toFixed(0);
      const ratio = (a: number | undefined, b: number | undefined) =>
        a === undefined || b === undefined ? "-" : `${(a / b).toFixed(2)}x`;
      rows.push([
        `${m.name} @ ${side}`,
        ms(at("native", "fp32")),
        ms(at("native", "int8")),
        ratio(at("native", "fp32"), at("native", "int8")),
        ms(at("wasm", "fp32")),
        ms(at("wasm", "int8")),
        ratio(at("wasm", "fp32"), at("wasm", "int8")),
        ratio(at("wasm", "fp32"), at("native", "fp32")),
        ratio(at("wasm", "int8"), at("native", "int8")),
      ]);
    }
  }
  const head = [
    "model @ side",
    "native fp32",
    "native int8",
    "int8 speed-up",
    "wasm fp32",
    "wasm int8",
    "int8 speed-up",
    "wasm/native fp32",
    "wasm/native int8",
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join(" | ")} |`;
  console.log(line(head));
  console.log(
    `| ${widths.map((w, i) => i === 0 ? "-".repeat(w) : "-".repeat(w - 1) + ":").join(" | ")} |`,
  );
  for (const r of rows) console.log(line(r));
  return times;
}

if (import.meta.main) await benchExtraction();
