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
 * The zod schemas below are the one declaration of the format: the types are
 * what they parse to. {@linkcode ModelDescriptorSchema} validates JSON with
 * messages that name the field: unknown fields are rejected (`patchSize` is
 * a typo, not an extension); `patch_size`, `feature_dim` and sides are
 * positive integers; `resolutions.min <= max`, both multiples of
 * `patch_size`; `default_resolution` a multiple of `patch_size` within
 * `resolutions`; `mean` and `std` three finite numbers, `std > 0`;
 * `prefix_tokens` 0 for the `chw` layout; `sha256` 64 hex digits
 * (lower-cased); `url` of a supported form (a path, `file://`, `https://`,
 * loopback `http://`, `hf://` or `embedded:`). Composites need `components`
 * (model id, weight `>= 0`, at least one above 0, optional `resolution`) and
 * must not carry the backbone-only fields, which every backbone needs.
 * `head` and `refiner` name real ONNX files (not `embedded:`). Whether
 * components exist, fit their resolution and form no cycle is checked when
 * the registry is built (`ModelRegistry`), since it needs the other
 * descriptors.
 *
 * Three fields have natural defaults, filled in by the schema: `layout` is
 * `tokens` when `prefix_tokens` is given and `chw` otherwise (then
 * `prefix_tokens` is 0); `resolutions` is every multiple of `patch_size`
 * from `patch_size` up to {@linkcode DEFAULT_MAX_RESOLUTION}. A ViT
 * descriptor needs only `id`, `url`, `input`, `output`, `patch_size`,
 * `prefix_tokens`, `feature_dim`, `mean`, `std` and `default_resolution`
 * (plus `sha256` to pin the file).
 *
 * @example Usage
 * ```ts
 * import { ModelDescriptorSchema } from "./descriptor.ts";
 * import assert from "node:assert/strict";
 *
 * const vit = {
 *   id: "my-vit",
 *   url: "hf://acme/my-vit/onnx/model.onnx",
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
 * assert.ok(ModelDescriptorSchema.safeParse(vit).success);
 * assert.ok(!ModelDescriptorSchema.safeParse({ ...vit, default_resolution: 450 }).success);
 *
 * // Without layout and resolutions: tokens (prefix_tokens is given), any multiple of 14 to 2044.
 * const { layout: _l, resolutions: _r, ...documented } = vit;
 * const filled = ModelDescriptorSchema.parse(documented);
 * assert.equal(filled.layout, "tokens");
 * assert.deepEqual(filled.resolutions, { min: 14, max: 2044 });
 *
 * const fused = {
 *   id: "fused",
 *   url: "composite:",
 *   components: [{ model: "dsift", weight: 1 }, { model: "my-vit", weight: 0.5, resolution: 224 }],
 *   patch_size: 14,
 *   feature_dim: 128 + 384,
 *   default_resolution: 448,
 *   resolutions: { min: 112, max: 840 },
 * };
 * assert.ok(ModelDescriptorSchema.safeParse(fused).success);
 * assert.ok(!ModelDescriptorSchema.safeParse({ ...fused, mean: [0, 0, 0] }).success);
 * ```
 *
 * @module
 */

import { z } from "zod";
import { resolveModelSource } from "./model_source.ts";

/** The `url` of every composite descriptor: it has no file of its own. */
export const COMPOSITE_URL = "composite:";

/**
 * How the model's output lays out features:
 * - `tokens`: `[B, prefix_tokens + h*w, C]`, row-major patches (ViTs);
 * - `chw`: `[B, C, h, w]` feature maps (CNNs and the embedded `dsift`).
 */
export const FEATURE_LAYOUTS = Object.freeze(["tokens", "chw"] as const);

/** One of {@linkcode FEATURE_LAYOUTS}. */
export type FeatureLayout = typeof FEATURE_LAYOUTS[number];

/**
 * The largest input side a descriptor without `resolutions` accepts (its
 * largest multiple of `patch_size` up to this). A `3 x 2048 x 2048` float32
 * input is 48 MiB; the model's activations reach the backends' memory limits
 * (WASM's 4 GiB heap first) earlier for large models, which then fail with
 * `model_unavailable` rather than being refused up front.
 */
export const DEFAULT_MAX_RESOLUTION = 2048;

/**
 * The `resolutions` of a descriptor that names none: every multiple of the
 * patch size up to {@linkcode DEFAULT_MAX_RESOLUTION}.
 */
function defaultResolutions(patchSize: number): { min: number; max: number } {
  return {
    min: patchSize,
    max: Math.max(patchSize, DEFAULT_MAX_RESOLUTION - (DEFAULT_MAX_RESOLUTION % patchSize)),
  };
}

const positiveInt = z.number().int().positive();
const finite = z.number().finite();
const modelId = z.string().regex(
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
  "must be 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit",
);
const sha256 = z.string().regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex digits")
  .transform((s) => s.toLowerCase());

/** A url `resolveModelSource` accepts; `embedded` says whether built-in names are too. */
function sourceUrl(options: { embedded: boolean }) {
  return z.string().min(1).superRefine((url, ctx) => {
    try {
      const source = resolveModelSource(url);
      if (!options.embedded && source.kind === "embedded") {
        ctx.addIssue({ code: "custom", message: "must name an ONNX file, not an embedded model" });
      }
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
    }
  });
}

/**
 * Derived variants of a backbone's fp32 file: `int8` rewrites its
 * constant-weight MatMuls as dynamically quantized int8 products
 * (`models/onnx_quantize.ts`), once per source file, cached like a download.
 */
export const QUANTIZE_MODES = Object.freeze(["int8"] as const);

/** One of {@linkcode QUANTIZE_MODES}. */
export type QuantizeMode = typeof QUANTIZE_MODES[number];

/** Layouts of a TF.js graph's image input (and of the outputs it taps). */
export const TFJS_LAYOUTS = Object.freeze(["nhwc", "nchw"] as const);

/** Channel orders an imported graph may expect. */
export const CHANNEL_ORDERS = Object.freeze(["rgb", "bgr"] as const);

/**
 * How a TF.js graph model (the backbone's `url` names its `model.json`, the
 * weight shards lie beside it) becomes the backbone's ONNX graph. The
 * importer (`models/tfjs_import.ts`) cuts the graph at `outputs` and bakes
 * the source's pixel convention and the hypercolumn into the converted
 * graph, which then takes `input` as every backbone does (`[1, 3, H, W]`
 * RGB, normalized with the descriptor's `mean` and `std`) and returns
 * `output` as `[1, feature_dim, h, w]` (`layout` `chw`).
 *
 * Pixels: the graph receives `(x - mean) / std * pixel_scale` for RGB `x` in
 * [0, 1], in `channel_order`, laid out as `layout`. A graph that takes 0-255
 * pixels has `mean` 0, `std` 1 and `pixel_scale` 255; one that takes BGR
 * `(x255 - m) / s` has `mean = m / 255`, `std = s / 255` (in RGB order) and
 * `channel_order` `bgr`.
 *
 * Hypercolumn: each output is L2-normalized per cell, multiplied by its
 * weight, resized bilinearly (align corners) to the finest output's grid and
 * concatenated in order; that grid must be `side / patch_size` cells.
 */
export const TfjsSourceSchema = z.strictObject({
  /** Nodes whose outputs are the features, e.g. `tower_0/MobilenetV3/expanded_conv_14/add`. */
  outputs: z.array(z.string().min(1)).min(1),
  /** Hypercolumn weight of each output (default 1 each). */
  weights: z.array(finite.nonnegative()).optional(),
  /** Layout of the graph's image input and of the tapped outputs. */
  layout: z.enum(TFJS_LAYOUTS),
  /** Channel order the graph expects (default `rgb`). */
  channel_order: z.enum(CHANNEL_ORDERS).optional(),
  /** Factor applied after `mean` and `std` (default 1; 255 for graphs that take 0-255 pixels). */
  pixel_scale: finite.positive().optional(),
  /** Expected sha256 of weight shards, by the path `model.json` lists. */
  shard_sha256: z.record(z.string(), sha256).optional(),
});

/** How a TF.js graph model becomes a backbone. */
export type TfjsSource = z.output<typeof TfjsSourceSchema>;

/** An extra ONNX file a descriptor names (a head or a refiner). */
export const OnnxFileSpecSchema = z.strictObject({
  /** Where the ONNX file comes from: a local path, `file://`, `https://` or `hf://`. */
  url: sourceUrl({ embedded: false }),
  /** Expected sha256 of the file (hex); verified after download. */
  sha256: sha256.optional(),
  /** Expected size of the file in bytes. */
  bytes: positiveInt.optional(),
  /** Name of the graph's one float32 input. */
  input: z.string().min(1),
  /** Name of the graph output that is read. */
  output: z.string().min(1),
});

/** An extra ONNX file a descriptor names. */
export type OnnxFileSpec = z.output<typeof OnnxFileSpecSchema>;

/**
 * A trained feature head (the survey's ResNet bottleneck or attention
 * enhancer): maps the model's `[1, feature_dim, h, w]` grid to
 * `[1, head.feature_dim, h, w]` on the same grid.
 */
export const FeatureHeadSpecSchema = OnnxFileSpecSchema.extend({
  /** Channels of the head's output, `C'`. */
  feature_dim: positiveInt,
});

/** A feature head. */
export type FeatureHeadSpec = z.output<typeof FeatureHeadSpecSchema>;

/**
 * A cost-volume refiner (neighbourhood consensus): maps the dense cosine
 * correlation `[1, hA*wA, hB*wB]` (source cells x target cells, row-major
 * cells) to refined scores of the same shape. Localizers read the refined
 * scores as they read cosine similarities, so a refiner should keep them on
 * a comparable scale.
 */
export const RefinerSpecSchema = OnnxFileSpecSchema;

/** A cost-volume refiner. */
export type RefinerSpec = z.output<typeof RefinerSpecSchema>;

/** One model fused into a composite. */
export const FuseComponentSchema = z.strictObject({
  /** Id of a registered model (a backbone or another composite). */
  model: modelId,
  /** Factor applied to the component's L2-normalized features (>= 0). */
  weight: finite.nonnegative(),
  /**
   * Input side the component runs at, whatever side the request names
   * (default: the component's `default_resolution`). Must be one the
   * component accepts.
   */
  resolution: positiveInt.optional(),
});

/** One model fused into a composite. */
export type FuseComponent = z.output<typeof FuseComponentSchema>;

/** Fields every descriptor has. Field names are those of the public JSON format. */
const sharedFields = {
  /** Name clients pass as `model`. */
  id: modelId,
  /** One line for humans. */
  description: z.string().optional(),
  /**
   * Pixels per feature cell; input sides must be multiples of it. For a
   * composite it only sets the common grid: `resolution / patch_size`.
   */
  patch_size: positiveInt,
  /**
   * Channels of one feature before the head (for a composite: the sum of
   * its components' output channels).
   */
  feature_dim: positiveInt,
  /** Input side used when a request names none. */
  default_resolution: positiveInt,
  /**
   * Smallest and largest input side accepted (both multiples of `patch_size`;
   * default: `patch_size` to the largest multiple up to {@linkcode DEFAULT_MAX_RESOLUTION}).
   */
  resolutions: z.strictObject({ min: positiveInt, max: positiveInt }),
  /** Licence of the weights, for humans. */
  license: z.string().optional(),
  /** Where the weights come from (upstream project, package), for humans. */
  origin: z.string().optional(),
  /** Optional feature head applied to the grid. */
  head: FeatureHeadSpecSchema.optional(),
  /** Optional refiner applied to the dense cost volume when matching. */
  refiner: RefinerSpecSchema.optional(),
};

/** Fields only a backbone (one ONNX file from image to grid) has. */
const backboneFields = {
  /** Expected sha256 of the ONNX file (hex); verified after download. */
  sha256: sha256.optional(),
  /** Expected size of the ONNX file in bytes. */
  bytes: positiveInt.optional(),
  /** Name of the image input (`[B, 3, H, W]` float32). */
  input: z.string().min(1),
  /** Name of the feature output. */
  output: z.string().min(1),
  /** Output layout (default: `tokens` when `prefix_tokens` is given, else `chw`). */
  layout: z.enum(FEATURE_LAYOUTS),
  /** Tokens before the patch tokens (CLS, registers); 0 for `chw` (the default). */
  prefix_tokens: z.number().int().nonnegative(),
  /** Per-channel mean applied to pixels in [0, 1]. */
  mean: z.tuple([finite, finite, finite]),
  /** Per-channel std applied to pixels in [0, 1]. */
  std: z.tuple([finite.positive(), finite.positive(), finite.positive()]),
  /** The `url` names a TF.js graph model, imported as this says. */
  tfjs: TfjsSourceSchema.optional(),
  /** Serve a quantized variant derived from the file (see {@linkcode QUANTIZE_MODES}). */
  quantize: z.enum(QUANTIZE_MODES).optional(),
};

/** Fields only a composite has. */
const compositeFields = {
  /** The fused models, in channel order (at least one). */
  components: z.array(FuseComponentSchema).min(1),
  /**
   * Corner convention of the bilinear grid resize (default false, as
   * `F.interpolate(..., mode="bilinear", align_corners=False)` in the SD +
   * DINOv2 code).
   */
  align_corners: z.boolean().optional(),
};

/** The backbone-only fields, which a composite must not carry. */
const BACKBONE_ONLY = Object.keys(backboneFields) as (keyof typeof backboneFields)[];

/** Backbone fields that may be left out: the schema fills them in (see the module doc). */
const DEFAULTED: ReadonlySet<string> = new Set(["layout", "prefix_tokens"]);

/** A feature backbone: one ONNX file from image to grid. */
export const BackboneDescriptorSchema = z.strictObject({
  ...sharedFields,
  /**
   * Where the ONNX file comes from: `embedded:<name>` (built by the service's
   * own code), a local path, `file://`, `https://` or `hf://<repo>/<file>`.
   */
  url: sourceUrl({ embedded: true }),
  ...backboneFields,
});

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
export const CompositeDescriptorSchema = z.strictObject({
  ...sharedFields,
  /** Always {@linkcode COMPOSITE_URL}. */
  url: z.literal(COMPOSITE_URL),
  ...compositeFields,
});

/** A feature backbone; composite-only fields are absent. */
export type BackboneDescriptor =
  & z.output<typeof BackboneDescriptorSchema>
  & { [K in keyof typeof compositeFields]?: undefined };

/** A fused model; backbone-only fields are absent (each component brings its own). */
export type CompositeDescriptor =
  & z.output<typeof CompositeDescriptorSchema>
  & { [K in keyof typeof backboneFields]?: undefined };

/** Any registered model. Composites are told apart by `d.components !== undefined`. */
export type ModelDescriptor = BackboneDescriptor | CompositeDescriptor;

/**
 * A descriptor as JSON, of either kind; parses to a {@linkcode ModelDescriptor}.
 * Every field of both kinds is accepted here and the rules of the kind the
 * `url` names are checked after, so each message names the field at fault
 * ("input: Required for a backbone") rather than a failed union.
 */
export const ModelDescriptorSchema = z.strictObject({
  ...sharedFields,
  resolutions: sharedFields.resolutions.optional(),
  url: z.string().min(1).superRefine((url, ctx) => {
    if (url === COMPOSITE_URL) return;
    if (url.toLowerCase().startsWith(COMPOSITE_URL)) {
      ctx.addIssue({
        code: "custom",
        message: `a composite's url is exactly \`${COMPOSITE_URL}\``,
      });
      return;
    }
    const r = sourceUrl({ embedded: true }).safeParse(url);
    if (!r.success) {
      for (const i of r.error.issues) ctx.addIssue({ code: "custom", message: i.message });
    }
  }),
  ...z.object(backboneFields).partial().shape,
  ...z.object(compositeFields).partial().shape,
}).superRefine((d, ctx) => {
  const p = d.patch_size;
  const { min, max } = d.resolutions ?? defaultResolutions(p);
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: "custom", path, message });
  if (min > max) issue(["resolutions"], `min (${min}) must not exceed max (${max})`);
  if (min % p !== 0) issue(["resolutions", "min"], `must be a multiple of patch_size (${p})`);
  if (max % p !== 0) issue(["resolutions", "max"], `must be a multiple of patch_size (${p})`);
  if (d.default_resolution % p !== 0) {
    issue(["default_resolution"], `must be a multiple of patch_size (${p})`);
  }
  if (d.default_resolution < min || d.default_resolution > max) {
    issue(["default_resolution"], `must lie within resolutions [${min}, ${max}]`);
  }
  if (d.url === COMPOSITE_URL) {
    if (!d.components) issue(["components"], `required when url is \`${COMPOSITE_URL}\``);
    else if (!d.components.some((c) => c.weight > 0)) {
      issue(["components"], "at least one component needs a weight above 0");
    }
    for (const field of BACKBONE_ONLY) {
      if (d[field] !== undefined) {
        issue([field], `does not apply to a composite (each component brings its own)`);
      }
    }
    return;
  }
  for (const field of Object.keys(compositeFields) as (keyof typeof compositeFields)[]) {
    if (d[field] !== undefined) issue([field], `applies only when url is \`${COMPOSITE_URL}\``);
  }
  for (const field of BACKBONE_ONLY) {
    const required = !backboneFields[field].safeParse(undefined).success &&
      !DEFAULTED.has(field);
    if (required && d[field] === undefined) {
      issue([field], "Required for a backbone (a url other than `composite:`)");
    }
  }
  if (d.layout === "chw" && (d.prefix_tokens ?? 0) !== 0) {
    issue(["prefix_tokens"], "must be 0 for the chw layout");
  }
  if (d.quantize !== undefined && d.url.startsWith("embedded:")) {
    issue(["quantize"], "needs an ONNX file to derive from, not an embedded model");
  }
  if (d.tfjs) {
    if (d.url.startsWith("embedded:")) {
      issue(["url"], "must name a TF.js model.json, not an embedded model");
    }
    if (d.layout !== undefined && d.layout !== "chw") {
      issue(["layout"], "must be chw for a TF.js model (the importer returns [1, C, h, w])");
    }
    const w = d.tfjs.weights;
    if (w && w.length !== d.tfjs.outputs.length) {
      issue(["tfjs", "weights"], `needs one weight per output (${d.tfjs.outputs.length})`);
    }
    if (w && !w.some((x) => x > 0)) {
      issue(["tfjs", "weights"], "at least one weight must be above 0");
    }
  }
}).transform((d): ModelDescriptor => {
  const resolutions = d.resolutions ?? defaultResolutions(d.patch_size);
  if (d.url === COMPOSITE_URL) return { ...d, resolutions } as ModelDescriptor;
  // Natural defaults: a token layout when prefix tokens are named, else feature maps.
  const layout = d.layout ?? (d.prefix_tokens === undefined ? "chw" : "tokens");
  return { ...d, resolutions, layout, prefix_tokens: d.prefix_tokens ?? 0 } as ModelDescriptor;
});
