/**
 * `/v1/match`'s decode and preprocess stages for the embedded default model
 * (`mnv3-nanodet-coco`: `mnv3-coco` at 384 and `nanodet-coco` at 208), now
 * against commit bbfb6a0 (issue 12's "today"), in one run on the same two
 * PF-WILLOW images. The old code is not copied into the repository: the bench
 * extracts bbfb6a0's `core/`, `errors/` and `workers/decode_image.ts` with
 * `git archive` into `.scratch/bbfb6a0` and imports them from there.
 *
 * bbfb6a0 resized with Pillow's bilinear filter on 8-bit pixels, so its
 * preprocessing is compared with today's `resample: "pil"` (outputs checked
 * identical); today's default `resample: "torch"` (the official protocol's
 * float Resize, which bbfb6a0 did not have) is printed beside it. Decoded
 * pixels are checked byte-identical.
 *
 * @module
 */

import { decodeImage } from "../../workers/decode_image.ts";
import { makeFrame } from "../../core/frame.ts";
import { type ResampleMode, toModelInput } from "../../core/model_input.ts";
import { NPM_MODELS } from "../../models/npm_models.ts";

const OLD = "bbfb6a0";
const DATA = new URL("../../../shared/data/pf-willow/PF-dataset/car(G)/", import.meta.url);
const ROOT = new URL("../../", import.meta.url).pathname;

interface Image {
  width: number;
  height: number;
  data: Uint8Array;
}

/** bbfb6a0's decode and preprocess, imported from its own files. */
async function oldCode() {
  const dir = `${ROOT}.scratch/${OLD}`;
  await Deno.mkdir(dir, { recursive: true });
  const archive = await new Deno.Command("git", {
    args: ["archive", OLD, "core", "errors", "workers/decode_image.ts"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  if (!archive.success) throw new Error(`git archive ${OLD} failed`);
  const tar = new Deno.Command("tar", { args: ["-x", "-C", dir], stdin: "piped" }).spawn();
  const w = tar.stdin.getWriter();
  await w.write(archive.stdout);
  await w.close();
  if (!(await tar.status).success) throw new Error("tar -x failed");
  const decode = await import(`file://${dir}/workers/decode_image.ts`);
  const resize = await import(`file://${dir}/core/resize.ts`);
  const pad = await import(`file://${dir}/core/pad_image.ts`);
  const normalize = await import(`file://${dir}/core/normalize.ts`);
  const frames = await import(`file://${dir}/core/frame.ts`);
  return {
    decode: decode.decodeImage as (bytes: Uint8Array) => Promise<Image>,
    /** bbfb6a0's FeatureExtractor.extract before the session run, verbatim. */
    preprocess(image: Image, size: number, stats: { mean: number[]; std: number[] }) {
      const frame = frames.makeFrame(image, { size, mode: "stretch" });
      const size3 = { width: image.width, height: image.height, channels: 3 };
      const content = resize.resizeBilinear(image.data, size3, {
        width: frame.contentWidth,
        height: frame.contentHeight,
      });
      const square = frame.contentWidth === size && frame.contentHeight === size
        ? content
        : pad.padImage(content, {
          width: frame.contentWidth,
          height: frame.contentHeight,
          channels: 3,
        }, { width: size, height: size, offsetX: frame.contentX, offsetY: frame.contentY });
      return normalize.toNormalizedCHW(
        square,
        { width: size, height: size },
        stats,
      ) as Float32Array;
    },
  };
}

/** Fastest of `runs` (the least disturbed by other load), after warm-up. */
async function fastest(run: () => unknown, runs: number): Promise<number> {
  for (let i = 0; i < 3; i++) await run();
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await run();
    best = Math.min(best, performance.now() - s);
  }
  return best;
}

function sameFloats(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

/** Prints decode + preprocess of the default model's two inputs, bbfb6a0 against now, with ratios. */
export async function benchMatchStages(runs = Number(Deno.env.get("BENCH_RUNS") ?? 20)) {
  const files = await Promise.all(
    ["Cars_006a.png", "Cars_007a.png"].map((f) => Deno.readFile(new URL(f, DATA))),
  );
  const old = await oldCode();
  const parts = NPM_MODELS["mnv3-nanodet-coco"].components!.map((c) => {
    const d = NPM_MODELS[c.model as "mnv3-coco" | "nanodet-coco"];
    return { size: c.resolution!, stats: { mean: [...d.mean], std: [...d.std] } };
  });
  const newImages = await Promise.all(files.map((f) => decodeImage(f)));
  const oldImages = await Promise.all(files.map((f) => old.decode(f)));
  const pixelsSame = newImages.every((im, i) =>
    im.width === oldImages[i].width && im.height === oldImages[i].height &&
    im.data.every((v, j) => v === oldImages[i].data[j])
  );
  const now = (resample: ResampleMode) => () => {
    for (const im of newImages) {
      for (const p of parts) {
        toModelInput(im, {
          frame: makeFrame(im, { size: p.size, mode: "stretch" }),
          resample,
          ...p.stats,
        });
      }
    }
  };
  const inputsSame = newImages.every((im, i) =>
    parts.every((p) =>
      sameFloats(
        toModelInput(im, {
          frame: makeFrame(im, { size: p.size, mode: "stretch" }),
          resample: "pil",
          ...p.stats,
        }),
        old.preprocess(oldImages[i], p.size, p.stats),
      )
    )
  );
  const decodeOld = await fastest(() => Promise.all(files.map((f) => old.decode(f))), runs);
  const decodeNow = await fastest(() => Promise.all(files.map((f) => decodeImage(f))), runs);
  const prepOld = await fastest(() => {
    for (const im of oldImages) for (const p of parts) old.preprocess(im, p.size, p.stats);
  }, runs);
  const prepPil = await fastest(now("pil"), runs);
  const prepTorch = await fastest(now("torch"), runs);
  const before = decodeOld + prepOld;
  console.log(
    `\n/v1/match stages, mnv3-nanodet-coco (384 + 208), Cars_006a + Cars_007a, ${OLD} against now, fastest of ${runs} (ms for both images):` +
      `\n  decode     ${decodeOld.toFixed(2)} -> ${decodeNow.toFixed(2)} (${
        (decodeOld / decodeNow).toFixed(2)
      }x); pixels identical: ${pixelsSame}` +
      `\n  preprocess ${prepOld.toFixed(2)} -> pil ${prepPil.toFixed(2)} (${
        (prepOld / prepPil).toFixed(2)
      }x; inputs identical: ${inputsSame}), torch (today's default) ${prepTorch.toFixed(2)} (${
        (prepOld / prepTorch).toFixed(2)
      }x)` +
      `\n  decode + preprocess ${before.toFixed(2)} -> ${(decodeNow + prepPil).toFixed(2)} pil = ${
        (100 * (decodeNow + prepPil) / before).toFixed(0)
      }% of ${OLD}, ${(decodeNow + prepTorch).toFixed(2)} torch = ${
        (100 * (decodeNow + prepTorch) / before).toFixed(0)
      }% (target <= 33%)`,
  );
}

if (import.meta.main) await benchMatchStages();
