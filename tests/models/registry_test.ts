import assert from "node:assert/strict";
import { join } from "node:path";
import type { ModelDescriptor } from "../../models/descriptor.ts";
import { BUILTIN_MODELS, loadRegistry, ModelRegistry } from "../../models/registry.ts";

const DSIFT = BUILTIN_MODELS.dsift;

function composite(id: string, components: unknown[], extra: Record<string, unknown> = {}) {
  return {
    id,
    url: "composite:",
    components,
    patch_size: 8,
    feature_dim: 128 * components.length,
    default_resolution: 256,
    resolutions: { min: 64, max: 512 },
    ...extra,
  } as ModelDescriptor;
}

Deno.test("ModelRegistry accepts composites of registered models", async (t) => {
  await t.step("two scales of dsift, and a composite of a composite", () => {
    const twoScales = composite("two-scales", [
      { model: "dsift", weight: 1, resolution: 128 },
      { model: "dsift", weight: 1 },
    ]);
    const nested = composite("nested", [{ model: "two-scales", weight: 1 }, {
      model: "dsift",
      weight: 0,
    }], { feature_dim: 384 });
    const r = new ModelRegistry([DSIFT, twoScales, nested]);
    assert.equal(r.get("nested").feature_dim, 384);
  });
  await t.step("a component's head sets its channels", () => {
    const headed = {
      ...DSIFT,
      id: "dsift-head",
      head: { url: "/h.onnx", input: "features", output: "head_features", feature_dim: 32 },
    };
    const fused = composite("fused", [{ model: "dsift-head", weight: 1 }, {
      model: "dsift",
      weight: 1,
    }], { feature_dim: 160 });
    assert.equal(new ModelRegistry([DSIFT, headed, fused]).list().length, 3);
  });
  await t.step("order does not matter: components may be registered after", () => {
    const fused = composite("fused", [{ model: "dsift", weight: 1 }]);
    assert.equal(new ModelRegistry([fused, DSIFT]).get("fused").id, "fused");
  });
});

Deno.test("ModelRegistry rejects bad composites, naming the composite", async (t) => {
  await t.step("a missing component", () => {
    const fused = composite("fused", [{ model: "dsift", weight: 1 }, { model: "sd21", weight: 1 }]);
    assert.throws(() => new ModelRegistry([DSIFT, fused]), {
      name: "TypeError",
      message:
        /^Cannot register composite model `fused`: component `sd21` is not a registered model \(known: dsift, fused\)/,
    });
  });
  await t.step("a cycle through two composites", () => {
    const a = composite("a", [{ model: "b", weight: 1 }]);
    const b = composite("b", [{ model: "dsift", weight: 1 }, { model: "a", weight: 1 }], {
      feature_dim: 256,
    });
    assert.throws(
      () => new ModelRegistry([DSIFT, a, b]),
      /its components form a cycle: a -> b -> a/,
    );
  });
  await t.step("a composite of itself", () => {
    const a = composite("a", [{ model: "a", weight: 1 }]);
    assert.throws(() => new ModelRegistry([a]), /composite model `a`: .*cycle: a -> a/);
  });
  await t.step("a component resolution the component does not take", () => {
    const fused = composite("fused", [{ model: "dsift", weight: 1, resolution: 100 }]);
    assert.throws(
      () => new ModelRegistry([DSIFT, fused]),
      /`fused`: component `dsift` cannot run at resolution 100: it takes multiples of 8 from 64 to 1024/,
    );
  });
  await t.step("a feature_dim that is not the sum", () => {
    const fused = composite(
      "fused",
      [{ model: "dsift", weight: 1 }, { model: "dsift", weight: 1 }],
      {
        feature_dim: 200,
      },
    );
    assert.throws(
      () => new ModelRegistry([DSIFT, fused]),
      /`fused`: feature_dim is 200, but its components give 128 \+ 128 = 256/,
    );
  });
});

Deno.test("loadRegistry() names MODELS_CONFIG when a composite's component is missing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "models.json");
    await Deno.writeTextFile(
      path,
      JSON.stringify([composite("fused", [{ model: "nope", weight: 1 }])]),
    );
    await assert.rejects(loadRegistry({ configFile: path }), (e) => {
      assert.ok(e instanceof TypeError);
      assert.match(
        e.message,
        /composite model `fused`: component `nope` is not a registered model/,
      );
      assert.match(e.message, /\(models config .*models\.json, MODELS_CONFIG\)$/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
