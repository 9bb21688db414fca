/**
 * Faults through the real server: a default model whose file is not ONNX
 * (the pool retries its load with back-off, `/readyz` says so, requests get
 * a clear 503 at once) and then becomes valid (the service heals unaided);
 * a default model whose file is not there yet (its resolution is retried the
 * same way).
 *
 * @module
 */

import assert from "node:assert/strict";
import { tinyVitDescriptor } from "../fixtures/models.ts";
import { buildTinyVitGraph } from "../fixtures/tiny_vit_graph.ts";
import { matchForm, postMatch, willowImage, withService } from "../routes/_service.ts";

/** Polls `/readyz` until `done` says so (bounded by the test runner, not a timed assertion). */
async function readiness(url: string, done: (body: { status: string }) => boolean) {
  for (;;) {
    const res = await fetch(`${url}/readyz`);
    const body = await res.json();
    if (done(body)) return { status: res.status, body };
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A temporary folder whose `models.json` declares the tiny ViT `id` on
 * `<dir>/<file>` as the default model, with retries fast enough for a test.
 */
async function tinyDefaultModel(id: string, file: string) {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/${file}`;
  const config = `${dir}/models.json`;
  await Deno.writeTextFile(config, JSON.stringify([tinyVitDescriptor(id, path)]));
  const env = {
    MODELS_CONFIG: config,
    DEFAULT_MODEL: id,
    MODEL_CACHE: `${dir}/cache`,
    WORKER_RETRY_MS: "50",
    WORKER_RETRY_MAX_MS: "200",
  };
  return { dir, file: path, env };
}

Deno.test("a default model that fails to load: /readyz 503 failing, requests 503 workers_not_ready, healed once the file is valid", async () => {
  const { dir, file, env } = await tinyDefaultModel("tiny-local", "tiny.onnx");
  await Deno.writeTextFile(file, "this is not an ONNX graph\n");
  const png = await willowImage("car(G)/Cars_006a.png");
  const png2 = await willowImage("car(G)/Cars_007a.png");
  try {
    await withService(env, async (url) => {
      const failing = await readiness(url, (b) => b.status === "failing");
      assert.equal(failing.status, 503);
      const pool = (failing.body as unknown as { pool: Record<string, unknown> }).pool;
      assert.equal(pool.size, 1);
      assert.equal(pool.ready, 0);
      assert.equal(pool.load_error, "model_unavailable");

      // Retried, not given up: the restarts keep counting.
      const later = await readiness(
        url,
        (b) => (b as unknown as { pool: { restarts: number } }).pool.restarts >= 3,
      );
      assert.notEqual(later.body.status, "ready");

      // While every load waits for its retry, a match fails at once with a code.
      let refused;
      do {
        refused = await postMatch(url, matchForm(png, png2, [[120, 80]]));
      } while (refused.status !== 503 || refused.json.error.code !== "workers_not_ready");
      assert.ok(Number(refused.headers.get("retry-after")) >= 1);
      assert.doesNotMatch(JSON.stringify(refused.json), new RegExp(dir));

      // The file becomes a valid model: the next attempt loads it.
      await Deno.writeFile(file, buildTinyVitGraph({ seed: 7 }));
      const ready = await readiness(url, (b) => b.status === "ready");
      assert.equal(ready.status, 200);
      const ok = await postMatch(url, matchForm(png, png2, [[120, 80]], { resolution: "112" }));
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
      assert.equal(ok.json.model, "tiny-local");
    }, { awaitReady: false });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a default model whose file is not there yet: resolution retried with back-off, /readyz 503 failing, healed once the file appears", async () => {
  const { dir, file, env } = await tinyDefaultModel("tiny-later", "later.onnx");
  const image = await willowImage("car(G)/Cars_006a.png");
  try {
    await withService(env, async (url) => {
      const failing = await readiness(url, (b) => b.status === "failing");
      assert.equal(failing.status, 503);
      const pool = (failing.body as unknown as { pool: Record<string, unknown> }).pool;
      assert.equal(pool.ready, 0);
      assert.equal(pool.load_error, "model_unavailable");

      // A match meanwhile is a 503 with a code (its own resolution of the model fails the same way).
      const refused = await postMatch(url, matchForm(image, image, [[120, 80]]));
      assert.equal(refused.status, 503);
      assert.ok(["model_unavailable", "workers_not_ready"].includes(refused.json.error.code));

      // The file appears: the next resolution finds it and the worker loads it.
      await Deno.writeFile(file, buildTinyVitGraph({ seed: 3 }));
      const ready = await readiness(url, (b) => b.status === "ready");
      assert.equal(ready.status, 200);
      const ok = await postMatch(url, matchForm(image, image, [[120, 80]], { resolution: "112" }));
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
      assert.equal(ok.json.model, "tiny-later");
    }, { awaitReady: false });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
