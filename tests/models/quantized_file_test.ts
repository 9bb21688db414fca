import assert from "node:assert/strict";
import { join } from "node:path";
import { ModelStore } from "../../models/model_store.ts";
import { BUILTIN_MODELS, ModelRegistry } from "../../models/registry.ts";
import { ModelDescriptorSchema } from "../../models/descriptor.ts";
import { readOnnxModel } from "../../models/onnx_proto.ts";
import { QUANTIZER_VERSION } from "../../models/onnx_quantize.ts";
import { ModelLoadError } from "../../errors/mod.ts";
import { HUB_MODELS } from "../../models/hub_models.ts";
import { buildTinyVitGraph } from "../fixtures/tiny_vit_graph.ts";
import { tinyVitDescriptor } from "../fixtures/models.ts";

/** The tiny ViT's descriptor at 56 px, asking for the int8 variant. */
const vit = (url: string) =>
  tinyVitDescriptor("vit-int8", url, {
    default_resolution: 56,
    resolutions: undefined,
    quantize: "int8",
  });

Deno.test("quantize: int8 serves a variant derived once, cached by the source's sha256", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const source = join(dir, "vit.onnx");
    await Deno.writeFile(source, buildTinyVitGraph({ seed: 5 }));
    const d = ModelDescriptorSchema.parse(vit(source));
    const store = () => new ModelStore(new ModelRegistry([d]), { cacheDir: join(dir, "cache") });
    const first = await store().resolve("vit-int8");
    assert.ok(first.file!.startsWith(join(dir, "cache", "quantized")));
    const ops = readOnnxModel(await Deno.readFile(first.file!)).graph.nodes.map((n) => n.opType);
    assert.equal(ops.filter((o) => o === "MatMulInteger").length, 12);
    const sidecar = JSON.parse(await Deno.readTextFile(`${first.file}.json`));
    assert.equal(sidecar.quantizer, QUANTIZER_VERSION);
    assert.equal(sidecar.matmuls_quantized, 12);
    const { mtime } = await Deno.stat(first.file!);
    assert.equal((await store().resolve("vit-int8")).file, first.file);
    assert.deepEqual((await Deno.stat(first.file!)).mtime, mtime);

    // A changed source is a new entry.
    await Deno.writeFile(source, buildTinyVitGraph({ seed: 6 }));
    assert.notEqual((await store().resolve("vit-int8")).file, first.file);

    // A file that is not an ONNX model is a model_unavailable error, not a crash.
    await Deno.writeFile(source, new TextEncoder().encode("not a model"));
    await assert.rejects(store().resolve("vit-int8"), ModelLoadError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("quantize is refused on embedded models and composites, named in the message", () => {
  const embedded = ModelDescriptorSchema.safeParse({ ...BUILTIN_MODELS.dsift, quantize: "int8" });
  assert.ok(!embedded.success);
  assert.deepEqual(embedded.error.issues[0].path, ["quantize"]);
  const fused = ModelDescriptorSchema.safeParse({
    id: "f",
    url: "composite:",
    components: [{ model: "dsift", weight: 1 }],
    patch_size: 8,
    feature_dim: 128,
    default_resolution: 256,
    quantize: "int8",
  });
  assert.ok(!fused.success);
  assert.ok(!ModelDescriptorSchema.safeParse({ ...vit("/m.onnx"), quantize: "int4" }).success);
});

Deno.test("the hub's int8 ids derive from the fp32 exports", () => {
  for (const size of ["small", "base"] as const) {
    const q = HUB_MODELS[`dinov2-${size}-int8`];
    assert.equal(q.quantize, "int8");
    assert.equal(q.url, HUB_MODELS[`dinov2-${size}`].url);
    assert.ok(ModelDescriptorSchema.safeParse(q).success);
  }
});
