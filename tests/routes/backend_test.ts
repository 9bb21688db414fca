import assert from "node:assert/strict";
import { matchForm, postMatch, willowImage, withService } from "./_service.ts";
import { loadConfig } from "../../service/config.ts";
import { startService } from "../../main.ts";

const points = [[120, 80], [200, 150], [60, 100], [250, 60]];

async function matchesOn(backend: string, localizer: string) {
  const a = await willowImage("car(G)/Cars_006a.png");
  const b = await willowImage("car(G)/Cars_007a.png");
  let out: { backend: string; matches: { x: number; y: number; score: number }[] } | undefined;
  await withService({ ORT_BACKEND: backend }, async (url) => {
    const r = await postMatch(url, matchForm(a, b, points, { localizer }));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const models = await (await fetch(`${url}/v1/models`)).json();
    assert.equal(models.models[0].backend, backend);
    out = r.json;
  });
  return out!;
}

Deno.test("ORT_BACKEND=wasm and =native run the same model to the same matches", async () => {
  for (const localizer of ["nn", "kernel-softargmax"]) {
    const wasm = await matchesOn("wasm", localizer);
    const native = await matchesOn("native", localizer);
    assert.equal(wasm.backend, "wasm");
    assert.equal(native.backend, "native");
    for (let i = 0; i < points.length; i++) {
      const d = Math.hypot(
        wasm.matches[i].x - native.matches[i].x,
        wasm.matches[i].y - native.matches[i].y,
      );
      // Float rounding differs between the runtimes; localizations must not.
      assert.ok(localizer === "nn" ? d === 0 : d < 0.01, `${localizer} point ${i}: ${d}`);
      assert.ok(Math.abs(wasm.matches[i].score - native.matches[i].score) < 1e-4);
    }
  }
});

Deno.test("ORT_BACKEND is validated, and webgpu without a hardware adapter never becomes ready", async () => {
  assert.throws(() => loadConfig({ ORT_BACKEND: "cuda" }), /ORT_BACKEND/);
  const gpu = await (navigator as {
    gpu?: { requestAdapter(): Promise<{ info?: { description?: string } } | null> };
  }).gpu
    ?.requestAdapter();
  if (gpu && !/llvmpipe|swiftshader|lavapipe/i.test(gpu.info?.description ?? "")) return; // a real GPU: nothing to refuse
  const service = await startService(
    loadConfig({ ORT_BACKEND: "webgpu", PORT: "0", HOST: "127.0.0.1", WORKERS: "1" }),
    { quiet: true },
  );
  try {
    await assert.rejects(service.ready, /no hardware WebGPU adapter/);
    const ready = await fetch(`${service.url}/readyz`);
    assert.equal(ready.status, 503);
    await ready.body?.cancel();
  } finally {
    await service.close();
  }
});
