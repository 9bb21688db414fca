import assert from "node:assert/strict";
import { type BackboneDescriptor, ModelDescriptorSchema } from "../../models/descriptor.ts";
import { HUB_MODELS } from "../../models/hub_models.ts";
import { resolveModelSource } from "../../models/model_source.ts";

const DINOV2 = Object.values(HUB_MODELS).filter((d) => d.id.includes("dinov2"));

Deno.test("HUB_MODELS are valid descriptors keyed by their id", () => {
  for (const [key, d] of Object.entries(HUB_MODELS)) {
    assert.equal(d.id, key);
    const r = ModelDescriptorSchema.safeParse(d);
    assert.ok(r.success, `${key}: ${r.error?.message}`);
    assert.equal(d.layout, "tokens");
    assert.equal(d.input, "pixel_values");
    assert.equal(d.output, "last_hidden_state");
    assert.ok(!("sha256" in d), `${key} pins no sha256 (none is known offline)`);
  }
  for (const d of DINOV2) {
    assert.equal(d.patch_size, 14);
    assert.equal(d.default_resolution / d.patch_size, 32);
  }
});

Deno.test("HUB_MODELS include DINOv3 (patch 16, 4 registers) and CLIP towers (224 px only)", () => {
  assert.equal(HUB_MODELS["dinov3-vitb16"].patch_size, 16);
  assert.equal(HUB_MODELS["dinov3-vitb16"].prefix_tokens, 5);
  assert.equal(HUB_MODELS["dinov3-vitb16"].resolutions.max, 960);
  assert.deepEqual(HUB_MODELS["clip-vit-l14"].resolutions, { min: 224, max: 224 });
  assert.equal(HUB_MODELS["clip-vit-b16"].patch_size, 16);
  assert.equal(HUB_MODELS["clip-vit-b16"].mean[0], 0.48145466);
});

Deno.test("HUB_MODELS point at the onnx-community and Xenova exports", async (t) => {
  await t.step("urls resolve to huggingface.co URLs, at a commit where one is pinned", () => {
    assert.deepEqual(resolveModelSource(HUB_MODELS["dinov2-small-fp16"].url), {
      kind: "http",
      url: "https://huggingface.co/onnx-community/dinov2-small/resolve/main/onnx/model_fp16.onnx",
    });
    assert.deepEqual(resolveModelSource(HUB_MODELS["xenova-dinov2-large-q8"].url), {
      kind: "http",
      url:
        "https://huggingface.co/Xenova/dinov2-large/resolve/ea6fe542912c2af69cbe7cef2ba6a5257b09db00/onnx/model_quantized.onnx",
    });
  });
  await t.step("feature dims and prefix tokens follow the model size and registers", () => {
    const dims = { small: 384, base: 768, large: 1024 } as Record<string, number>;
    for (const d of DINOV2) {
      const size = d.id.match(/(small|base|large)/)![1];
      assert.equal(d.feature_dim, dims[size], d.id);
      assert.equal(d.prefix_tokens, d.id.includes("with-registers") ? 5 : 1, d.id);
    }
  });
  await t.step("fp16 and q8 variants name one file each", () => {
    // A derived variant (`quantize`) shares its source's file; every other id names its own.
    const urls = Object.values(HUB_MODELS as Record<string, BackboneDescriptor>).map((d) =>
      `${d.url} ${d.quantize ?? ""}`
    );
    assert.equal(new Set(urls).size, urls.length);
    for (const d of DINOV2) {
      const file = d.id.endsWith("-fp16")
        ? "model_fp16.onnx"
        : d.id.endsWith("-q8")
        ? "model_quantized.onnx"
        : "model.onnx";
      assert.ok(d.url.endsWith(`/onnx/${file}`), d.id);
    }
  });
});
