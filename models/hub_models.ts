// This module is browser compatible.
/** DINOv3 exports: ImageNet normalization, patch 16, the survey's 960 px at most. */
const DINOV3: Shared = {
  input: "pixel_values",
  output: "last_hidden_state",
  layout: "tokens",
  patch_size: 16,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  default_resolution: 448,
  resolutions: { min: 112, max: 960 },
  license: "DINOv3 License (Meta); check its terms before use",
};

/** CLIP vision towers: OpenAI normalization, fixed 224 px input. */
const CLIP: Shared = {
  input: "pixel_values",
  output: "last_hidden_state",
  layout: "tokens",
  patch_size: 14,
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
  default_resolution: 224,
  resolutions: { min: 224, max: 224 },
  license: "MIT (OpenAI CLIP)",
};

/**
 * Built-in descriptors of the public DINOv2 ONNX exports on the Hugging Face
 * Hub, as data. Each is downloaded on first use by `loadModelFile`.
 *
 * - `dinov2-{small,base}`: `onnx-community/dinov2-*` (`onnx/model.onnx`),
 *   with `-fp16` (`onnx/model_fp16.onnx`) and `-q8` (`onnx/model_quantized.onnx`,
 *   8-bit dynamic quantization) variants;
 * - `dinov2-with-registers-{small,base,large}`: `onnx-community/dinov2-with-registers-*`,
 *   5 prefix tokens (CLS + 4 registers), with the same variants;
 * - `dinov2-{small,base}-int8`: the fp32 `onnx-community` file, quantized by
 *   this project on first use (`quantize: "int8"`, see `./quantized_file.ts`);
 * - `xenova-dinov2-{small,base,large}`: the older `Xenova/dinov2-*` exports,
 *   with `-q8` variants.
 *
 * All take `pixel_values` `[B, 3, H, W]` (ImageNet mean/std on pixels in
 * [0, 1]) and return `last_hidden_state` `[B, prefix + (H/14)(W/14), C]`.
 * The fp16 files are expected to keep float32 inputs and outputs (the
 * transformers.js conversion does); if one does not, the session reports the
 * type instead of running.
 *
 * Integrity: no sha256 or size is known here (nothing can be fetched while
 * building the service). The `Xenova/dinov2-*` exports are pinned to the
 * commit that added their fp16 weights (`Xenova/dinov2-small@bd222e8`,
 * `-base@fef9673`, `-large@ea6fe54`: the hub's file listings at those full
 * commit ids hold `onnx/model.onnx` and `onnx/model_quantized.onnx`), so
 * their bytes cannot change; the other exports follow `main`, as no full
 * commit id of theirs was found. The first download is trusted and cached
 * by URL. For reproducible deployments, pin the file: copy the descriptor
 * into the JSON file named by `MODELS_CONFIG` with `sha256` and `bytes` set
 * and the URL at a commit (`hf://onnx-community/dinov2-small@<commit>/onnx/model.onnx`).
 *
 * Licence: the DINOv2 weights are Apache-2.0 (facebookresearch/dinov2).
 *
 * @example Usage
 * ```ts
 * import { HUB_MODELS } from "./hub_models.ts";
 * import assert from "node:assert/strict";
 *
 * const m = HUB_MODELS["dinov2-base"];
 * assert.equal(m.url, "hf://onnx-community/dinov2-base/onnx/model.onnx");
 * assert.equal(m.feature_dim, 768);
 * assert.equal(HUB_MODELS["dinov2-with-registers-small"].prefix_tokens, 5);
 * for (const d of Object.values(HUB_MODELS)) assert.equal(d.default_resolution % d.patch_size, 0);
 * ```
 *
 * @module
 */

import type { BackboneDescriptor } from "./descriptor.ts";

type Shared = Pick<
  BackboneDescriptor,
  | "input"
  | "output"
  | "layout"
  | "patch_size"
  | "mean"
  | "std"
  | "default_resolution"
  | "resolutions"
  | "license"
>;

/**
 * What every DINOv2 export shares. Input sides from 112 (8x8 patches) to 840
 * (60x60). Peak memory grows with the square of the token count: ViT-B at 840
 * (3,601 tokens) peaks at about 2.7 GB on the WASM backend, close to its 4 GB
 * address space, so 840 is the most WASM can take for S and B.
 */
const DINOV2: Shared = {
  input: "pixel_values",
  output: "last_hidden_state",
  layout: "tokens",
  patch_size: 14,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  default_resolution: 448,
  resolutions: { min: 112, max: 840 },
  license: "Apache-2.0",
};

/**
 * ViT-L: 1.2 GB of fp32 weights plus 16 heads of attention; at 840 it would
 * pass the WASM backend's 4 GB (estimated from ViT-B's 2.7 GB), so it stops
 * at 672 (48x48 patches, about 2.5 GB).
 */
const DINOV2_LARGE: Shared = { ...DINOV2, resolutions: { min: 112, max: 672 } };

/** Built-in DINOv2 descriptors by id. */
export const HUB_MODELS = Object.freeze(
  {
    "dinov2-small": {
      id: "dinov2-small",
      description: "DINOv2 ViT-S/14 (onnx-community export, fp32, 88 MB)",
      url: "hf://onnx-community/dinov2-small/onnx/model.onnx",
      prefix_tokens: 1,
      feature_dim: 384,
      ...DINOV2,
    },
    "dinov2-small-fp16": {
      id: "dinov2-small-fp16",
      description: "DINOv2 ViT-S/14 (onnx-community export, fp16 weights)",
      url: "hf://onnx-community/dinov2-small/onnx/model_fp16.onnx",
      prefix_tokens: 1,
      feature_dim: 384,
      ...DINOV2,
    },
    "dinov2-small-q8": {
      id: "dinov2-small-q8",
      description: "DINOv2 ViT-S/14 (onnx-community export, 8-bit quantized)",
      url: "hf://onnx-community/dinov2-small/onnx/model_quantized.onnx",
      prefix_tokens: 1,
      feature_dim: 384,
      ...DINOV2,
    },
    "dinov2-small-int8": {
      id: "dinov2-small-int8",
      description:
        "DINOv2 ViT-S/14: the fp32 export quantized here (int8 per-column MatMul weights, dynamic activations)",
      url: "hf://onnx-community/dinov2-small/onnx/model.onnx",
      quantize: "int8",
      prefix_tokens: 1,
      feature_dim: 384,
      ...DINOV2,
    },
    "dinov2-base": {
      id: "dinov2-base",
      description: "DINOv2 ViT-B/14 (onnx-community export, fp32, 347 MB)",
      url: "hf://onnx-community/dinov2-base/onnx/model.onnx",
      prefix_tokens: 1,
      feature_dim: 768,
      ...DINOV2,
    },
    "dinov2-base-fp16": {
      id: "dinov2-base-fp16",
      description: "DINOv2 ViT-B/14 (onnx-community export, fp16 weights)",
      url: "hf://onnx-community/dinov2-base/onnx/model_fp16.onnx",
      prefix_tokens: 1,
      feature_dim: 768,
      ...DINOV2,
    },
    "dinov2-base-q8": {
      id: "dinov2-base-q8",
      description: "DINOv2 ViT-B/14 (onnx-community export, 8-bit quantized)",
      url: "hf://onnx-community/dinov2-base/onnx/model_quantized.onnx",
      prefix_tokens: 1,
      feature_dim: 768,
      ...DINOV2,
    },
    "dinov2-base-int8": {
      id: "dinov2-base-int8",
      description:
        "DINOv2 ViT-B/14: the fp32 export quantized here (int8 per-column MatMul weights, dynamic activations)",
      url: "hf://onnx-community/dinov2-base/onnx/model.onnx",
      quantize: "int8",
      prefix_tokens: 1,
      feature_dim: 768,
      ...DINOV2,
    },
    "dinov2-with-registers-small": {
      id: "dinov2-with-registers-small",
      description: "DINOv2 ViT-S/14 with 4 registers (onnx-community export, fp32)",
      url: "hf://onnx-community/dinov2-with-registers-small/onnx/model.onnx",
      prefix_tokens: 5,
      feature_dim: 384,
      ...DINOV2,
    },
    "dinov2-with-registers-small-fp16": {
      id: "dinov2-with-registers-small-fp16",
      description: "DINOv2 ViT-S/14 with 4 registers (onnx-community export, fp16 weights)",
      url: "hf://onnx-community/dinov2-with-registers-small/onnx/model_fp16.onnx",
      prefix_tokens: 5,
      feature_dim: 384,
      ...DINOV2,
    },
    "dinov2-with-registers-small-q8": {
      id: "dinov2-with-registers-small-q8",
      description: "DINOv2 ViT-S/14 with 4 registers (onnx-community export, 8-bit quantized)",
      url: "hf://onnx-community/dinov2-with-registers-small/onnx/model_quantized.onnx",
      prefix_tokens: 5,
      feature_dim: 384,
      ...DINOV2,
    },
    "dinov2-with-registers-base": {
      id: "dinov2-with-registers-base",
      description: "DINOv2 ViT-B/14 with 4 registers (onnx-community export, fp32)",
      url: "hf://onnx-community/dinov2-with-registers-base/onnx/model.onnx",
      prefix_tokens: 5,
      feature_dim: 768,
      ...DINOV2,
    },
    "dinov2-with-registers-base-fp16": {
      id: "dinov2-with-registers-base-fp16",
      description: "DINOv2 ViT-B/14 with 4 registers (onnx-community export, fp16 weights)",
      url: "hf://onnx-community/dinov2-with-registers-base/onnx/model_fp16.onnx",
      prefix_tokens: 5,
      feature_dim: 768,
      ...DINOV2,
    },
    "dinov2-with-registers-base-q8": {
      id: "dinov2-with-registers-base-q8",
      description: "DINOv2 ViT-B/14 with 4 registers (onnx-community export, 8-bit quantized)",
      url: "hf://onnx-community/dinov2-with-registers-base/onnx/model_quantized.onnx",
      prefix_tokens: 5,
      feature_dim: 768,
      ...DINOV2,
    },
    "dinov2-with-registers-large": {
      id: "dinov2-with-registers-large",
      description: "DINOv2 ViT-L/14 with 4 registers (onnx-community export, fp32)",
      url: "hf://onnx-community/dinov2-with-registers-large/onnx/model.onnx",
      prefix_tokens: 5,
      feature_dim: 1024,
      ...DINOV2_LARGE,
    },
    "dinov2-with-registers-large-fp16": {
      id: "dinov2-with-registers-large-fp16",
      description: "DINOv2 ViT-L/14 with 4 registers (onnx-community export, fp16 weights)",
      url: "hf://onnx-community/dinov2-with-registers-large/onnx/model_fp16.onnx",
      prefix_tokens: 5,
      feature_dim: 1024,
      ...DINOV2_LARGE,
    },
    "dinov2-with-registers-large-q8": {
      id: "dinov2-with-registers-large-q8",
      description: "DINOv2 ViT-L/14 with 4 registers (onnx-community export, 8-bit quantized)",
      url: "hf://onnx-community/dinov2-with-registers-large/onnx/model_quantized.onnx",
      prefix_tokens: 5,
      feature_dim: 1024,
      ...DINOV2_LARGE,
    },
    "xenova-dinov2-small": {
      id: "xenova-dinov2-small",
      description: "DINOv2 ViT-S/14 (Xenova export, fp32)",
      url: "hf://Xenova/dinov2-small@bd222e886723524568931e43031f6d9327896fac/onnx/model.onnx",
      prefix_tokens: 1,
      feature_dim: 384,
      ...DINOV2,
    },
    "xenova-dinov2-small-q8": {
      id: "xenova-dinov2-small-q8",
      description: "DINOv2 ViT-S/14 (Xenova export, 8-bit quantized)",
      url:
        "hf://Xenova/dinov2-small@bd222e886723524568931e43031f6d9327896fac/onnx/model_quantized.onnx",
      prefix_tokens: 1,
      feature_dim: 384,
      ...DINOV2,
    },
    "xenova-dinov2-base": {
      id: "xenova-dinov2-base",
      description: "DINOv2 ViT-B/14 (Xenova export, fp32)",
      url: "hf://Xenova/dinov2-base@fef96735014749b0e195358c3fc42cc00b08378e/onnx/model.onnx",
      prefix_tokens: 1,
      feature_dim: 768,
      ...DINOV2,
    },
    "xenova-dinov2-base-q8": {
      id: "xenova-dinov2-base-q8",
      description: "DINOv2 ViT-B/14 (Xenova export, 8-bit quantized)",
      url:
        "hf://Xenova/dinov2-base@fef96735014749b0e195358c3fc42cc00b08378e/onnx/model_quantized.onnx",
      prefix_tokens: 1,
      feature_dim: 768,
      ...DINOV2,
    },
    "xenova-dinov2-large": {
      id: "xenova-dinov2-large",
      description: "DINOv2 ViT-L/14 (Xenova export, fp32)",
      url: "hf://Xenova/dinov2-large@ea6fe542912c2af69cbe7cef2ba6a5257b09db00/onnx/model.onnx",
      prefix_tokens: 1,
      feature_dim: 1024,
      ...DINOV2_LARGE,
    },
    "xenova-dinov2-large-q8": {
      id: "xenova-dinov2-large-q8",
      description: "DINOv2 ViT-L/14 (Xenova export, 8-bit quantized)",
      url:
        "hf://Xenova/dinov2-large@ea6fe542912c2af69cbe7cef2ba6a5257b09db00/onnx/model_quantized.onnx",
      prefix_tokens: 1,
      feature_dim: 1024,
      ...DINOV2_LARGE,
    },
    // DINOv3 ViTs: patch 16, CLS + 4 register tokens, RoPE (any multiple of 16 works).
    "dinov3-vits16": {
      id: "dinov3-vits16",
      description: "DINOv3 ViT-S/16 (onnx-community export, fp32)",
      url: "hf://onnx-community/dinov3-vits16-pretrain-lvd1689m-ONNX/onnx/model.onnx",
      prefix_tokens: 5,
      feature_dim: 384,
      ...DINOV3,
    },
    "dinov3-vitb16": {
      id: "dinov3-vitb16",
      description: "DINOv3 ViT-B/16 (onnx-community export, fp32)",
      url: "hf://onnx-community/dinov3-vitb16-pretrain-lvd1689m-ONNX/onnx/model.onnx",
      prefix_tokens: 5,
      feature_dim: 768,
      ...DINOV3,
    },
    // CLIP vision towers expose their patch tokens in last_hidden_state; their
    // position embeddings are fixed, so only 224 px is accepted.
    "clip-vit-b16": {
      id: "clip-vit-b16",
      description: "CLIP ViT-B/16 vision tower (Xenova export, fp32); 224 px only",
      url: "hf://Xenova/clip-vit-base-patch16/onnx/vision_model.onnx",
      prefix_tokens: 1,
      feature_dim: 768,
      ...CLIP,
      patch_size: 16,
    },
    "clip-vit-l14": {
      id: "clip-vit-l14",
      description: "CLIP ViT-L/14 vision tower (Xenova export, fp32); 224 px only",
      url: "hf://Xenova/clip-vit-large-patch14/onnx/vision_model.onnx",
      prefix_tokens: 1,
      feature_dim: 1024,
      ...CLIP,
    },
  } satisfies Record<string, BackboneDescriptor>,
);

/** Ids of the built-in hub models. */
export type HubModelId = keyof typeof HUB_MODELS;
