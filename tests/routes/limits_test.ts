import assert from "node:assert/strict";
import { postMatch, willowImage, withService } from "./_service.ts";
import { MAX_ISSUES } from "../../routes/_validate.ts";
import { pngWithClaimedSize } from "../fixtures/images.ts";

const WILLOW_ROOT = new URL("../../../shared/data/pf-willow", import.meta.url).pathname;

function postJson(url: string, path: string, body: string, type = "application/json") {
  return fetch(`${url}${path}`, { method: "POST", headers: { "content-type": type }, body });
}

Deno.test("every request's cost is bounded before it is paid", async (t) => {
  const png = await willowImage("car(G)/Cars_006a.png");
  const b64 = btoa(Array.from(png, (c) => String.fromCharCode(c)).join(""));
  await withService({ DATA_PFWILLOW: WILLOW_ROOT, RATE_LIMIT: "0" }, async (url) => {
    await t.step("a 50 MB /v1/evaluate body: 413 payload_too_large", async () => {
      const body = JSON.stringify({ dataset: "pfwillow", padding: "x".repeat(50_000_000) });
      const res = await postJson(url, "/v1/evaluate", body);
      assert.equal(res.status, 413);
      assert.equal((await res.json()).error.code, "payload_too_large");
    });
    await t.step(
      "a 36 MP 16-bit RGB PNG (a tiny file, a big header): 413 image_too_large",
      async () => {
        const big = await pngWithClaimedSize(7360, 4912, 16, 2);
        const form = new FormData();
        form.set("source", new Blob([big as BlobPart]), "big.png");
        form.set("target", new Blob([png as BlobPart]), "b.png");
        form.set("points", "[[1,1]]");
        const r = await postMatch(url, form);
        assert.equal(r.status, 413, JSON.stringify(r.json));
        assert.equal(r.json.error.code, "image_too_large");
        assert.equal(r.json.error.details.unit, "decoded_bytes");
      },
    );
    await t.step("/v1/evaluate without a JSON content type: 415", async () => {
      const res = await postJson(url, "/v1/evaluate", '{"dataset":"pfwillow"}', "text/plain");
      assert.equal(res.status, 415);
      assert.equal((await res.json()).error.code, "unsupported_media_type");
    });
    await t.step("a 300,000-item invalid array: 4xx, body under 64 KB", async () => {
      const ids = JSON.stringify(Array.from({ length: 300_000 }, (_, i) => i));
      const res = await postJson(url, "/v1/evaluate", `{"dataset":"pfwillow","pair_ids":${ids}}`);
      const text = await res.text();
      assert.equal(res.status, 422);
      assert.ok(text.length < 64 * 1024, `${text.length} bytes`);
      assert.match(JSON.parse(text).error.message, /over the limit of 100000/);
    });
    await t.step("a 90,000-item invalid array: at most 20 issues and their count", async () => {
      const ids = JSON.stringify(Array.from({ length: 90_000 }, (_, i) => i));
      const res = await postJson(url, "/v1/evaluate", `{"dataset":"pfwillow","pair_ids":${ids}}`);
      const text = await res.text();
      assert.equal(res.status, 422);
      assert.ok(text.length < 64 * 1024, `${text.length} bytes`);
      const { details } = JSON.parse(text).error;
      assert.equal(details.issues.length, MAX_ISSUES);
      assert.equal(details.issue_count, 90_000);
      assert.deepEqual(details.issues[0].path, ["pair_ids", 0]);
    });
    await t.step("nesting deeper than 32 levels: 422 without recursion", async () => {
      const deep = "[".repeat(100_000) + "]".repeat(100_000);
      const res = await postJson(
        url,
        "/v1/evaluate",
        `{"dataset":"pfwillow","categories":${deep}}`,
      );
      assert.equal(res.status, 422);
      assert.match((await res.json()).error.message, /nested deeper than 32 levels/);
    });
    await t.step("invalid points are reported at points[i]", async () => {
      const body = JSON.stringify({ source: b64, target: b64, points: [[1, 2], [3]] });
      const r = await postMatch(url, body, { "content-type": "application/json" });
      assert.equal(r.status, 422);
      assert.match(r.json.error.message, /at `points\[1\]`/);
      assert.deepEqual(r.json.error.details.issues[0].path.slice(0, 2), ["points", 1]);
    });
    await t.step("sigma 1e-300: finite coordinates", async () => {
      const body = JSON.stringify({
        source: b64,
        target: b64,
        points: [[150, 100]],
        sigma: 1e-300,
      });
      const r = await postMatch(url, body, { "content-type": "application/json" });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.ok(Number.isFinite(r.json.matches[0].x) && Number.isFinite(r.json.matches[0].y));
    });
  });
});

Deno.test("saved runs are capped in count (507 runs_quota_exceeded past RUNS_MAX)", async () => {
  const runsDir = await Deno.makeTempDir();
  try {
    await withService(
      { DATA_PFWILLOW: WILLOW_ROOT, RUNS_DIR: runsDir, RUNS_MAX: "1", RATE_LIMIT: "0" },
      async (url) => {
        const body = JSON.stringify({ dataset: "pfwillow", limit: 1, save_run: true });
        const first = await postJson(url, "/v1/evaluate", body);
        assert.equal(first.status, 200);
        assert.match((await first.json()).saved_as, /^pfwillow-test-/);
        const second = await postJson(url, "/v1/evaluate", body);
        assert.equal(second.status, 507);
        const error = (await second.json()).error;
        assert.equal(error.code, "runs_quota_exceeded");
        assert.equal(error.details.max_runs, 1);
        const board = await (await fetch(`${url}/v1/leaderboard?runs_limit=1`)).json();
        assert.deepEqual(board.runs_page, { offset: 0, limit: 1, total: 1 });
      },
    );
  } finally {
    await Deno.remove(runsDir, { recursive: true });
  }
});
