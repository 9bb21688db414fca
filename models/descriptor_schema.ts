/**
 * Validation of model descriptors that come from JSON, and loading of the
 * file named by `MODELS_CONFIG`: a JSON array of descriptors, each checked
 * in full so a typo fails at start-up with the file, the entry and the field
 * named, instead of at the first request.
 *
 * Checks beyond types: unknown fields are rejected (`patchSize` is a typo,
 * not an extension); `patch_size`, `feature_dim` and sides are positive
 * integers; `resolutions.min <= max`, both multiples of `patch_size`;
 * `default_resolution` a multiple of `patch_size` within `resolutions`; `mean`
 * and `std` three finite numbers, `std > 0`; `prefix_tokens` 0 for the `chw`
 * layout; `sha256` 64 hex digits (lower-cased); `url` of a supported form
 * (a path, `file://`, `https://`, loopback `http://`, `hf://` or `embedded:`).
 *
 * Composites (`url: "composite:"`) need `components` (model id, weight
 * `>= 0`, at least one above 0, optional `resolution`) and must not carry the
 * backbone-only fields (`sha256`, `bytes`, `input`, `output`, `layout`,
 * `prefix_tokens`, `mean`, `std`), which every backbone needs. `head` and
 * `refiner` name ONNX files (a path, `file://`, `https://`, loopback
 * `http://` or `hf://`; not `embedded:`) with their input and output names,
 * and the head its output `feature_dim`. Whether components exist, fit
 * their resolution and form no cycle is checked when the registry is built
 * (`ModelRegistry`), since it needs the other descriptors.
 *
 * @example Usage
 * ```ts
 * import { loadModelsConfig, ModelDescriptorSchema } from "./descriptor_schema.ts";
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
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/models.json`, JSON.stringify([vit]));
 * const [loaded] = await loadModelsConfig(`${dir}/models.json`);
 * assert.equal(loaded.id, "my-vit");
 *
 * await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify([vit, { ...vit, id: "b", std: [1, 0, 1] }]));
 * await assert.rejects(loadModelsConfig(`${dir}/bad.json`), /entry 1 \(`b`\): std\.1/);
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
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { z } from "zod";
import { dirname, isAbsolute, resolve } from "node:path";
import { COMPOSITE_URL, type ModelDescriptor } from "./descriptor.ts";
import { resolveModelSource } from "./model_source.ts";

const positiveInt = z.number().int().positive();
const finite = z.number().finite();
const rgb = z.tuple([finite, finite, finite]);
const modelId = z.string().regex(
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
  "must be 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit",
);
const sha256 = z.string().regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex digits")
  .transform((s) => s.toLowerCase());

/** The url of an extra ONNX file (head, refiner): a real file, never built in. */
const fileUrl = z.string().min(1).superRefine((url, ctx) => {
  try {
    const source = resolveModelSource(url);
    if (source.kind === "embedded") {
      ctx.addIssue({ code: "custom", message: "must name an ONNX file, not an embedded model" });
    }
  } catch (e) {
    ctx.addIssue({ code: "custom", message: (e as Error).message });
  }
});

const onnxFile = {
  url: fileUrl,
  sha256: sha256.optional(),
  bytes: positiveInt.optional(),
  input: z.string().min(1),
  output: z.string().min(1),
};

/** Fields that only a backbone (one ONNX from image to grid) has. */
const BACKBONE_ONLY = [
  "sha256",
  "bytes",
  "input",
  "output",
  "layout",
  "prefix_tokens",
  "mean",
  "std",
] as const;
const BACKBONE_REQUIRED = ["input", "output", "layout", "prefix_tokens", "mean", "std"] as const;

/** A descriptor as JSON; parses to a {@linkcode ModelDescriptor}. */
export const ModelDescriptorSchema = z.strictObject({
  id: modelId,
  description: z.string().optional(),
  url: z.string().min(1).superRefine((url, ctx) => {
    if (url === COMPOSITE_URL) return;
    if (url.toLowerCase().startsWith(COMPOSITE_URL)) {
      ctx.addIssue({
        code: "custom",
        message: `a composite's url is exactly \`${COMPOSITE_URL}\``,
      });
      return;
    }
    try {
      resolveModelSource(url);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
    }
  }),
  sha256: sha256.optional(),
  bytes: positiveInt.optional(),
  input: z.string().min(1).optional(),
  output: z.string().min(1).optional(),
  layout: z.enum(["tokens", "chw"]).optional(),
  patch_size: positiveInt,
  prefix_tokens: z.number().int().nonnegative().optional(),
  feature_dim: positiveInt,
  mean: rgb.optional(),
  std: z.tuple([finite.positive(), finite.positive(), finite.positive()]).optional(),
  default_resolution: positiveInt,
  resolutions: z.strictObject({ min: positiveInt, max: positiveInt }),
  license: z.string().optional(),
  components: z.array(z.strictObject({
    model: modelId,
    weight: finite.nonnegative(),
    resolution: positiveInt.optional(),
  })).min(1).optional(),
  align_corners: z.boolean().optional(),
  head: z.strictObject({ ...onnxFile, feature_dim: positiveInt }).optional(),
  refiner: z.strictObject(onnxFile).optional(),
}).superRefine((d, ctx) => {
  const p = d.patch_size;
  const { min, max } = d.resolutions;
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
  for (const field of ["components", "align_corners"] as const) {
    if (d[field] !== undefined) issue([field], `applies only when url is \`${COMPOSITE_URL}\``);
  }
  for (const field of BACKBONE_REQUIRED) {
    if (d[field] === undefined) {
      issue([field], "Required for a backbone (a url other than `composite:`)");
    }
  }
  if (d.layout === "chw" && d.prefix_tokens !== 0) {
    issue(["prefix_tokens"], "must be 0 for the chw layout");
  }
}).transform((d) => d as ModelDescriptor) satisfies z.ZodType<ModelDescriptor, unknown>;

/**
 * Reads and validates the JSON array of descriptors named by `MODELS_CONFIG`.
 * A relative local path in an entry's `url` is taken relative to the config
 * file's directory, so a config and its models can move together.
 *
 * @param path The config file.
 * @returns The descriptors, in file order.
 * @throws {Deno.errors.NotFound} When the file does not exist.
 * @throws {SyntaxError} When the file is not JSON.
 * @throws {TypeError} When it is not an array, an entry is invalid (the message
 *   names the entry's index and id and each bad field), or two entries share an id.
 */
export async function loadModelsConfig(path: string): Promise<ModelDescriptor[]> {
  const where = `models config ${path} (MODELS_CONFIG)`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot read ${where}: no such file`, { cause: e });
    }
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(`Cannot parse ${where}: ${(e as Error).message}`, { cause: e });
  }
  if (!Array.isArray(json)) {
    throw new TypeError(`Cannot load ${where}: expected a JSON array of model descriptors`);
  }
  const problems: string[] = [];
  const models: ModelDescriptor[] = [];
  const seen = new Map<string, number>();
  json.forEach((entry: unknown, index) => {
    const id = typeof entry === "object" && entry !== null && "id" in entry &&
        typeof entry.id === "string"
      ? ` (\`${entry.id}\`)`
      : "";
    const r = ModelDescriptorSchema.safeParse(entry);
    if (!r.success) {
      const issues = r.error.issues.map((i) =>
        i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message
      );
      problems.push(`entry ${index}${id}: ${issues.join("; ")}`);
      return;
    }
    const d = r.data;
    const first = seen.get(d.id);
    if (first !== undefined) {
      problems.push(`entry ${index}${id}: id is already used by entry ${first}`);
      return;
    }
    seen.set(d.id, index);
    const base = dirname(resolve(path));
    for (const file of [d, d.head, d.refiner]) {
      if (file && file.url !== COMPOSITE_URL) file.url = relativeTo(base, file.url);
    }
    models.push(d);
  });
  if (problems.length) {
    throw new TypeError(`Cannot load ${where}: ${problems.join(" | ")}`);
  }
  return models;
}

/** A relative local path taken relative to `base`; any other url unchanged. */
function relativeTo(base: string, url: string): string {
  const source = resolveModelSource(url);
  if (source.kind !== "file" || url.startsWith("file:") || isAbsolute(url)) return url;
  return resolve(base, url);
}
