import assert from "node:assert/strict";
import { createWebSession } from "../../workers/ort.ts";
import { createSession, hardwareGpuAdapter, resolveBackend } from "../../workers/backend.ts";
import { buildTinyVitGraph } from "../fixtures/tiny_vit_graph.ts";

const adapter = await (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu
  ?.requestAdapter().catch(() => null);

Deno.test({
  name: "createWebSession() runs the same model on WebGPU and WASM to within 1e-5",
  // Any adapter will do for correctness, a software one (llvmpipe) included.
  ignore: !adapter,
  async fn() {
    const model = buildTinyVitGraph({ seed: 4 });
    const x = new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i * 0.001));
    const feeds = { pixel_values: { data: x, dims: [1, 3, 224, 224] } };
    const wasm = await createWebSession(model, { label: "tiny", backend: "wasm" });
    const gpu = await createWebSession(model, { label: "tiny", backend: "webgpu" });
    try {
      assert.equal(gpu.backend, "webgpu");
      const a = (await wasm.run(feeds)).last_hidden_state;
      const b = (await gpu.run(feeds)).last_hidden_state;
      assert.deepEqual(b.dims, [1, 257, 32]);
      let max = 0;
      for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i] - b.data[i]));
      assert.ok(max < 1e-5, `max difference ${max}`);
    } finally {
      await wasm.release();
      await gpu.release();
    }
  },
});

Deno.test("resolveBackend() treats software adapters as no GPU", async () => {
  const hw = await hardwareGpuAdapter();
  const description = (adapter as { info?: { description?: string } } | null)?.info?.description ??
    "";
  if (/llvmpipe|swiftshader|lavapipe/i.test(description)) assert.equal(hw, null);
  const auto = await resolveBackend("auto");
  assert.equal(auto === "webgpu", hw !== null);
  assert.equal(await resolveBackend("wasm"), "wasm");
});

Deno.test("createSession() reports the model's inputs when a feed is missing", async () => {
  const s = await createSession(buildTinyVitGraph(), { label: "tiny", backend: "wasm" });
  try {
    await assert.rejects(
      s.run({ images: { data: new Float32Array(3 * 14 * 14), dims: [1, 3, 14, 14] } }),
      /missing inputs \[pixel_values\], unknown inputs \[images\]/,
    );
  } finally {
    await s.release();
  }
});
