import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { ModelStore } from "../../models/model_store.ts";
import { BUILTIN_MODELS, ModelRegistry } from "../../models/registry.ts";
import type { ModelDescriptor } from "../../models/descriptor.ts";
import { ModelLoadError, ModelNotFoundError } from "../../errors/mod.ts";

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

Deno.test("ModelStore.resolve() resolves components and the head and refiner files", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const vitBytes = new Uint8Array([1, 2, 3]);
    const headBytes = new Uint8Array([4, 5]);
    const refinerBytes = new Uint8Array([6]);
    await Deno.writeFile(join(dir, "vit.onnx"), vitBytes);
    await Deno.writeFile(join(dir, "head.onnx"), headBytes);
    await Deno.writeFile(join(dir, "refiner.onnx"), refinerBytes);
    const vit: ModelDescriptor = {
      ...BUILTIN_MODELS.dsift,
      id: "vit",
      url: join(dir, "vit.onnx"),
      sha256: sha(vitBytes),
      feature_dim: 32,
    };
    const head = { input: "features", output: "head_features", feature_dim: 16 };
    const fused: ModelDescriptor = {
      id: "fused",
      url: "composite:",
      components: [{ model: "dsift", weight: 1 }, { model: "vit", weight: 0.5 }],
      patch_size: 8,
      feature_dim: 160,
      default_resolution: 256,
      resolutions: { min: 64, max: 512 },
      head: { ...head, url: `file://${join(dir, "head.onnx")}`, sha256: sha(headBytes) },
      refiner: { url: join(dir, "refiner.onnx"), input: "correlation", output: "refined" },
    };
    const badHead: ModelDescriptor = {
      ...fused,
      id: "bad-head",
      head: { ...head, url: join(dir, "head.onnx"), sha256: "0".repeat(64) },
      refiner: undefined,
    };
    const store = new ModelStore(new ModelRegistry([BUILTIN_MODELS.dsift, vit, fused, badHead]), {
      cacheDir: join(dir, "cache"),
      offline: true,
    });
    await t.step("a composite: components in order, files verified", async () => {
      const ref = await store.resolve("fused");
      assert.equal(ref.file, undefined);
      assert.deepEqual(ref.components?.map((c) => [c.descriptor.id, c.file]), [
        ["dsift", undefined],
        ["vit", join(dir, "vit.onnx")],
      ]);
      assert.equal(ref.headFile, join(dir, "head.onnx"));
      assert.equal(ref.refinerFile, join(dir, "refiner.onnx"));
    });
    await t.step("a plain backbone has no extra fields", async () => {
      assert.deepEqual(Object.keys(await store.resolve("vit")).sort(), ["descriptor", "file"]);
    });
    await t.step("a head failing its sha256 names the head and the model", async () => {
      await assert.rejects(store.resolve("bad-head"), (e) => {
        assert.ok(e instanceof ModelLoadError);
        assert.match(e.message, /^Cannot load the head of model `bad-head`: sha256 mismatch/);
        return true;
      });
    });
    await t.step("an unknown id", async () => {
      await assert.rejects(store.resolve("nope"), ModelNotFoundError);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
