/**
 * Feature extraction of the same model at the same resolution on every
 * backend this machine has (WASM, native, WebGPU on a hardware adapter), side
 * by side with their ratios and the largest difference of their outputs.
 * Run alone (`deno run -A tests/bench/backend_bench.ts`) it needs no dataset,
 * so it also runs on a GPU machine; `BENCH_MODELS` picks the model shapes.
 *
 * @module
 */

import { createSession, hardwareGpuAdapter } from "../../workers/backend.ts";
import { configureOrt } from "../../workers/ort.ts";
import { loadNativeRuntime } from "../../workers/ort_native.ts";
import type { BackendName } from "../../workers/session.ts";
import { buildTinyVitGraph } from "../fixtures/tiny_vit_graph.ts";
import { buildDsiftGraph } from "../../models/dsift_graph.ts";
import { NPM_MODELS } from "../../models/npm_models.ts";
import { importTfjsModel } from "../../models/tfjs_import.ts";

/** One model shape to time. */
interface BenchModel {
  name: string;
  build: () => Uint8Array | Promise<Uint8Array>;
  side: number;
}

/** A built-in TF.js model, converted through the importer (cached under `MODEL_CACHE` or `.cache/models`). */
function imported(id: "mnv3-coco" | "nanodet-coco"): BenchModel {
  const d = NPM_MODELS[id];
  return {
    name: `${id} @ ${d.default_resolution}`,
    build: async () => {
      const cacheDir = Deno.env.get("MODEL_CACHE") ?? ".cache/models";
      return await Deno.readFile((await importTfjsModel(d, { cacheDir })).path);
    },
    side: d.default_resolution,
  };
}

const SHAPES: Record<string, BenchModel> = {
  dsift: { name: "dsift @ 256", build: () => buildDsiftGraph(), side: 256 },
  "mnv3-coco": imported("mnv3-coco"),
  "nanodet-coco": imported("nanodet-coco"),
  "vit-s4": {
    name: "ViT-S/14 shape, 4 blocks, random weights @ 448",
    build: () => buildTinyVitGraph({ dim: 384, heads: 6, depth: 4, seed: 1 }),
    side: 448,
  },
  "vit-b-448": {
    name: "ViT-B/14 shape (12 blocks, 768), random weights @ 448",
    build: () => buildTinyVitGraph({ dim: 768, heads: 12, depth: 12, seed: 1 }),
    side: 448,
  },
  "vit-b-840": {
    name: "ViT-B/14 shape (12 blocks, 768), random weights @ 840",
    build: () => buildTinyVitGraph({ dim: 768, heads: 12, depth: 12, seed: 1 }),
    side: 840,
  },
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Prints extraction times per backend.
 *
 * @param shapes Keys of the model shapes to time.
 * @param runs Timed runs per backend, after one warm-up.
 */
export async function benchBackends(
  shapes = ["dsift", "mnv3-coco", "nanodet-coco", "vit-s4"],
  runs = 5,
): Promise<void> {
  const backends: BackendName[] = ["wasm"];
  try {
    await loadNativeRuntime();
    backends.push("native");
  } catch (e) {
    console.log(`\nnative backend unavailable: ${(e as Error).message}`);
  }
  const gpu = await hardwareGpuAdapter();
  if (gpu) backends.push("webgpu");
  console.log(
    `\nwebgpu: ${gpu ? gpu.description : "no hardware adapter (software adapters count as none)"}`,
  );
  console.log(
    `feature extraction per backend, ${navigator.hardwareConcurrency} cores (median ms of ${runs} after 1 warm-up):`,
  );
  const total: Record<string, number> = {};
  for (const key of shapes) {
    const m = SHAPES[key];
    const bytes = await m.build();
    const pixels = new Float32Array(3 * m.side * m.side).map((_, i) => Math.sin(i * 0.001));
    const feeds = { pixel_values: { data: pixels, dims: [1, 3, m.side, m.side] } };
    const times: Record<string, number> = {};
    const outputs: Record<string, Float32Array> = {};
    for (const backend of backends) {
      const s = await createSession(bytes, { label: m.name, backend });
      let out = await s.run(feeds);
      const t: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        out = await s.run(feeds);
        t.push(performance.now() - t0);
      }
      times[backend] = median(t);
      outputs[backend] = Object.values(out)[0].data;
      await s.release();
    }
    const cells = backends.map((b) => `${b} ${times[b].toFixed(1)}`).join(", ");
    const ratios = backends.filter((b) => b !== "wasm").map((b) => {
      let diff = 0;
      for (let i = 0; i < outputs.wasm.length; i++) {
        diff = Math.max(diff, Math.abs(outputs.wasm[i] - outputs[b][i]));
      }
      return `wasm/${b} ${(times.wasm / times[b]).toFixed(2)}x (max |diff| ${
        diff.toExponential(1)
      })`;
    }).join(", ");
    console.log(`  ${m.name}: ${cells}${ratios ? `; ${ratios}` : ""}`);
    if (key === "mnv3-coco" || key === "nanodet-coco") {
      for (const b of backends) total[b] = (total[b] ?? 0) + times[b];
    }
  }
  if (shapes.includes("mnv3-coco") && shapes.includes("nanodet-coco")) {
    const cells = backends.map((b) => `${b} ${total[b].toFixed(1)}`).join(", ");
    console.log(`  default mnv3-nanodet-coco (both backbones, fusion not included): ${cells}`);
  }
}

if (import.meta.main) {
  configureOrt({ numThreads: navigator.hardwareConcurrency });
  const shapes = Deno.env.get("BENCH_MODELS")?.split(",") ??
    ["dsift", "mnv3-coco", "nanodet-coco", "vit-s4"];
  await benchBackends(shapes, Number(Deno.env.get("BENCH_RUNS") ?? 5));
}
