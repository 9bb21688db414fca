/**
 * The shape of a model descriptor: everything the service needs to run a
 * feature model, as plain data. Adding a model means adding one of these
 * (built in, or in the JSON file named by `MODELS_CONFIG`), never code in
 * routes or core.
 *
 * Two kinds share one registry:
 * - a {@linkcode BackboneDescriptor} names one ONNX file that maps an image to
 *   a feature grid;
 * - a {@linkcode CompositeDescriptor} (`url: "composite:"`) fuses the grids of
 *   other registered models (the survey's SD + DINOv2 recipe): each
 *   component's features are L2-normalized per cell, multiplied by the
 *   component's weight, resized to the composite's grid and concatenated
 *   along channels.
 *
 * Either kind may add a feature `head` (an ONNX applied to the `[1, C, h, w]`
 * grid) and a cost-volume `refiner` (an ONNX applied to the dense
 * `[1, h*w, h*w]` correlation before localization).
 *
 * @example Usage
 * ```ts
 * import type { ModelDescriptor } from "./descriptor.ts";
 * import assert from "node:assert/strict";
 *
 * const vit: ModelDescriptor = {
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
 * const fused: ModelDescriptor = {
 *   id: "dsift+my-vit",
 *   url: "composite:",
 *   components: [{ model: "dsift", weight: 1, resolution: 256 }, { model: "my-vit", weight: 0.5 }],
 *   patch_size: 14,
 *   feature_dim: 128 + 384,
 *   default_resolution: 448,
 *   resolutions: { min: 112, max: 840 },
 * };
 * assert.equal(vit.default_resolution % vit.patch_size, 0);
 * assert.ok(fused.components !== undefined);
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

/** The `url` of every composite descriptor: it has no file of its own. */
export const COMPOSITE_URL = "composite:";

/** An extra ONNX file a descriptor names (a head or a refiner). */
export interface OnnxFileSpec {
  /** Where the ONNX file comes from: a local path, `file://`, `https://` or `hf://`. */
  url: string;
  /** Expected sha256 of the file (hex); verified after download. */
  sha256?: string;
  /** Expected size of the file in bytes. */
  bytes?: number;
  /** Name of the graph's one float32 input. */
  input: string;
  /** Name of the graph output that is read. */
  output: string;
}

/**
 * A trained feature head (the survey's ResNet bottleneck or attention
 * enhancer): maps the model's `[1, feature_dim, h, w]` grid to
 * `[1, head.feature_dim, h, w]` on the same grid.
 */
export interface FeatureHeadSpec extends OnnxFileSpec {
  /** Channels of the head's output, `C'`. */
  feature_dim: number;
}

/**
 * A cost-volume refiner (neighbourhood consensus): maps the dense cosine
 * correlation `[1, hA*wA, hB*wB]` (source cells x target cells, row-major
 * cells) to refined scores of the same shape. Localizers read the refined
 * scores as they read cosine similarities, so a refiner should keep them on
 * a comparable scale.
 */
export type RefinerSpec = OnnxFileSpec;

/** One model fused into a composite. */
export interface FuseComponent {
  /** Id of a registered model (a backbone or another composite). */
  model: string;
  /** Factor applied to the component's L2-normalized features (>= 0). */
  weight: number;
  /**
   * Input side the component runs at, whatever side the request names
   * (default: the component's `default_resolution`). Must be one the
   * component accepts.
   */
  resolution?: number;
}

/** Fields every descriptor has. Field names are those of the public JSON format. */
interface DescriptorBase {
  /** Name clients pass as `model`. */
  id: string;
  /** One line for humans. */
  description?: string;
  /**
   * Pixels per feature cell; input sides must be multiples of it. For a
   * composite it only sets the common grid: `resolution / patch_size`.
   */
  patch_size: number;
  /**
   * Channels of one feature before the head (for a composite: the sum of
   * its components' output channels).
   */
  feature_dim: number;
  /** Input side used when a request names none. */
  default_resolution: number;
  /** Smallest and largest input side accepted (both multiples of `patch_size`). */
  resolutions: { min: number; max: number };
  /** Licence of the weights, for humans. */
  license?: string;
  /** Optional feature head applied to the grid. */
  head?: FeatureHeadSpec;
  /** Optional refiner applied to the dense cost volume when matching. */
  refiner?: RefinerSpec;
}

/** A feature backbone: one ONNX file from image to grid. */
export interface BackboneDescriptor extends DescriptorBase {
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
  /** Tokens before the patch tokens (CLS, registers); 0 for `chw`. */
  prefix_tokens: number;
  /** Per-channel mean applied to pixels in [0, 1]. */
  mean: [number, number, number];
  /** Per-channel std applied to pixels in [0, 1]. */
  std: [number, number, number];
  /** Only composites have components. */
  components?: never;
  /** Only composites resize grids. */
  align_corners?: never;
}

/**
 * A fused model: the features of other registered models, concatenated on
 * one grid.
 *
 * Resolution: each component runs at its own `resolution` (fixed by the
 * descriptor); only the common grid follows the request, `side / patch_size`
 * cells per side. Points are mapped with the composite's frame (side `side`),
 * see `workers/composite_extractor.ts` for why that is consistent with every
 * component. A component brings its own head (its features are what it
 * serves alone); its refiner is not used, the composite's own is.
 */
export interface CompositeDescriptor extends DescriptorBase {
  /** Always {@linkcode COMPOSITE_URL}. */
  url: typeof COMPOSITE_URL;
  /** The fused models, in channel order (at least one). */
  components: FuseComponent[];
  /**
   * Corner convention of the bilinear grid resize (default false, as
   * `F.interpolate(..., mode="bilinear", align_corners=False)` in the SD +
   * DINOv2 code).
   */
  align_corners?: boolean;
  // A composite has no file and no preprocessing of its own: each component brings them.
  sha256?: never;
  bytes?: never;
  input?: never;
  output?: never;
  layout?: never;
  prefix_tokens?: never;
  mean?: never;
  std?: never;
}

/** Any registered model. Composites are told apart by `d.components !== undefined`. */
export type ModelDescriptor = BackboneDescriptor | CompositeDescriptor;
