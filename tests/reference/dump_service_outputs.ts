/**
 * One-off verification helper, run by hand, not by CI and not part of the
 * product: dumps what this service computes for the project's tiny ViT
 * (DINOv2 hub-export I/O contract) on real PF-WILLOW pairs, so that
 * `survey_reference.py` (next to this file) can recompute everything with an
 * independent PyTorch implementation of the survey pipeline and compare.
 *
 * What it writes into the output directory (never into the repository):
 * - `tiny_vit.onnx`: `buildTinyVitGraph(TINY_VIT_OPTIONS)`;
 * - `models.json`: a `MODELS_CONFIG` file with one descriptor that mirrors
 *   the DINOv2 hub exports but points at that file;
 * - `feat_*.f32` (little-endian float32, CHW) and `input_*.f32` (the model
 *   input, `[3, S, S]` float32) of a few images, from `FeatureExtractor` and
 *   `toModelInput`, for both resample modes checked;
 * - `service_outputs.json`: the index of the above plus, for 40 pairs (7 per
 *   class, the last class 5), the `/v1/match` answers of the real service
 *   (started with `startService`, one worker) for `localizer=nn` and
 *   `localizer=kernel-softargmax` at `resolution=224` and `448`, with
 *   `resample` left to its default (`torch`, the official preprocessing) and
 *   with `resample=pil`.
 *
 * Run (see `survey_reference.py` for the whole procedure):
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-env --allow-net \
 *   tests/reference/dump_service_outputs.ts /tmp/survey_ref
 * ```
 *
 * The PF-WILLOW root defaults to `../shared/data/pf-willow/PF-dataset`
 * relative to the repository; set `PFWILLOW_DIR` to use another one.
 *
 * @module
 */

import { buildTinyVitGraph, type TinyVitOptions } from "../fixtures/tiny_vit_graph.ts";
import type { ModelDescriptor } from "../../models/descriptor.ts";
import { FeatureExtractor } from "../../workers/feature_extractor.ts";
import { decodeImage } from "../../workers/decode_image.ts";
import { makeFrame } from "../../core/frame.ts";
import { type ResampleMode, toModelInput } from "../../core/model_input.ts";
import { readMatFile } from "../../datasets/mat_file.ts";
import { startService } from "../../main.ts";
import { loadConfig } from "../../service/config.ts";

/** The tiny ViT under test: wider than the test default, still fast. */
export const TINY_VIT_OPTIONS: TinyVitOptions = { dim: 64, heads: 4, depth: 2, seed: 3 };

/** Model id used in the service's registry. */
const MODEL_ID = "tiny-vit-reference";

/** Input sides checked: 16x16 and 32x32 patch grids. */
const RESOLUTIONS = [224, 448];

/** Localizers checked through `/v1/match`. */
const LOCALIZERS = ["nn", "kernel-softargmax"];

/** The developer slice's classes. */
const CLASSES = [
  "car(G)",
  "car(M)",
  "motorbike(G)",
  "motorbike(S)",
  "winebottle(M)",
  "winebottle(wC)",
];

/** Pairs per class: image i with image i + 3 (mod 10), i = 0..6; 40 pairs in all. */
const PAIRS_PER_CLASS = 7;
const PAIRS = 40;

/** Resample modes checked: the default (the request names none: torch) and pil. */
const RESAMPLES: (ResampleMode | undefined)[] = [undefined, "pil"];

/** Images whose features and resized inputs are dumped (first image of these classes). */
const FEATURE_CLASSES = ["car(G)", "motorbike(S)", "winebottle(wC)"];

function descriptorFor(file: string): ModelDescriptor {
  return {
    id: MODEL_ID,
    description: "tiny ViT with the DINOv2 hub-export contract (reference check)",
    url: file,
    input: "pixel_values",
    output: "last_hidden_state",
    layout: "tokens",
    patch_size: 14,
    prefix_tokens: 1,
    feature_dim: TINY_VIT_OPTIONS.dim!,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    default_resolution: 448,
    resolutions: { min: 112, max: 448 },
  };
}

async function listImages(root: string, cls: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(`${root}/${cls}`)) {
    if (e.isFile && e.name.endsWith(".png")) names.push(e.name);
  }
  return names.sort();
}

async function readPoints(root: string, cls: string, png: string): Promise<number[][]> {
  const vars = await readMatFile(
    await Deno.readFile(`${root}/${cls}/${png.replace(/\.png$/, ".mat")}`),
  );
  const pts = vars.get("pts_coord");
  if (!pts || pts.dims[0] !== 2) throw new Error(`${cls}/${png}: no 2xN pts_coord`);
  const out: number[][] = [];
  for (let i = 0; i < pts.dims[1]; i++) out.push([pts.data[2 * i], pts.data[2 * i + 1]]);
  return out;
}

async function main(outDir: string): Promise<void> {
  const repo = new URL("../../", import.meta.url).pathname;
  const root = Deno.env.get("PFWILLOW_DIR") ?? `${repo}../shared/data/pf-willow/PF-dataset`;
  await Deno.mkdir(outDir, { recursive: true });
  const out = await Deno.realPath(outDir);
  const onnxPath = `${out}/tiny_vit.onnx`;
  await Deno.writeFile(onnxPath, buildTinyVitGraph(TINY_VIT_OPTIONS));
  const descriptor = descriptorFor(onnxPath);
  const modelsConfig = `${out}/models.json`;
  await Deno.writeTextFile(modelsConfig, JSON.stringify([descriptor], null, 2));

  // 1. Predictions from the real service over HTTP.
  const pairs = [];
  const service = await startService(
    loadConfig({
      WORKERS: "1",
      PORT: "0",
      HOST: "127.0.0.1",
      MODELS_CONFIG: modelsConfig,
      MODEL_CACHE: `${out}/cache`,
      MODEL_OFFLINE: "1",
    }),
    { quiet: true },
  );
  try {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      service.ready,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("service not ready after 60 s")), 60_000);
      }),
    ]).finally(() => clearTimeout(timer));
    let count = 0;
    for (const cls of CLASSES) {
      const names = await listImages(root, cls);
      for (let i = 0; i < PAIRS_PER_CLASS && count < PAIRS; i++, count++) {
        const source = names[i];
        const target = names[(i + 3) % names.length];
        const points = await readPoints(root, cls, source);
        const srcBytes = await Deno.readFile(`${root}/${cls}/${source}`);
        const trgBytes = await Deno.readFile(`${root}/${cls}/${target}`);
        for (const resolution of RESOLUTIONS) {
          for (const localizer of LOCALIZERS) {
            for (const resample of RESAMPLES) {
              const form = new FormData();
              form.set("source", new Blob([srcBytes as BlobPart]), source);
              form.set("target", new Blob([trgBytes as BlobPart]), target);
              form.set("points", JSON.stringify(points));
              form.set("model", MODEL_ID);
              form.set("resolution", String(resolution));
              form.set("resize", "stretch");
              form.set("localizer", localizer);
              if (resample) form.set("resample", resample);
              const res = await fetch(`${service.url}/v1/match`, { method: "POST", body: form });
              const json = await res.json();
              if (res.status !== 200) {
                throw new Error(
                  `${cls} ${source}->${target}: HTTP ${res.status} ${JSON.stringify(json)}`,
                );
              }
              console.error(
                `${cls} ${source} -> ${target} @${resolution} ${localizer} ${json.conventions.resample}: ok`,
              );
              pairs.push({
                class: cls,
                source,
                target,
                resolution,
                localizer,
                resample: json.conventions.resample,
                points,
                conventions: json.conventions,
                grid: json.grid,
                source_size: json.source,
                target_size: json.target,
                matches: json.matches,
              });
            }
          }
        }
      }
    }
  } finally {
    await service.close();
  }

  // 2. Features straight from FeatureExtractor (the worker's code path). This
  // runs after the service is closed: onnxruntime-web's Emscripten glue, once
  // loaded in this thread, replaces `globalThis.Worker` with Node's
  // worker_threads class, and a WorkerPool started afterwards gets workers
  // without `self` that crash on load.
  const features = [];
  const fx = await FeatureExtractor.create({ descriptor, file: onnxPath });
  try {
    for (const cls of FEATURE_CLASSES) {
      const png = (await listImages(root, cls))[0];
      const image = await decodeImage(await Deno.readFile(`${root}/${cls}/${png}`));
      for (const resolution of RESOLUTIONS) {
        for (const resample of ["torch", "pil"] as const) {
          const { grid } = await fx.extract(image, { resolution, resize: "stretch", resample });
          const frame = makeFrame(image, { size: resolution, mode: "stretch" });
          const input = toModelInput(image, {
            frame,
            resample,
            mean: descriptor.mean!,
            std: descriptor.std!,
          });
          const tag = `${cls.replace(/[^A-Za-z0-9]/g, "_")}_${
            png.replace(/\.png$/, "")
          }_${resolution}_${resample}`;
          await Deno.writeFile(`${out}/feat_${tag}.f32`, new Uint8Array(grid.data.slice().buffer));
          await Deno.writeFile(`${out}/input_${tag}.f32`, new Uint8Array(input.buffer));
          features.push({
            class: cls,
            image: png,
            resolution,
            resample,
            width: image.width,
            height: image.height,
            grid: { channels: grid.channels, height: grid.height, width: grid.width },
            features_file: `feat_${tag}.f32`,
            input_file: `input_${tag}.f32`,
          });
        }
      }
    }
  } finally {
    await fx.release();
  }

  const index = {
    model: { options: TINY_VIT_OPTIONS, onnx: "tiny_vit.onnx", descriptor },
    pfwillow: root,
    features,
    pairs,
  };
  await Deno.writeTextFile(`${out}/service_outputs.json`, JSON.stringify(index, null, 1));
  console.log(
    `Wrote ${features.length} feature maps and ${pairs.length} match answers to ${out}`,
  );
}

if (import.meta.main) {
  const outDir = Deno.args[0];
  if (!outDir) {
    console.error("Usage: dump_service_outputs.ts <output directory>");
    Deno.exit(2);
  }
  await main(outDir);
}
