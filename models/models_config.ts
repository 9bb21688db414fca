/**
 * Loading of the file named by `MODELS_CONFIG`: a JSON array of model
 * descriptors, each checked in full against `ModelDescriptorSchema`
 * (`./descriptor.ts`), so a typo fails at start-up with the file, the entry
 * and the field named, instead of at the first request.
 *
 * @example Usage
 * ```ts
 * import { loadModelsConfig } from "./models_config.ts";
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
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/models.json`, JSON.stringify([vit]));
 * const [loaded] = await loadModelsConfig(`${dir}/models.json`);
 * assert.equal(loaded.id, "my-vit");
 *
 * await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify([vit, { ...vit, id: "b", std: [1, 0, 1] }]));
 * await assert.rejects(loadModelsConfig(`${dir}/bad.json`), /entry 1 \(`b`\): std\.1/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { dirname, isAbsolute, resolve } from "node:path";
import { COMPOSITE_URL, type ModelDescriptor, ModelDescriptorSchema } from "./descriptor.ts";
import { resolveModelSource } from "./model_source.ts";

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
