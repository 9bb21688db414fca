import assert from "node:assert/strict";
import { join } from "node:path";
import { loadModelsConfig } from "../../models/models_config.ts";
import { ModelDescriptorSchema } from "../../models/descriptor.ts";

const VIT = {
  id: "my-vit",
  url: "hf://acme/my-vit/onnx/model.onnx",
  input: "pixel_values",
  output: "last_hidden_state",
  layout: "tokens",
  patch_size: 14,
  prefix_tokens: 1,
  feature_dim: 384,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  default_resolution: 448,
  resolutions: { min: 112, max: 840 },
};

const FUSED = {
  id: "fused",
  url: "composite:",
  components: [{ model: "dsift", weight: 1, resolution: 256 }, { model: "my-vit", weight: 0.5 }],
  align_corners: false,
  patch_size: 14,
  feature_dim: 128 + 384,
  default_resolution: 448,
  resolutions: { min: 112, max: 840 },
};

const HEAD = {
  url: "https://example.com/head.onnx",
  sha256: "CD".repeat(32),
  input: "features",
  output: "head_features",
  feature_dim: 64,
};

const REFINER = { url: "/m/refiner.onnx", input: "correlation", output: "refined" };

/** The error paths and messages of an invalid descriptor, as "path: message". */
function problems(value: unknown): string[] {
  const r = ModelDescriptorSchema.safeParse(value);
  assert.ok(!r.success, "expected the descriptor to be rejected");
  return r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

Deno.test("ModelDescriptorSchema accepts composites, heads and refiners", async (t) => {
  await t.step("a composite without backbone fields", () => {
    assert.deepEqual(ModelDescriptorSchema.parse(FUSED), FUSED);
  });
  await t.step("a backbone with a head and a refiner, head sha256 lower-cased", () => {
    const r = ModelDescriptorSchema.parse({ ...VIT, head: HEAD, refiner: REFINER });
    assert.equal(r.head?.sha256, "cd".repeat(32));
    assert.deepEqual(r.refiner, REFINER);
  });
  await t.step("a composite with a head and a refiner", () => {
    assert.ok(ModelDescriptorSchema.safeParse({ ...FUSED, head: HEAD, refiner: REFINER }).success);
  });
});

Deno.test("ModelDescriptorSchema rejects bad composites, heads and refiners, naming the field", async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ["composite without components", { ...FUSED, components: undefined }, /^components: required/],
    ["empty components", { ...FUSED, components: [] }, /^components: /],
    [
      "all weights 0",
      { ...FUSED, components: [{ model: "dsift", weight: 0 }] },
      /^components: at least one component needs a weight above 0/,
    ],
    [
      "negative weight",
      { ...FUSED, components: [{ model: "dsift", weight: -1 }] },
      /^components\.0\.weight: /,
    ],
    [
      "component resolution 0",
      { ...FUSED, components: [{ model: "dsift", weight: 1, resolution: 0 }] },
      /^components\.0\.resolution: /,
    ],
    [
      "component typo",
      { ...FUSED, components: [{ model: "dsift", weigth: 1 }] },
      /weigth/,
    ],
    ["composite with mean", { ...FUSED, mean: [0, 0, 0] }, /^mean: does not apply to a composite/],
    ["composite with input", { ...FUSED, input: "x" }, /^input: does not apply to a composite/],
    ["composite url with a name", { ...FUSED, url: "composite:x" }, /^url: a composite's url/],
    [
      "components on a backbone",
      { ...VIT, components: FUSED.components },
      /^components: applies only when url is `composite:`/,
    ],
    [
      "align_corners on a backbone",
      { ...VIT, align_corners: true },
      /^align_corners: applies only/,
    ],
    ["backbone without input", { ...VIT, input: undefined }, /^input: Required for a backbone/],
    [
      "head without feature_dim",
      { ...VIT, head: { ...HEAD, feature_dim: undefined } },
      /^head\.feature_dim: /,
    ],
    [
      "head embedded",
      { ...VIT, head: { ...HEAD, url: "embedded:dsift" } },
      /^head\.url: must name an ONNX file/,
    ],
    [
      "head short sha256",
      { ...VIT, head: { ...HEAD, sha256: "ab" } },
      /^head\.sha256: must be 64 hex/,
    ],
    [
      "refiner over plain http",
      { ...VIT, refiner: { ...REFINER, url: "http://example.com/r.onnx" } },
      /^refiner\.url: .*loopback hosts only/,
    ],
    ["refiner extra field", { ...VIT, refiner: { ...REFINER, feature_dim: 3 } }, /feature_dim/],
    [
      "refiner without output",
      { ...VIT, refiner: { ...REFINER, output: undefined } },
      /^refiner\.output: /,
    ],
  ];
  for (const [name, value, error] of cases) {
    await t.step(name, () => {
      const found = problems(value);
      assert.ok(found.some((p) => error.test(p)), `${error} not in ${JSON.stringify(found)}`);
    });
  }
});

Deno.test("loadModelsConfig() takes relative head and refiner paths relative to the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "models.json");
    const local = {
      ...VIT,
      url: "vit.onnx",
      head: { ...HEAD, url: "heads/h.onnx" },
      refiner: { ...REFINER, url: "r.onnx" },
    };
    await Deno.writeTextFile(path, JSON.stringify([local, FUSED]));
    const [vit, fused] = await loadModelsConfig(path);
    assert.equal(vit.url, join(dir, "vit.onnx"));
    assert.equal(vit.head?.url, join(dir, "heads/h.onnx"));
    assert.equal(vit.refiner?.url, join(dir, "r.onnx"));
    assert.equal(fused.url, "composite:");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
