/**
 * The shape of a model descriptor: everything the service needs to run a
 * feature backbone, as plain data. Adding a backbone means adding one of these
 * (built in, or in the JSON file named by `MODELS_CONFIG`), never code in
 * routes or core.
 *
 * @example Usage
 * ```ts
 * import type { ModelDescriptor } from "./descriptor.ts";
 * import assert from "node:assert/strict";
 *
 * const d: ModelDescriptor = {
 *   id: "my-vit",
 *   url: "file:///models/my-vit.onnx",
 *   input: "pixel_values",
 *   output: "last_hidden_state",
 *   layout: "tokens",
 *   patch_size: 14,
 *   prefix_tokens: 1,
 *   feature_dim: 384,
 *   mean: [0.485, 0.456, 0.406],
 *   std: [0.229, 0.224, 0.225],
 *   default_resolution: 448,
 *   resolutions: { min: 112, max: 840 },
 * };
 * assert.equal(d.default_resolution % d.patch_size, 0);
 * ```
 *
 * @module
 */

/**
 * How the model's output lays out features:
 * - `tokens`: `[B, prefix_tokens + h*w, C]`, row-major patches (ViTs);
 * - `chw`: `[B, C, h, w]` feature maps (CNNs and the embedded `dsift`).
 */
export type FeatureLayout = "tokens" | "chw";

/** A feature backbone, as data. Field names are those of the public JSON format. */
export interface ModelDescriptor {
  /** Name clients pass as `model`. */
  id: string;
  /** One line for humans. */
  description?: string;
  /**
   * Where the ONNX file comes from: `embedded:<name>` (built by the service's
   * own code), a local path, `file://`, `https://` or `hf://<repo>/<file>`.
   */
  url: string;
  /** Expected sha256 of the ONNX file (hex); verified after download. */
  sha256?: string;
  /** Expected size of the ONNX file in bytes. */
  bytes?: number;
  /** Name of the image input (`[B, 3, H, W]` float32). */
  input: string;
  /** Name of the feature output. */
  output: string;
  /** Output layout. */
  layout: FeatureLayout;
  /** Pixels per feature cell; input sides must be multiples of it. */
  patch_size: number;
  /** Tokens before the patch tokens (CLS, registers); 0 for `chw`. */
  prefix_tokens: number;
  /** Channels of one feature. */
  feature_dim: number;
  /** Per-channel mean applied to pixels in [0, 1]. */
  mean: [number, number, number];
  /** Per-channel std applied to pixels in [0, 1]. */
  std: [number, number, number];
  /** Input side used when a request names none. */
  default_resolution: number;
  /** Smallest and largest input side accepted (both multiples of `patch_size`). */
  resolutions: { min: number; max: number };
  /** Licence of the weights, for humans. */
  license?: string;
}
