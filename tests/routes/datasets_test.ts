import assert from "node:assert/strict";
import { withService } from "./_service.ts";

const DATA = new URL("../../../shared/data/", import.meta.url).pathname;

Deno.test("GET /v1/datasets lists the datasets present, and GET /v1/datasets/{name}/pairs shows what is scored", async (t) => {
  const env = {
    DATA_PFWILLOW: `${DATA}pf-willow`,
    DATA_SPAIR: `${DATA}spair-71k/SPair-71k`,
    DATA_PFPASCAL: `${DATA}pf-pascal`,
    DATA_AP10K: "http://10.1.2.3/ap-10k",
  };
  await withService(env, async (url) => {
    await t.step(
      "listing: present datasets, counts, and a bad root reported, not fatal",
      async () => {
        const res = await fetch(`${url}/v1/datasets`);
        assert.equal(res.status, 200);
        const { datasets } = await res.json();
        const byId = Object.fromEntries(datasets.map((d: { id: string }) => [d.id, d]));
        assert.equal(byId.pfwillow.present, true);
        assert.equal(byId.pfwillow.splits.test.pairs, 540);
        assert.equal(byId.pfwillow.splits.test.thres_type, "bbox-kp");
        assert.equal(byId.pfwillow.splits.test.categories["car(G)"], 90);
        assert.equal(byId.spair.splits.test.available, true);
        assert.equal(byId.spair.splits.test.thres_type, "bbox");
        assert.equal(byId.spair.splits.trn.available, false);
        assert.equal(byId.ap10k.present, false);
        assert.match(byId.ap10k.reason, /DATA_AP10K/);
      },
    );
    await t.step("pairs: keypoints, sizes and thresholds in both frames", async () => {
      const all = await (await fetch(`${url}/v1/datasets/pfwillow/pairs?categories=car(M)`)).json();
      assert.equal(all.total, 90);
      // The selection options of /v1/evaluate select the same pairs here.
      const res = await fetch(
        `${url}/v1/datasets/pfwillow/pairs?categories=car(M)&offset=1&limit=2&resolution=224`,
      );
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.total, 2);
      assert.deepEqual(body.pairs.map((p: { pair_id: string }) => p.pair_id), [
        all.pairs[1].pair_id,
        all.pairs[2].pair_id,
      ]);
      assert.equal(body.official_frame_size, 224);
      assert.deepEqual(body.dataset_options, { keypoints: "floor", max_keypoints: 20 });
      assert.deepEqual(body.non_official, []);
      const p = body.pairs[0];
      assert.equal(p.category, "car(M)");
      assert.equal(p.source_kps.length, 10);
      const xs = p.target_kps.map((k: number[]) => k[0]);
      const ys = p.target_kps.map((k: number[]) => k[1]);
      const side = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
      assert.ok(Math.abs(p.frames.original.threshold - side) < 1e-4);
      const sx = 223 / (p.target_size.width - 1);
      assert.ok(Math.abs(p.frames.official.target_kps[0][0] - p.target_kps[0][0] * sx) < 1e-3);
    });
    await t.step("pairs: SPair difficulty flags and boxes come along", async () => {
      const body = await (await fetch(`${url}/v1/datasets/spair/pairs?limit=1`)).json();
      const p = body.pairs[0];
      assert.equal(body.thres_type, "bbox");
      assert.equal(p.target_bbox.length, 4);
      assert.ok("viewpoint_variation" in p.difficulty);
      assert.equal(
        p.frames.original.threshold,
        Math.max(p.target_bbox[2] - p.target_bbox[0], p.target_bbox[3] - p.target_bbox[1]),
      );
    });
    await t.step("pairs: an unknown dataset is a validation error", async () => {
      const res = await fetch(`${url}/v1/datasets/imagenet/pairs`);
      assert.equal(res.status, 422);
      assert.equal((await res.json()).error.code, "invalid_request");
    });
  });
});
