import assert from "node:assert/strict";
import { withService } from "./_service.ts";
import { startChildService } from "../service/_child_service.ts";

const WILLOW_ROOT = new URL("../../../shared/data/pf-willow", import.meta.url).pathname;
const KEY = "test-key-0123456789";

function evaluate(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v1/evaluate`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ dataset: "pfwillow", limit: 1 }),
  });
}

Deno.test("with API_KEYS set, /v1 routes need a bearer key and /healthz does not", async (t) => {
  const keysFile = await Deno.makeTempFile();
  await Deno.writeTextFile(keysFile, "# a second key, from the file\nfile-key-0123456789\n");
  try {
    await withService(
      { API_KEYS: KEY, API_KEYS_FILE: keysFile, DATA_PFWILLOW: WILLOW_ROOT },
      async (url) => {
        await t.step("no key: 401 unauthorized with WWW-Authenticate", async () => {
          const res = await evaluate(url);
          assert.equal(res.status, 401);
          assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer realm="semcorr"/);
          assert.equal((await res.json()).error.code, "unauthorized");
        });
        await t.step("a wrong key: 401", async () => {
          const res = await evaluate(url, { authorization: "Bearer wrong-key-0123456789" });
          assert.equal(res.status, 401);
          await res.body?.cancel();
        });
        await t.step("the key of API_KEYS, or of API_KEYS_FILE: 200", async () => {
          for (const key of [KEY, "file-key-0123456789"]) {
            const res = await evaluate(url, { authorization: `Bearer ${key}` });
            const body = await res.json();
            assert.equal(res.status, 200, JSON.stringify(body));
            assert.equal(body.n_pairs, 1);
          }
        });
        await t.step("/healthz and /readyz need none", async () => {
          for (const path of ["/healthz", "/readyz"]) {
            const res = await fetch(`${url}${path}`);
            assert.equal(res.status, 200);
            await res.body?.cancel();
          }
        });
        await t.step("listings stay closed unless OPEN_LISTINGS=1", async () => {
          const res = await fetch(`${url}/v1/models`);
          assert.equal(res.status, 401);
          await res.body?.cancel();
        });
      },
    );
    await withService({ API_KEYS: KEY, OPEN_LISTINGS: "1" }, async (url) => {
      await t.step("OPEN_LISTINGS=1: GET listings open, the rest still closed", async () => {
        const models = await fetch(`${url}/v1/models`);
        assert.equal(models.status, 200);
        await models.body?.cancel();
        const res = await evaluate(url);
        assert.equal(res.status, 401);
        await res.body?.cancel();
      });
    });
  } finally {
    await Deno.remove(keysFile);
  }
});

Deno.test("a burst over the rate limit is answered 429 with Retry-After", async () => {
  await withService({ RATE_LIMIT: "2", RATE_BURST: "5" }, async (url) => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => fetch(`${url}/v1/models`)),
    );
    const limited = answers.filter((r) => r.status === 429);
    const ok = answers.filter((r) => r.status === 200);
    assert.ok(ok.length >= 5 && ok.length <= 6, `${ok.length} answered 200`);
    assert.equal(limited.length + ok.length, 12);
    const body = await limited[0].json();
    assert.equal(body.error.code, "rate_limited");
    assert.ok(Number(limited[0].headers.get("retry-after")) >= 1);
    await Promise.all(answers.filter((r) => !r.bodyUsed).map((r) => r.body?.cancel()));
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200, "the limit applies to /v1 routes only");
    await health.body?.cancel();
  });
});

Deno.test("a service without keys on a non-loopback address says so at start", async () => {
  const child = await startChildService({ env: { HOST: "0.0.0.0", WORKERS: "1" } });
  try {
    await child.waitFor(/without API_KEYS/);
    assert.match(child.stdout, /Warning: listening on 0\.0\.0\.0 without API_KEYS/);
    // The wildcard bind is named as it is, with a loopback URL for this machine.
    assert.match(await child.url(), /^http:\/\/127\.0\.0\.1:\d+$/);
  } finally {
    await child.close();
  }
});
