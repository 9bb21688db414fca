import assert from "node:assert/strict";
import { withService } from "./_service.ts";
import { PckAccumulator, type PckSums } from "../../core/pck.ts";
import { mergeReports } from "../../evaluation/merge_reports.ts";
import type { EvaluationReport } from "../../evaluation/report.ts";

const WILLOW_ROOT = new URL("../../../shared/data/pf-willow", import.meta.url).pathname;

// deno-lint-ignore no-explicit-any
async function evaluate(url: string, body: unknown, accept?: string): Promise<any> {
  const res = await fetch(`${url}/v1/evaluate`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(accept ? { accept } : {}) },
    body: JSON.stringify(body),
  });
  if (accept) return { status: res.status, text: await res.text() };
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  return json;
}

/** An independent PCK: straight loops over the returned predictions. */
function rescore(
  predictions: { pair_id: string; pred: [number, number][] }[],
  truth: Map<string, { kps: number[][]; threshold: number; category: string }>,
  alpha: number,
) {
  let perImage = 0;
  let correct = 0;
  let points = 0;
  for (const p of predictions) {
    const t = truth.get(p.pair_id)!;
    let c = 0;
    p.pred.forEach(([x, y], i) => {
      if (Math.hypot(x - t.kps[i][0], y - t.kps[i][1]) <= alpha * t.threshold) c++;
    });
    perImage += c / p.pred.length;
    correct += c;
    points += p.pred.length;
  }
  return { perImage: perImage / predictions.length, perPoint: correct / points };
}

Deno.test("POST /v1/evaluate scores all 540 PF-WILLOW pairs, re-scorable from its predictions", async () => {
  await withService({ WORKERS: "2", DATA_PFWILLOW: WILLOW_ROOT }, async (url) => {
    const r = await evaluate(url, {
      dataset: "pfwillow",
      frame: "both",
      return_predictions: true,
    });
    assert.equal(r.n_pairs, 540);
    assert.equal(r.n_points, 5400);
    assert.equal(r.frame, "both");
    assert.equal(r.thres_type, "bbox-kp");
    assert.deepEqual(r.alphas, ["0.01", "0.05", "0.1", "0.15"]);
    // The learned default (see README "Learned models").
    assert.equal(r.model, "mnv3-nanodet-coco");
    assert.equal(r.resolution, 384);
    assert.equal(r.resize, "stretch");
    assert.equal(r.localizer.method, "kernel-softargmax");
    // Each image's features are computed once: 60 images, 540 pairs.
    assert.deepEqual(r.counters, {
      pairs: 540,
      distinct_images: 60,
      extractions: 60,
      matches: 540,
    });
    assert.equal(r.predictions.length, 540);
    assert.equal(r.predictions[0].source, "PF-dataset/car(G)/Cars_006a.png");

    // The ground truth as the service lists it, re-scored here with plain loops.
    const listing = await (await fetch(`${url}/v1/datasets/pfwillow/pairs?resolution=384`)).json();
    for (const frame of ["original", "official"] as const) {
      const truth = new Map();
      for (const p of listing.pairs) {
        const f = p.frames[frame];
        truth.set(p.pair_id, { kps: f.target_kps, threshold: f.threshold, category: p.category });
      }
      const preds = frame === "original" ? r.predictions : r.predictions.map(
        (p: { pair_id: string; pred: [number, number][] }) => {
          const size = listing.pairs.find((q: { pair_id: string }) => q.pair_id === p.pair_id)
            .target_size;
          return {
            ...p,
            pred: p.pred.map(([x, y]) => [x * 383 / (size.width - 1), y * 383 / (size.height - 1)]),
          };
        },
      );
      for (const alpha of [0.05, 0.1, 0.15]) {
        const mine = rescore(preds, truth, alpha);
        const key = String(alpha);
        assert.ok(
          Math.abs(mine.perImage - r.frames[frame].per_image.all[key]) < 1e-6,
          `${frame} ${key}`,
        );
        assert.ok(
          Math.abs(mine.perPoint - r.frames[frame].per_point.all[key]) < 1e-6,
          `${frame} ${key}`,
        );
      }
    }
    // Issue 13's bar for the learned default: PCK@0.1 >= 0.55 in original pixels (0.636 measured under the official defaults).
    assert.ok(
      r.frames.original.per_image.all["0.1"] >= 0.55,
      JSON.stringify(r.frames.original.per_image.all),
    );
  });
});

Deno.test("POST /v1/evaluate in 3 shards merges exactly into the unsharded result", async () => {
  await withService({ DATA_PFWILLOW: WILLOW_ROOT }, async (url) => {
    const base = { dataset: "pfwillow", categories: ["car(G)", "winebottle(M)"], frame: "both" };
    const whole = await evaluate(url, base);
    const parts: EvaluationReport[] = [];
    for (let shard = 0; shard < 3; shard++) {
      const part = await evaluate(url, { ...base, shards: 3, shard });
      assert.equal(part.n_pairs, 60);
      assert.deepEqual(part.selection, { categories: base.categories, shards: 3, shard });
      parts.push(part);
    }
    assert.equal(whole.n_pairs, 180);
    assert.equal(whole.counters.extractions, 20);
    // Merged from raw sums, in any order, the shards give the unsharded numbers exactly.
    for (const order of [[0, 1, 2], [2, 0, 1]]) {
      const merged = mergeReports(order.map((i) => parts[i]));
      assert.deepEqual(merged.frames, whole.frames);
      assert.deepEqual(merged.sums, whole.sums);
      assert.equal(merged.n_points, whole.n_points);
    }
    // And so do the accumulators a client would use on the raw sums.
    for (const frame of ["official", "original"] as const) {
      const acc = PckAccumulator.fromJSON(parts[0].sums[frame] as PckSums);
      acc.merge(parts[1].sums[frame]!).merge(parts[2].sums[frame]!);
      assert.deepEqual(acc.summary().per_image, whole.frames[frame].per_image);
    }
  });
});

Deno.test("POST /v1/evaluate streams ndjson and SSE progress, then the result", async () => {
  await withService({ DATA_PFWILLOW: WILLOW_ROOT }, async (url) => {
    const body = { dataset: "pfwillow", limit: 4 };
    const nd = await evaluate(url, body, "application/x-ndjson");
    assert.equal(nd.status, 200);
    const events = nd.text.trim().split("\n").map((l: string) => JSON.parse(l));
    assert.deepEqual(events.slice(0, 4).map((e: { done: number }) => e.done), [1, 2, 3, 4]);
    assert.ok(
      events.slice(0, 4).every((e: { type: string; total: number }) =>
        e.type === "progress" && e.total === 4
      ),
    );
    assert.equal(events[4].type, "result");
    assert.equal(events[4].result.n_pairs, 4);

    const sse = await evaluate(url, body, "text/event-stream");
    assert.equal(sse.status, 200);
    assert.equal((sse.text.match(/event: progress/g) ?? []).length, 4);
    assert.match(sse.text, /event: result\ndata: \{"dataset":"pfwillow"/);
  });
});

Deno.test("POST /v1/evaluate reports missing data and bad requests with stable codes", async () => {
  await withService({ DATA_SPAIR: "/nonexistent/spair" }, async (url) => {
    const post = (body: unknown) =>
      fetch(`${url}/v1/evaluate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const missing = await post({ dataset: "spair" });
    assert.equal(missing.status, 404);
    const m = await missing.json();
    assert.equal(m.error.code, "dataset_not_found");
    // Named relative to the root: the root is a server path clients do not see.
    assert.match(m.error.message, /Layout\/large\/test\.txt/);
    assert.doesNotMatch(JSON.stringify(m), /nonexistent/);
    const bad = await post({ dataset: "pfwillow", alphas: [2] });
    assert.equal(bad.status, 422);
    assert.equal((await bad.json()).error.code, "invalid_request");
    const split = await post({ dataset: "pfwillow", split: "trn" });
    assert.equal(split.status, 404);
    assert.equal((await split.json()).error.code, "dataset_not_found");
  });
});
