import assert from "node:assert/strict";
import { tinyVitDescriptor } from "../fixtures/models.ts";
import { join } from "node:path";
import type { ModelDescriptor } from "../../models/descriptor.ts";
import { loadModelFile } from "../../models/loader.ts";
import { buildTinyVitGraph } from "../../models/tiny_vit_graph.ts";
import { FeatureExtractor } from "../../workers/feature_extractor.ts";
import { createWebSession as createSession } from "../../workers/ort.ts";
import type { TensorData } from "../../workers/session.ts";

/** A smooth deterministic image batch, `[batch, 3, height, width]`. */
function pixels(batch: number, height: number, width: number): TensorData {
  const data = new Float32Array(batch * 3 * height * width);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.013) + Math.cos(i * 0.0007);
  return { data, dims: [batch, 3, height, width] };
}

async function run(model: Uint8Array, input: TensorData) {
  const session = await createSession(model, { label: "tiny ViT" });
  try {
    return await session.run({ pixel_values: input });
  } finally {
    await session.release();
  }
}

Deno.test("buildTinyVitGraph() has the I/O contract of the DINOv2 hub exports", async (t) => {
  const model = buildTinyVitGraph({ seed: 3 });
  const session = await createSession(model, { label: "tiny ViT" });
  try {
    assert.deepEqual(session.inputNames, ["pixel_values"]);
    assert.deepEqual(session.outputNames, ["last_hidden_state", "pooler_output"]);
    for (const [height, width] of [[224, 224], [448, 448], [224, 448]]) {
      await t.step(`${height}x${width}`, async () => {
        const out = await session.run({ pixel_values: pixels(1, height, width) });
        const tokens = 1 + (height / 14) * (width / 14);
        assert.deepEqual(out.last_hidden_state.dims, [1, tokens, 32]);
        assert.deepEqual(out.pooler_output.dims, [1, 32]);
        assert.ok(out.last_hidden_state.data.every(Number.isFinite));
        // The pooler output is the CLS token after the final LayerNorm.
        assert.deepEqual(out.pooler_output.data, out.last_hidden_state.data.slice(0, 32));
        // After the final LayerNorm each token has mean ~beta and a spread near 1.
        const token = out.last_hidden_state.data.slice(32 * 5, 32 * 6);
        const rms = Math.sqrt(token.reduce((a, v) => a + v * v, 0) / 32);
        assert.ok(rms > 0.3 && rms < 3, `rms ${rms}`);
      });
    }
  } finally {
    await session.release();
  }
});

Deno.test("buildTinyVitGraph() is deterministic in its seed", async () => {
  const input = pixels(1, 224, 224);
  const a = await run(buildTinyVitGraph({ seed: 1 }), input);
  const b = await run(buildTinyVitGraph({ seed: 1 }), input);
  const c = await run(buildTinyVitGraph({ seed: 2 }), input);
  assert.deepEqual(a.last_hidden_state.data, b.last_hidden_state.data);
  assert.notDeepEqual(a.last_hidden_state.data, c.last_hidden_state.data);
});

Deno.test("buildTinyVitGraph() with registers and a batch keeps images independent", async () => {
  const model = buildTinyVitGraph({ prefixTokens: 5, dim: 48, heads: 3, depth: 1, seed: 4 });
  const one = pixels(1, 112, 168);
  const two = { data: new Float32Array([...one.data, ...one.data]), dims: [2, 3, 112, 168] };
  const out = await run(model, two);
  const tokens = 5 + 8 * 12;
  assert.deepEqual(out.last_hidden_state.dims, [2, tokens, 48]);
  const n = tokens * 48;
  const first = out.last_hidden_state.data.slice(0, n);
  const second = out.last_hidden_state.data.slice(n);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(first[i] - second[i]) < 1e-4);
});

Deno.test("buildTinyVitGraph() rejects impossible shapes", async (t) => {
  await t.step("heads must divide dim", () => {
    assert.throws(() => buildTinyVitGraph({ dim: 30, heads: 4 }), RangeError);
  });
  await t.step("sizes must be positive integers", () => {
    assert.throws(() => buildTinyVitGraph({ depth: 0 }), RangeError);
    assert.throws(() => buildTinyVitGraph({ patch: 1.5 }), RangeError);
    assert.throws(() => buildTinyVitGraph({ prefixTokens: 0 }), RangeError);
  });
  await t.step("seed must be an integer", () => {
    assert.throws(() => buildTinyVitGraph({ seed: 0.5 }), RangeError);
  });
});

Deno.test("buildTinyVitGraph() runs through FeatureExtractor from a loaded file", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "tiny_vit.onnx");
    await Deno.writeFile(file, buildTinyVitGraph({ seed: 5 }));
    const descriptor: ModelDescriptor = tinyVitDescriptor(
      "tiny-vit",
      new URL(`file://${file}`).href,
    );
    const path = await loadModelFile(descriptor, { cacheDir: join(dir, "cache"), offline: true });
    const fx = await FeatureExtractor.create({ descriptor, file: path });
    try {
      const image = { width: 40, height: 30, data: new Uint8Array(40 * 30 * 3) };
      for (let i = 0; i < image.data.length; i++) image.data[i] = (i * 37) % 256;
      for (const resolution of [224, 448]) {
        await t.step(`${resolution} px`, async () => {
          const { grid } = await fx.extract(image, { resolution, resize: "stretch" });
          const cells = resolution / 14;
          assert.deepEqual([grid.channels, grid.height, grid.width], [32, cells, cells]);
          assert.ok(grid.data.every(Number.isFinite));
        });
      }
    } finally {
      await fx.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
