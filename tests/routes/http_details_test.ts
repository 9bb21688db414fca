import assert from "node:assert/strict";
import { matchForm, postMatch, willowImage, withService } from "./_service.ts";

Deno.test("HTTP details: 405 with Allow, one model by id, rounded coordinates, CORS preflight", async (t) => {
  const png = await willowImage("car(G)/Cars_006a.png");
  await withService({ DEFAULT_MODEL: "dsift" }, async (url) => {
    await t.step("GET /v1/match: 405 method_not_allowed with Allow: POST", async () => {
      const res = await fetch(`${url}/v1/match`);
      assert.equal(res.status, 405);
      assert.equal(res.headers.get("allow"), "POST");
      const body = await res.json();
      assert.equal(body.error.code, "method_not_allowed");
      assert.deepEqual(body.error.details.allow, ["POST"]);
    });
    await t.step("an unknown path stays 404", async () => {
      const res = await fetch(`${url}/v1/nothing/here`);
      assert.equal(res.status, 404);
      await res.body?.cancel();
    });
    await t.step("GET /v1/models/{id}: the model, or 404 unknown_model", async () => {
      const res = await fetch(`${url}/v1/models/dsift`);
      assert.equal(res.status, 200);
      const model = await res.json();
      assert.equal(model.id, "dsift");
      assert.equal(model.patch_size, 8);
      const missing = await fetch(`${url}/v1/models/dinov9`);
      assert.equal(missing.status, 404);
      assert.equal((await missing.json()).error.code, "unknown_model");
    });
    await t.step("match coordinates have at most 3 decimals, scores 4", async () => {
      const r = await postMatch(url, matchForm(png, png, [[120.4, 80.2], [33, 57]]));
      assert.equal(r.status, 200, JSON.stringify(r.json));
      for (const m of r.json.matches) {
        assert.equal(Math.round(m.x * 1000) / 1000, m.x);
        assert.equal(Math.round(m.y * 1000) / 1000, m.y);
        assert.equal(Math.round(m.score * 10000) / 10000, m.score);
      }
    });
    await t.step(
      "a CORS preflight is answered without a key, for any origin by default",
      async () => {
        const res = await fetch(`${url}/v1/match`, {
          method: "OPTIONS",
          headers: {
            origin: "http://elsewhere.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
          },
        });
        assert.equal(res.status, 204);
        assert.equal(res.headers.get("access-control-allow-origin"), "*");
        assert.match(res.headers.get("access-control-allow-methods") ?? "", /POST/);
        await res.body?.cancel();
      },
    );
  });
});

Deno.test("the access log writes one JSON line per request, with the model", async () => {
  const png = await willowImage("car(G)/Cars_006a.png");
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => {
    if (typeof args[0] === "string" && args[0].startsWith("{")) lines.push(args[0]);
    else original(...args);
  };
  try {
    await withService({ DEFAULT_MODEL: "dsift", ACCESS_LOG: "1" }, async (url) => {
      const r = await postMatch(url, matchForm(png, png, [[10, 10]]));
      assert.equal(r.status, 200);
      await (await fetch(`${url}/healthz`)).body?.cancel();
    });
  } finally {
    console.log = original;
  }
  const entries = lines.map((l) => JSON.parse(l));
  const match = entries.find((e) => e.path === "/v1/match");
  assert.ok(match, lines.join("\n"));
  assert.equal(match.method, "POST");
  assert.equal(match.status, 200);
  assert.equal(match.model, "dsift");
  assert.equal(typeof match.ms, "number");
  assert.equal(typeof match.request_id, "string");
  assert.ok(entries.some((e) => e.path === "/healthz" && e.model === null));
});
