import assert from "node:assert/strict";
import { tinyVitDescriptor } from "../fixtures/models.ts";
import { createHash } from "node:crypto";
import { buildTinyVitGraph } from "../fixtures/tiny_vit_graph.ts";
import { matchForm, postMatch, willowImage, withService } from "./_service.ts";

const WILLOW_ROOT = new URL("../../../shared/data/pf-willow", import.meta.url).pathname;

/** A model server on 127.0.0.1 that counts its requests. */
function serveModel(bytes: Uint8Array) {
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    requests++;
    const path = new URL(req.url).pathname;
    if (path === "/tiny.onnx") return new Response(bytes as BlobPart);
    if (path === "/wrong.onnx") return new Response(bytes.slice(0, bytes.length - 1) as BlobPart);
    return new Response("not found", { status: 404 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests: () => requests,
    close: () => server.shutdown(),
  };
}

function descriptor(id: string, url: string, sha256: string, extra: Record<string, unknown> = {}) {
  return tinyVitDescriptor(id, url, { sha256, ...extra });
}

/** Exactly the fields the README documents as needed: no `layout`, no `resolutions`. */
function documentedOnly(id: string, url: string, sha256: string) {
  const { layout: _layout, resolutions: _resolutions, ...rest } = descriptor(id, url, sha256);
  const fields = [
    "id",
    "url",
    "sha256",
    "input",
    "output",
    "patch_size",
    "mean",
    "std",
    "prefix_tokens",
    "feature_dim",
    "default_resolution",
  ];
  assert.deepEqual(Object.keys(rest).sort(), fields.sort());
  return rest;
}

Deno.test("a DINOv2-contract model served over HTTP is downloaded, verified, cached and used by /v1/match and /v1/evaluate", async (t) => {
  const bytes = buildTinyVitGraph({ seed: 7 });
  const sha = createHash("sha256").update(bytes).digest("hex");
  const dir = await Deno.makeTempDir();
  const cache = `${dir}/cache`;
  const http = serveModel(bytes);
  const config = `${dir}/models.json`;
  await Deno.writeTextFile(
    config,
    JSON.stringify([
      descriptor("tiny-vit", `${http.url}/tiny.onnx`, sha),
      descriptor("tiny-bad-sha", `${http.url}/wrong.onnx`, sha),
      descriptor("tiny-missing", `${http.url}/missing.onnx`, sha),
      descriptor("tiny-registers", `${http.url}/tiny.onnx`, sha, { prefix_tokens: 5 }),
      descriptor("tiny-wrong-io", `${http.url}/tiny.onnx`, sha, { output: "features" }),
      documentedOnly("tiny-documented", `${http.url}/tiny.onnx`, sha),
    ]),
  );
  const png = await willowImage("car(G)/Cars_006a.png");
  const png2 = await willowImage("car(G)/Cars_007a.png");
  // dsift as the start model: the cache then holds only what this test downloads.
  const env = {
    MODELS_CONFIG: config,
    MODEL_CACHE: cache,
    DATA_PFWILLOW: WILLOW_ROOT,
    DEFAULT_MODEL: "dsift",
  };
  try {
    await withService(env, async (url) => {
      await t.step("first use downloads once, even for concurrent requests", async () => {
        const [a, b] = await Promise.all([
          postMatch(url, matchForm(png, png2, [[120, 80]], { model: "tiny-vit" })),
          postMatch(url, matchForm(png, png2, [[60, 90]], { model: "tiny-vit" })),
        ]);
        assert.equal(a.status, 200, JSON.stringify(a.json));
        assert.equal(b.status, 200, JSON.stringify(b.json));
        assert.equal(a.json.model, "tiny-vit");
        assert.deepEqual(a.json.grid, { height: 16, width: 16 });
        assert.equal(http.requests(), 1);
      });
      await t.step("/v1/evaluate runs the same cached model", async () => {
        const res = await fetch(`${url}/v1/evaluate`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            dataset: "pfwillow",
            limit: 3,
            model: "tiny-vit",
            resolution: 112,
          }),
        });
        const r = await res.json();
        assert.equal(res.status, 200, JSON.stringify(r));
        assert.equal(r.model, "tiny-vit");
        assert.equal(r.n_pairs, 3);
        assert.equal(http.requests(), 1);
      });
      await t.step("a descriptor with only the documented fields loads and serves", async () => {
        const models = await (await fetch(`${url}/v1/models`)).json();
        const listed = models.models.find((m: { id: string }) => m.id === "tiny-documented");
        assert.equal(listed.layout, "tokens");
        assert.deepEqual(listed.resolutions, { min: 14, max: 2044, multiple_of: 14 });
        const r = await postMatch(
          url,
          matchForm(png, png2, [[120, 80]], { model: "tiny-documented", resolution: "252" }),
        );
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.deepEqual(r.json.grid, { height: 18, width: 18 });
        const same = await postMatch(
          url,
          matchForm(png, png2, [[120, 80]], { model: "tiny-vit", resolution: "252" }),
        );
        assert.deepEqual(r.json.matches, same.json.matches);
      });
      await t.step("a sha256 mismatch is refused and leaves no file", async () => {
        const r = await postMatch(url, matchForm(png, png2, [[1, 1]], { model: "tiny-bad-sha" }));
        assert.equal(r.status, 503);
        assert.equal(r.json.error.code, "model_unavailable");
        assert.match(r.json.error.message, /sha256 mismatch/);
      });
      await t.step("a 404 names the URL", async () => {
        const r = await postMatch(url, matchForm(png, png2, [[1, 1]], { model: "tiny-missing" }));
        assert.equal(r.status, 503);
        assert.match(r.json.error.message, /HTTP 404/);
        assert.match(r.json.error.message, /missing\.onnx/);
      });
      await t.step(
        "a token count that does not fit the grid is a clear contract error",
        async () => {
          const r = await postMatch(
            url,
            matchForm(png, png2, [[1, 1]], { model: "tiny-registers" }),
          );
          assert.equal(r.status, 422);
          assert.equal(r.json.error.code, "model_contract_violation");
          assert.match(r.json.error.message, /257 tokens, expected 5 prefix \+ 16x16 patches/);
        },
      );
      await t.step("wrong output names are a clear contract error", async () => {
        const r = await postMatch(url, matchForm(png, png2, [[1, 1]], { model: "tiny-wrong-io" }));
        assert.equal(r.status, 422);
        assert.equal(r.json.error.code, "model_contract_violation");
        assert.match(r.json.error.message, /last_hidden_state/);
      });
    });
    const files: string[] = [];
    for await (const e of Deno.readDir(cache)) {
      for await (const f of Deno.readDir(`${cache}/${e.name}`)) files.push(f.name);
    }
    assert.deepEqual(files.sort(), ["tiny.onnx", "tiny.onnx.json"]);

    await http.close();
    await t.step("the second start uses the cache and no network", async () => {
      await withService({ ...env, MODEL_OFFLINE: "1" }, async (url) => {
        const r = await postMatch(url, matchForm(png, png2, [[120, 80]], { model: "tiny-vit" }));
        assert.equal(r.status, 200, JSON.stringify(r.json));
        const missing = await postMatch(
          url,
          matchForm(png, png2, [[1, 1]], { model: "tiny-missing" }),
        );
        assert.equal(missing.status, 503);
        assert.match(missing.json.error.message, /MODEL_OFFLINE/);
      });
    });
  } finally {
    await http.close().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
