import assert from "node:assert/strict";
import { join } from "node:path";
import type { ModelDescriptor } from "../../models/descriptor.ts";
import { loadModelsConfig } from "../../models/models_config.ts";
import { ModelDescriptorSchema } from "../../models/descriptor.ts";
import { BUILTIN_MODELS } from "../../models/registry.ts";

const VIT: ModelDescriptor = {
  id: "my-vit",
  description: "a ViT",
  url: "hf://acme/my-vit@0123abc/onnx/model.onnx",
  sha256: "AB".repeat(32),
  bytes: 88_000_000,
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
  license: "Apache-2.0",
};

/** The error paths and messages of an invalid descriptor, as "path: message". */
function problems(value: unknown): string[] {
  const r = ModelDescriptorSchema.safeParse(value);
  assert.ok(!r.success, "expected the descriptor to be rejected");
  return r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

Deno.test("ModelDescriptorSchema accepts valid descriptors", async (t) => {
  await t.step("a full ViT descriptor, sha256 lower-cased", () => {
    const r = ModelDescriptorSchema.parse(VIT);
    assert.equal(r.sha256, "ab".repeat(32));
    assert.deepEqual({ ...r, sha256: VIT.sha256 }, VIT);
  });
  await t.step("the built-in dsift", () => {
    assert.ok(ModelDescriptorSchema.safeParse(BUILTIN_MODELS.dsift).success);
  });
  await t.step("every url form", () => {
    for (
      const url of [
        "/models/vit.onnx",
        "./vit.onnx",
        "file:///models/vit.onnx",
        "https://example.com/vit.onnx",
        "http://127.0.0.1:8080/vit.onnx",
        "http://localhost/vit.onnx",
        "http://[::1]:9/vit.onnx",
        "hf://acme/vit/model.onnx",
        "embedded:dsift",
      ]
    ) {
      assert.ok(ModelDescriptorSchema.safeParse({ ...VIT, url }).success, url);
    }
  });
});

Deno.test("ModelDescriptorSchema rejects invalid descriptors, naming the field", async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ["missing field", { ...VIT, output: undefined }, /^output: /],
    ["unknown field (typo)", { ...VIT, patchSize: 14 }, /patchSize/],
    ["bad id", { ...VIT, id: "my vit" }, /^id: must be 1 to 100 letters/],
    ["patch_size 0", { ...VIT, patch_size: 0 }, /^patch_size: /],
    ["fractional patch_size", { ...VIT, patch_size: 14.5 }, /^patch_size: /],
    [
      "default_resolution not a multiple",
      { ...VIT, default_resolution: 450 },
      /^default_resolution: must be a multiple of patch_size \(14\)/,
    ],
    [
      "default_resolution out of range",
      { ...VIT, default_resolution: 980 },
      /^default_resolution: must lie within resolutions \[112, 840\]/,
    ],
    [
      "min over max",
      { ...VIT, resolutions: { min: 840, max: 112 } },
      /^resolutions: min \(840\) must not exceed max \(112\)/,
    ],
    [
      "resolution bound not a multiple",
      { ...VIT, resolutions: { min: 100, max: 840 } },
      /^resolutions\.min: must be a multiple/,
    ],
    ["mean of 2", { ...VIT, mean: [0.5, 0.5] }, /^mean/],
    ["mean not finite", { ...VIT, mean: [0.5, 0.5, Infinity] }, /^mean\.2: /],
    ["std 0", { ...VIT, std: [0.2, 0, 0.2] }, /^std\.1: /],
    ["negative std", { ...VIT, std: [0.2, 0.2, -1] }, /^std\.2: /],
    ["bad layout", { ...VIT, layout: "nhwc" }, /^layout: /],
    [
      "prefix tokens with chw",
      { ...VIT, layout: "chw" },
      /^prefix_tokens: must be 0 for the chw layout/,
    ],
    ["negative prefix tokens", { ...VIT, prefix_tokens: -1 }, /^prefix_tokens: /],
    ["short sha256", { ...VIT, sha256: "abc" }, /^sha256: must be 64 hex digits/],
    ["zero bytes", { ...VIT, bytes: 0 }, /^bytes: /],
    ["empty input name", { ...VIT, input: "" }, /^input: /],
    ["ftp url", { ...VIT, url: "ftp://example.com/vit.onnx" }, /^url: .*unsupported scheme ftp/],
    [
      "plain http to a remote host",
      { ...VIT, url: "http://example.com/vit.onnx" },
      /^url: .*loopback hosts only/,
    ],
    ["hf url without a file", { ...VIT, url: "hf://acme/vit" }, /^url: .*expected hf:\/\//],
    ["empty url", { ...VIT, url: "" }, /^url: /],
    ["not an object", "my-vit", /expected object/],
  ];
  for (const [name, value, error] of cases) {
    await t.step(name, () => {
      const found = problems(value);
      assert.ok(found.some((p) => error.test(p)), `${error} not in ${JSON.stringify(found)}`);
    });
  }
});

async function withConfig(content: string, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "models.json");
    await Deno.writeTextFile(path, content);
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadModelsConfig() reads a valid config file", async (t) => {
  await t.step("entries in order, relative paths made relative to the file", async () => {
    const local = { ...VIT, id: "local-vit", url: "weights/vit.onnx", sha256: undefined };
    await withConfig(
      JSON.stringify([VIT, local, { ...local, id: "abs", url: "/m/v.onnx" }]),
      async (path) => {
        const models = await loadModelsConfig(path);
        assert.deepEqual(models.map((m) => m.id), ["my-vit", "local-vit", "abs"]);
        assert.equal(models[0].url, VIT.url);
        assert.equal(models[0].sha256, "ab".repeat(32));
        assert.equal(models[1].url, join(path, "..", "weights/vit.onnx"));
        assert.equal(models[2].url, "/m/v.onnx");
      },
    );
  });
  await t.step("an empty array", async () => {
    await withConfig("[]", async (path) => assert.deepEqual(await loadModelsConfig(path), []));
  });
});

Deno.test("loadModelsConfig() names the file and the bad entry", async (t) => {
  await t.step("missing file", async () => {
    await assert.rejects(loadModelsConfig("/no/such/models.json"), (e) => {
      assert.ok(e instanceof Deno.errors.NotFound);
      assert.match(
        e.message,
        /Cannot read models config \/no\/such\/models\.json \(MODELS_CONFIG\)/,
      );
      return true;
    });
  });
  await t.step("not JSON", async () => {
    await withConfig("[{", async (path) => {
      await assert.rejects(loadModelsConfig(path), (e) => {
        assert.ok(e instanceof SyntaxError);
        assert.ok(e.message.startsWith(`Cannot parse models config ${path} (MODELS_CONFIG): `));
        return true;
      });
    });
  });
  await t.step("not an array", async () => {
    await withConfig(JSON.stringify(VIT), async (path) => {
      await assert.rejects(loadModelsConfig(path), {
        name: "TypeError",
        message: /expected a JSON array/,
      });
    });
  });
  await t.step("bad entries, each named by index and id", async () => {
    const config = [VIT, { ...VIT, id: "b", patch_size: 0 }, { id: 7 }, {
      ...VIT,
      id: "c",
      std: [1, 0, 1],
    }];
    await withConfig(JSON.stringify(config), async (path) => {
      await assert.rejects(loadModelsConfig(path), (e) => {
        assert.ok(e instanceof TypeError);
        assert.ok(
          e.message.startsWith(
            `Cannot load models config ${path} (MODELS_CONFIG): entry 1 (\`b\`): `,
          ),
        );
        assert.match(e.message, /entry 1 \(`b`\): patch_size: /);
        assert.match(e.message, /entry 2: id: /);
        assert.match(e.message, /entry 3 \(`c`\): std\.1: /);
        assert.doesNotMatch(e.message, /entry 0/);
        return true;
      });
    });
  });
  await t.step("duplicate ids", async () => {
    await withConfig(JSON.stringify([VIT, VIT]), async (path) => {
      await assert.rejects(
        loadModelsConfig(path),
        /entry 1 \(`my-vit`\): id is already used by entry 0/,
      );
    });
  });
});

Deno.test("ModelDescriptorSchema accepts every built-in model and checks a tfjs source", () => {
  for (const d of Object.values(BUILTIN_MODELS)) {
    assert.ok(ModelDescriptorSchema.safeParse(d).success, d.id);
  }
  const mnv3 = BUILTIN_MODELS["mnv3-coco"];
  assert.deepEqual(problems({ ...mnv3, tfjs: { ...mnv3.tfjs, weights: [1, 1] } }), [
    "tfjs.weights: needs one weight per output (3)",
  ]);
  assert.deepEqual(problems({ ...mnv3, tfjs: { ...mnv3.tfjs, weights: [0, 0, 0] } }), [
    "tfjs.weights: at least one weight must be above 0",
  ]);
  assert.deepEqual(problems({ ...mnv3, layout: "tokens" }), [
    "layout: must be chw for a TF.js model (the importer returns [1, C, h, w])",
  ]);
  assert.deepEqual(problems({ ...mnv3, url: "embedded:dsift" }), [
    "url: must name a TF.js model.json, not an embedded model",
  ]);
  assert.ok(
    problems({ ...mnv3, tfjs: { ...mnv3.tfjs, layout: "hwc" } })[0].startsWith("tfjs.layout"),
  );
  assert.ok(problems({ ...mnv3, tfjs: { ...mnv3.tfjs, pixelScale: 255 } })[0].startsWith("tfjs"));
  assert.deepEqual(problems({ ...BUILTIN_MODELS["mnv3-nanodet-coco"], tfjs: mnv3.tfjs }), [
    "tfjs: does not apply to a composite (each component brings its own)",
  ]);
});
