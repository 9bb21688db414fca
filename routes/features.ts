/**
 * `POST /v1/features`: one image in, its feature grid out, as the model
 * computes it for `/v1/match` (same options, limits and preprocessing), so
 * clients can inspect or cache features, or run their own matching on them.
 *
 * The image comes as `multipart/form-data` (file `image`) or
 * `application/json` (`image` in base64); the other fields are the input
 * options of `/v1/match` (`model`, `resolution`, `resize`, `resample`) plus
 * `format`. The answer is, with `format=npy` or `Accept: application/x-npy`,
 * a `.npy` file of the `C x h x w` float32 grid (the layout of the official
 * code's feature maps, `np.load` reads it) with the conventions in
 * `X-Features-*` headers; otherwise JSON with the shape, the little-endian
 * float32 data in base64, and the same conventions as fields.
 *
 * @module
 */

import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "./app_env.ts";
import { imageBodyLimit } from "./middleware/image_body_limit.ts";
import { parseInput } from "./_validate.ts";
import { readImageRequest } from "./_image_body.ts";
import { inputConventions, InputConventionsSchema } from "./_conventions.ts";
import { ImageSizeSchema, TimingsSchema } from "./match.ts";
import { checkImage } from "../workers/image_limits.ts";
import { overloadGuard } from "./middleware/overload_guard.ts";
import { MatchOptionsSchema } from "../workers/match_options.ts";
import { encodeNpy } from "../core/encode_npy.ts";

/** The answer formats. */
export const FEATURE_FORMATS = Object.freeze(["json", "npy"] as const);

/** The options of `/v1/features`: the input options of `/v1/match`, and `format`. */
export const FeaturesOptionsSchema = MatchOptionsSchema.pick({
  model: true,
  resolution: true,
  resize: true,
  resample: true,
}).extend({ format: z.enum(FEATURE_FORMATS).optional() });

/** The JSON answer of `POST /v1/features`. */
export const FeaturesResponseSchema = z.object({
  model: z.string(),
  image: ImageSizeSchema,
  grid: z.object({ channels: z.int(), height: z.int(), width: z.int() }),
  shape: z.array(z.int()).describe("[C, h, w]"),
  dtype: z.literal("float32"),
  byte_order: z.literal("little"),
  data: z.string().describe("the C x h x w float32 values, little-endian, in base64"),
  conventions: InputConventionsSchema.extend({ layout: z.string() }),
  timings_ms: TimingsSchema,
});

/** The float32 values as little-endian bytes in base64. */
function base64Floats(data: Float32Array): string {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i], true);
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

const app = new Hono<AppEnv>();

app.post("/", overloadGuard(), imageBodyLimit(1), async (c) => {
  const { pool, config, registry, resolveModel, defaultModel } = c.var.services;
  const body = await readImageRequest(c.req.raw, ["image"]);
  const options = parseInput(FeaturesOptionsSchema, body.fields);
  const image = body.images.image;
  const limits = {
    maxBytes: config.limits.maxBytes,
    maxPixels: config.limits.maxPixels,
    maxDecodedBytes: config.limits.maxDecodedBytes,
  };
  checkImage(image, limits);
  const descriptor = registry.get(options.model ?? defaultModel);
  const resolution = registry.resolution(descriptor, options.resolution);
  const model = await resolveModel(descriptor.id);
  c.set("model", descriptor.id);
  const started = performance.now();
  const f = await pool.run("extract", {
    image,
    model,
    resolution,
    resize: options.resize,
    resample: options.resample,
  }, { transfer: [image.buffer as ArrayBuffer] });
  const total = performance.now() - started;
  const { grid, frame } = f;
  const shape = [grid.channels, grid.height, grid.width];
  const conventions = {
    ...inputConventions({ resolution, resize: options.resize, resample: options.resample }),
    layout:
      "C x h x w float32, row-major cells: grid point (gx, gy) is cell [:, gy, gx]; features as the model returns them (not L2-normalized)",
  };
  const wantsNpy = options.format === "npy" ||
    (options.format === undefined && (c.req.header("accept") ?? "").includes("application/x-npy"));
  if (wantsNpy) {
    const npy = encodeNpy(grid.data, shape);
    return c.body(npy.buffer as ArrayBuffer, 200, {
      "content-type": "application/x-npy",
      "content-disposition": 'attachment; filename="features.npy"',
      "x-features-model": descriptor.id,
      "x-features-shape": shape.join(","),
      "x-features-image-size": `${frame.imageWidth}x${frame.imageHeight}`,
      "x-features-resolution": String(resolution),
      "x-features-resize": options.resize,
      "x-features-resample": options.resample,
      "x-features-grid-mapping": conventions.grid_mapping,
      "x-features-conventions": JSON.stringify(conventions),
    });
  }
  const answer: z.input<typeof FeaturesResponseSchema> = {
    model: descriptor.id,
    image: { width: frame.imageWidth, height: frame.imageHeight },
    grid: { channels: grid.channels, height: grid.height, width: grid.width },
    shape,
    dtype: "float32",
    byte_order: "little",
    data: base64Floats(grid.data),
    conventions,
    timings_ms: { ...f.timings, total },
  };
  return c.json(answer);
});

export default app;
