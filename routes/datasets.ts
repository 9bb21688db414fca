/**
 * `GET /v1/datasets`: which benchmarks are present, their splits, categories
 * and pair counts. `GET /v1/datasets/{name}/pairs`: exactly the pairs an
 * evaluation with the same options scores (it takes the query of
 * `/v1/evaluate`'s body, read by the same code), with keypoints, the query
 * points as matched, image sizes and ground truth and thresholds in both
 * scoring frames.
 *
 * @module
 */

import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "./app_env.ts";
import { parseInput, validate } from "./_validate.ts";
import { errorAnswer } from "./_on_error.ts";
import { DatasetUnsafePathError, InvalidRequestError } from "../errors/mod.ts";
import { DATASET_SPLITS, readDataset } from "../datasets/read_dataset.ts";
import { DATASET_IDS, type DatasetPair, type DatasetSlice } from "../datasets/types.ts";
import { toOfficialFrame } from "../core/official_frame.ts";
import { EvaluateRequestSchema, requestFromStrings } from "../evaluation/request.ts";
import { readScoredPairs } from "../evaluation/scored_pairs.ts";
import { openRoot } from "../datasets/data_source.ts";
import { ImageSizeSchema } from "./match.ts";

/** One split of a dataset as `GET /v1/datasets` lists it. */
const SplitSummary = z.union([
  z.object({
    available: z.literal(true),
    pairs: z.int(),
    pair_source: z.string(),
    thres_type: z.string(),
    categories: z.record(z.string(), z.int()).describe("pairs per category"),
  }),
  z.object({ available: z.literal(false), reason: z.string() }),
]);

/** The answer of `GET /v1/datasets`. */
export const DatasetListSchema = z.object({
  datasets: z.array(z.object({
    id: z.enum(DATASET_IDS),
    root: z.string().nullable().describe(
      "the root's URL when it is one; null for a local folder (server paths are not shown) or an unset root",
    ),
    present: z.boolean(),
    reason: z.string().optional().describe("why the root is not set"),
    splits: z.record(z.string(), SplitSummary),
  })),
});

const Points = z.array(z.tuple([z.number(), z.number()]));
const Box = z.array(z.number()).describe("x0, y0, x1, y1");

/** The answer of `GET /v1/datasets/{name}/pairs`. */
export const DatasetPairsSchema = z.object({
  dataset: z.enum(DATASET_IDS),
  split: z.string(),
  pair_source: z.string(),
  pair_file: z.string().nullable(),
  keypoints: z.string(),
  max_keypoints: z.int(),
  thres_type: z.string(),
  model: z.string().optional(),
  resolution: z.int(),
  resize: z.string(),
  official_frame_size: z.int(),
  dataset_options: z.record(z.string(), z.union([z.string(), z.number()])),
  non_official: z.array(z.object({
    option: z.string(),
    value: z.union([z.string(), z.number()]),
    official: z.union([z.string(), z.number()]),
  })),
  total: z.int(),
  pairs: z.array(z.object({
    pair_id: z.string(),
    category: z.string(),
    source: z.string().describe("the image's path under the root: GET /v1/datasets/{name}/image"),
    target: z.string(),
    source_size: ImageSizeSchema.nullable(),
    target_size: ImageSizeSchema.nullable(),
    source_kps: Points,
    query: Points.describe("the source points as matched (clamped into the image)"),
    target_kps: Points,
    threshold_base: z.enum(["bbox", "bbox-kp", "img"]).describe(
      "what the threshold is a fraction of",
    ),
    source_bbox: Box.optional(),
    target_bbox: Box.optional(),
    difficulty: z.object({
      viewpoint_variation: z.int(),
      scale_variation: z.int(),
      truncation: z.int(),
      occlusion: z.int(),
      mirror: z.int(),
    }).optional().describe("SPair-71k's difficulty flags"),
    frames: z.object({
      original: z.object({ target_kps: Points, threshold: z.number().nullable() }),
      official: z.object({ size: z.int(), target_kps: Points, threshold: z.number().nullable() })
        .nullable(),
    }),
  })),
});

/** The image file types the image route serves, by extension. */
const IMAGE_TYPES: Readonly<Record<string, string>> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
};

/** The query of `GET /v1/datasets/{name}/image`. */
export const DatasetImageQuerySchema = z.object({
  path: z.string().min(1).max(1024).regex(
    /\.(png|jpe?g)$/i,
    "must name a .png, .jpg or .jpeg file",
  ).describe("an image path as the pairs list it (source or target), relative to the root"),
});

const app = new Hono<AppEnv>();

app.get("/", async (c) => {
  const roots = c.var.services.config.datasets;
  const datasets: unknown[] = [];
  for (const id of DATASET_IDS) {
    const setting = roots[id];
    if (setting.root === null) {
      // A misconfigured root makes that dataset unavailable, not the listing.
      datasets.push({ id, root: null, present: false, reason: setting.reason, splits: {} });
      continue;
    }
    const source = openRoot(roots, id);
    const splits: Record<string, unknown> = {};
    for (const split of DATASET_SPLITS[id]) {
      try {
        const slice = await readDataset(id, source, { split });
        splits[split] = summarize(slice);
      } catch (e) {
        // A dataset fault's message names the file; a bug is logged and says nothing.
        splits[split] = {
          available: false,
          reason: errorAnswer(e, c.get("requestId")).error.message,
        };
      }
    }
    const present = Object.values(splits).some((s) => (s as { available: boolean }).available);
    // A URL root is shown; a local folder is a server path, kept out of answers.
    datasets.push({ id, root: source.remote ? source.root : null, present, splits });
  }
  return c.json({ datasets });
});

app.get(
  "/:name/pairs",
  validate("param", z.object({ name: z.enum(DATASET_IDS) })),
  async (c) => {
    const { name } = c.req.valid("param");
    const req = parseInput(
      EvaluateRequestSchema,
      requestFromStrings({ ...c.req.query(), dataset: name }),
    );
    const { registry, config, defaultModel } = c.var.services;
    const scored = await readScoredPairs({ ...req, model: req.model ?? defaultModel }, {
      registry,
      roots: config.datasets,
    });
    const { slice, resolution } = scored;
    const answer: z.input<typeof DatasetPairsSchema> = {
      dataset: slice.dataset,
      split: slice.split,
      pair_source: slice.pair_source,
      pair_file: slice.pair_file,
      keypoints: slice.keypoints,
      max_keypoints: slice.max_keypoints,
      thres_type: slice.threshold_base,
      model: req.model,
      resolution,
      resize: req.resize,
      official_frame_size: resolution,
      dataset_options: scored.protocol.dataset_options,
      non_official: scored.protocol.non_official,
      total: scored.pairs.length,
      pairs: scored.pairs.map((p, i) => describePair(p, scored.queries[i], resolution)),
    };
    return c.json(answer);
  },
);

app.get(
  "/:name/image",
  validate("param", z.object({ name: z.enum(DATASET_IDS) })),
  validate("query", DatasetImageQuerySchema),
  async (c) => {
    const { name } = c.req.valid("param");
    const { path } = c.req.valid("query");
    // The source refuses paths that leave the root; only image files are served.
    const source = openRoot(c.var.services.config.datasets, name);
    try {
      source.locate(path, "the `path` query");
    } catch (e) {
      // From a dataset file such a path is the dataset's fault (503); here it is the client's.
      if (!(e instanceof DatasetUnsafePathError)) throw e;
      throw new InvalidRequestError(e.message, {
        details: { issues: [{ path: ["path"], message: e.message, code: "custom" }] },
      });
    }
    const bytes = await source.readBytes(path, "image");
    const type = IMAGE_TYPES[path.slice(path.lastIndexOf(".") + 1).toLowerCase()];
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      "content-type": type,
      "cache-control": "public, max-age=3600",
    });
  },
);

function summarize(slice: DatasetSlice) {
  const categories: Record<string, number> = {};
  for (const p of slice.pairs) categories[p.category] = (categories[p.category] ?? 0) + 1;
  return {
    available: true,
    pairs: slice.pairs.length,
    pair_source: slice.pair_source,
    thres_type: slice.threshold_base,
    categories,
  };
}

function points(kps: Float32Array): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < kps.length; i += 2) out.push([kps[i], kps[i + 1]]);
  return out;
}

function describePair(p: DatasetPair, query: Float32Array, size: number) {
  let official = null;
  if (p.target_size && p.target_kps.length) {
    const o = toOfficialFrame({
      pred: p.target_kps,
      truth: p.target_kps,
      targetSize: p.target_size,
      size,
      thresholdBase: p.threshold_base,
      bbox: p.target_bbox,
    });
    official = { size, target_kps: points(o.truth), threshold: o.threshold };
  }
  return {
    pair_id: p.pair_id,
    category: p.category,
    source: p.source,
    target: p.target,
    source_size: p.source_size,
    target_size: p.target_size,
    source_kps: points(p.source_kps),
    query: points(query),
    target_kps: points(p.target_kps),
    threshold_base: p.threshold_base,
    ...(p.source_bbox ? { source_bbox: p.source_bbox, target_bbox: p.target_bbox } : {}),
    ...(p.difficulty ? { difficulty: p.difficulty } : {}),
    frames: {
      original: { target_kps: points(p.target_kps), threshold: p.threshold },
      official,
    },
  };
}

export default app;
