/**
 * With default options, `GET /v1/datasets/{name}/pairs` and `POST
 * /v1/evaluate` follow the official protocol (Visual-AI/Semantic-
 * Correspondence, `test.py` and `dataset/*.py`) on synthetic trees in the
 * original layouts: pair set and order, keypoint counts and values,
 * thresholds in both frames; and predictions re-scored here, by loops that
 * restate the official code, give the reported PCK.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  AP10K_ANIMALS,
  AP10K_TREE_PAIRS,
  PASCAL_IMAGES,
  PASCAL_TEST,
  SPAIR_PAIRS,
  WILLOW_CLASS,
  WILLOW_IMAGES,
  WILLOW_PAIRS,
  writeProtocolTrees,
} from "../fixtures/protocol_trees.ts";
import { withService } from "../routes/_service.ts";
import { CAN_WRITE } from "../datasets/_data.ts";

/** The square side S of the official frame in these tests (dsift's smallest input). */
const S = 64;
const EPS = 1e-4;
const ALPHAS = [0.05, 0.1, 0.15];

type Point = [number, number];

/** What the official code scores for one pair. */
interface OfficialPair {
  pair_id: string;
  category: string;
  target: { width: number; height: number };
  /** Source and target keypoints as the loader keeps them (original pixels). */
  src: Point[];
  trg: Point[];
  /** Threshold in original pixels (the GeoAware-SC/DIFT frame). */
  originalThreshold: number;
  /** Box `[x0, y0, x1, y1]` in original pixels for `bbox` thresholds; null for `img`. */
  box: number[] | null;
  source: { width: number; height: number };
}

const floor32 = (v: number) => Math.floor(Math.fround(v));
const box = (pts: Point[]) => [
  Math.min(...pts.map((p) => p[0])),
  Math.min(...pts.map((p) => p[1])),
  Math.max(...pts.map((p) => p[0])),
  Math.max(...pts.map((p) => p[1])),
];
const side = (b: number[]) => Math.max(b[2] - b[0], b[3] - b[1]);

/** `scaling_coordinates(..., mode="align_corner")`: x / (W - 1) * (S - 1). */
function toSquare(p: Point, size: { width: number; height: number }): Point {
  return [p[0] / (size.width - 1) * (S - 1), p[1] / (size.height - 1) * (S - 1)];
}

/** `regularize_coordinates(..., eps=1e-4)`. */
function clamp(p: Point): Point {
  const c = (v: number) => Math.min(Math.max(v, EPS), S - 1 - EPS);
  return [c(p[0]), c(p[1])];
}

/** The official frame's threshold: `img` is S, `bbox` the box mapped into the square. */
function officialThreshold(pair: OfficialPair): number {
  if (pair.box === null) return S;
  const [x0, y0] = toSquare([pair.box[0], pair.box[1]], pair.target);
  const [x1, y1] = toSquare([pair.box[2], pair.box[3]], pair.target);
  return Math.max(x1 - x0, y1 - y0);
}

/** `dataset/pfwillow.py`: the csv rows in order, keypoints floored, the box of the floored target points. */
function officialWillow(): OfficialPair[] {
  return WILLOW_PAIRS.map(([s, t]) => {
    const a = WILLOW_IMAGES[s], b = WILLOW_IMAGES[t];
    const src = a.kps.map((p): Point => [floor32(p[0]), floor32(p[1])]);
    const trg = b.kps.map((p): Point => [floor32(p[0]), floor32(p[1])]);
    return {
      pair_id: `${WILLOW_CLASS}/${s}-${t}`,
      category: WILLOW_CLASS,
      source: a,
      target: b,
      src,
      trg,
      box: box(trg),
      originalThreshold: side(box(trg)),
    };
  });
}

/** `dataset/pfpascal.py`: `.mat` rows finite in both, floored, first 20; else the list's points. */
function officialPascal(): OfficialPair[] {
  return PASCAL_TEST.map((row) => {
    const a = PASCAL_IMAGES[row.source], b = PASCAL_IMAGES[row.target];
    let src: Point[], trg: Point[];
    if (a.kps && b.kps) {
      const keep = a.kps.flatMap((p, i) =>
        [...p, ...b.kps![i]].every((v) => Number.isFinite(v)) ? [i] : []
      );
      src = keep.map((i) => a.kps![i]);
      trg = keep.map((i) => b.kps![i]);
    } else {
      [src, trg] = row.inline;
    }
    const fl = (pts: Point[]) => pts.slice(0, 20).map((p): Point => [floor32(p[0]), floor32(p[1])]);
    return {
      pair_id: `${a.cls}/${row.source}-${row.target}`,
      category: a.cls,
      source: a,
      target: b,
      src: fl(src),
      trg: fl(trg),
      box: null,
      originalThreshold: Math.max(b.width, b.height),
    };
  });
}

/** The official 47 species' order for the species of the tree. */
const SPECIES_ORDER = ["antelope", "cat"];

/** `dataset/ap10k.py`: per species in the official order, sorted files, visibility 2 in both. */
function officialAp10k(): OfficialPair[] {
  const out: OfficialPair[] = [];
  for (const species of SPECIES_ORDER) {
    const files = AP10K_TREE_PAIRS.test.filter((id) => id.endsWith(`:${species}`))
      .sort((x, y) => `${x}.json` < `${y}.json` ? -1 : 1);
    for (const id of files) {
      const [s, t] = id.slice(0, id.indexOf(":")).split("-");
      const a = AP10K_ANIMALS[s], b = AP10K_ANIMALS[t];
      const keep = a.keypoints.flatMap((k, i) => k[2] === 2 && b.keypoints[i][2] === 2 ? [i] : []);
      const [x, y, w, h] = b.bbox;
      out.push({
        pair_id: id,
        category: species,
        source: a,
        target: b,
        src: keep.map((i): Point => [a.keypoints[i][0], a.keypoints[i][1]]),
        trg: keep.map((i): Point => [b.keypoints[i][0], b.keypoints[i][1]]),
        box: [x, y, x + w, y + h],
        originalThreshold: Math.max(w, h),
      });
    }
  }
  return out;
}

/** `dataset/spair.py`: the layout's lines in order, keypoints as stored, the first 20. */
function officialSpair(): OfficialPair[] {
  return SPAIR_PAIRS.map((p) => ({
    pair_id: p.id,
    category: p.category,
    source: p.source,
    target: p.target,
    src: p.src_kps.slice(0, 20),
    trg: p.trg_kps.slice(0, 20),
    box: p.target.bbox,
    originalThreshold: side(p.target.bbox),
  }));
}

/** `utils/evaluator.py` `calculate_pck` (by image, `<=`), plus per-point, over given predictions. */
function rescore(
  pairs: OfficialPair[],
  predictions: Map<string, Point[]>,
  frame: "official" | "original",
): { perImage: Record<string, number>; perPoint: Record<string, number> } {
  const perImage: Record<string, number> = {}, perPoint: Record<string, number> = {};
  for (const alpha of ALPHAS) {
    let images = 0, correct = 0, points = 0;
    for (const pair of pairs) {
      const pred = predictions.get(pair.pair_id)!;
      const thr = frame === "official" ? officialThreshold(pair) : pair.originalThreshold;
      let c = 0;
      pair.trg.forEach((t, i) => {
        const [tx, ty] = frame === "official" ? clamp(toSquare(t, pair.target)) : t;
        const [px, py] = frame === "official" ? toSquare(pred[i], pair.target) : pred[i];
        if (Math.hypot(px - tx, py - ty) <= alpha * thr) c++;
      });
      images += c / pair.trg.length;
      correct += c;
      points += pair.trg.length;
    }
    perImage[String(alpha)] = images / pairs.length;
    perPoint[String(alpha)] = correct / points;
  }
  return { perImage, perPoint };
}

// deno-lint-ignore no-explicit-any
async function getJson(url: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url);
  return { status: res.status, json: await res.json() };
}

// deno-lint-ignore no-explicit-any
async function postJson(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

function near(actual: number, expected: number, what: string, tolerance = 1e-4): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);
}

/** Checks one dataset's listing against the official pairs, point by point. */
// deno-lint-ignore no-explicit-any
function checkListing(listing: any, expected: OfficialPair[]): void {
  assert.deepEqual(
    // deno-lint-ignore no-explicit-any
    listing.pairs.map((p: any) => [p.pair_id, p.category]),
    expected.map((p) => [p.pair_id, p.category]),
  );
  assert.deepEqual(listing.non_official, []);
  listing.pairs.forEach((
    // deno-lint-ignore no-explicit-any
    p: any,
    i: number,
  ) => {
    const e = expected[i];
    const id = e.pair_id;
    assert.deepEqual(p.source_kps, e.src, `${id} source`);
    assert.deepEqual(p.target_kps, e.trg, `${id} target`);
    near(p.frames.original.threshold, e.originalThreshold, `${id} original threshold`);
    near(p.frames.official.threshold, officialThreshold(e), `${id} official threshold`);
    assert.equal(p.frames.official.size, S);
    e.trg.forEach((t, k) => {
      const [x, y] = clamp(toSquare(t, e.target));
      near(p.frames.official.target_kps[k][0], x, `${id} official x ${k}`);
      near(p.frames.official.target_kps[k][1], y, `${id} official y ${k}`);
    });
    // The query points, mapped into the square, are the official clamped source points.
    e.src.forEach((s, k) => {
      const [x, y] = clamp(toSquare(s, e.source));
      const [qx, qy] = toSquare(p.query[k], e.source);
      near(qx, x, `${id} query x ${k}`);
      near(qy, y, `${id} query y ${k}`);
    });
  });
}

Deno.test({
  name:
    "with default options, pairs and evaluations follow the official protocol on trees in the original layouts",
  ignore: !CAN_WRITE,
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "official_protocol_test_" });
    try {
      const trees = await writeProtocolTrees(dir);
      const env = {
        DATA_PFWILLOW: trees.pfwillow,
        DATA_PFPASCAL: trees.pfpascal,
        DATA_AP10K: trees.ap10k,
        DATA_SPAIR: trees.spair,
      };
      const official: Record<string, OfficialPair[]> = {
        pfwillow: officialWillow(),
        pfpascal: officialPascal(),
        ap10k: officialAp10k(),
        spair: officialSpair(),
      };
      await withService(env, async (url) => {
        for (const [dataset, expected] of Object.entries(official)) {
          await t.step(`${dataset}: the listing is the official pair list`, async () => {
            const r = await getJson(`${url}/v1/datasets/${dataset}/pairs?resolution=${S}`);
            assert.equal(r.status, 200, JSON.stringify(r.json));
            checkListing(r.json, expected);
          });
          await t.step(`${dataset}: predictions re-scored give the reported PCK`, async () => {
            const r = await postJson(`${url}/v1/evaluate`, {
              dataset,
              resolution: S,
              frame: "both",
              alphas: ALPHAS,
              return_predictions: true,
            });
            assert.equal(r.status, 200, JSON.stringify(r.json));
            assert.equal(r.json.n_pairs, expected.length);
            assert.equal(r.json.n_points, expected.reduce((n, p) => n + p.trg.length, 0));
            assert.deepEqual(r.json.non_official, []);
            const predictions = new Map<string, Point[]>(
              r.json.predictions.map((
                p: { pair_id: string; pred: Point[] },
              ) => [p.pair_id, p.pred]),
            );
            for (const frame of ["official", "original"] as const) {
              const mine = rescore(expected, predictions, frame);
              const block = r.json.frames[frame];
              for (const alpha of ALPHAS.map(String)) {
                near(block.per_image.all[alpha], mine.perImage[alpha], `${frame} @${alpha}`, 1e-6);
                near(block.per_point.all[alpha], mine.perPoint[alpha], `${frame} @${alpha}`, 1e-6);
              }
            }
          });
        }

        await t.step("PF-PASCAL: the root-level trn list, by either name", async () => {
          for (const split of ["trn", "train"]) {
            const r = await getJson(`${url}/v1/datasets/pfpascal/pairs?split=${split}`);
            assert.equal(r.status, 200, JSON.stringify(r.json));
            assert.equal(r.json.pair_file, "trn_pairs.csv");
            assert.deepEqual(
              r.json.pairs.map((p: { pair_id: string }) => p.pair_id),
              ["cat/p1-p2", "dog/p5-p4"],
            );
            assert.equal(r.json.pairs[0].source_kps.length, 20);
          }
        });

        await t.step("AP-10K: sample draws per species with numpy's seed 42", async () => {
          const r = await getJson(`${url}/v1/datasets/ap10k/pairs?sample=3`);
          assert.equal(r.status, 200, JSON.stringify(r.json));
          assert.equal(r.json.dataset_options.sample, 3);
          // np.random.seed(42); np.random.choice(2, 3) -> [0, 1, 0]; choice(3, 3) -> [2, 0, 2].
          const ant = AP10K_TREE_PAIRS.test.filter((id) => id.endsWith(":antelope"));
          const cat = AP10K_TREE_PAIRS.test.filter((id) => id.endsWith(":cat"));
          assert.deepEqual(r.json.pairs.map((p: { pair_id: string }) => p.pair_id), [
            ant[0],
            ant[1],
            `${ant[0]}#2`,
            cat[2],
            cat[0],
            `${cat[2]}#2`,
          ]);
          assert.deepEqual(r.json.non_official, [{ option: "sample", value: 3, official: 0 }]);
        });

        await t.step("non-official options are named in every result", async () => {
          const all = await getJson(
            `${url}/v1/datasets/ap10k/pairs?species=all&visibility=labelled`,
          );
          assert.equal(all.status, 200, JSON.stringify(all.json));
          assert.ok(all.json.pairs.some((p: { category: string }) => p.category === "dragon"));
          assert.deepEqual(all.json.non_official.map((d: { option: string }) => d.option), [
            "visibility",
            "species",
          ]);
          const r = await postJson(`${url}/v1/evaluate`, {
            dataset: "pfwillow",
            resolution: S,
            keypoints: "raw",
            resample: "pil",
            resize: "letterbox",
            frame: "original",
            comparison: "<",
          });
          assert.equal(r.status, 200, JSON.stringify(r.json));
          assert.deepEqual(r.json.dataset_options, { keypoints: "raw", max_keypoints: 20 });
          assert.deepEqual(r.json.non_official, [
            { option: "keypoints", value: "raw", official: "floor" },
            { option: "resize", value: "letterbox", official: "stretch" },
            { option: "resample", value: "pil", official: "torch" },
            { option: "frame", value: "original", official: "official" },
            { option: "comparison", value: "<", official: "<=" },
          ]);
          assert.equal(r.json.resample, "pil");
        });

        await t.step("an option that does not apply to the dataset is a 422", async () => {
          for (
            const [dataset, query] of [
              ["spair", "keypoints=raw"],
              ["pfwillow", "visibility=labelled"],
              ["pfpascal", "sample=2"],
              ["ap10k", "split=test_cross_family&species=official"],
            ]
          ) {
            const r = await getJson(`${url}/v1/datasets/${dataset}/pairs?${query}`);
            assert.equal(r.status, 422, `${dataset} ${query}`);
            assert.equal(r.json.error.code, "invalid_request");
            const e = await postJson(`${url}/v1/evaluate`, {
              dataset,
              ...Object.fromEntries(new URLSearchParams(query)),
            });
            assert.equal(e.status, 422, `${dataset} ${query}`);
          }
        });

        await t.step("AP-10K: a cross split reads its categories as they are", async () => {
          const r = await getJson(`${url}/v1/datasets/ap10k/pairs?split=test_cross_family`);
          assert.equal(r.status, 200, JSON.stringify(r.json));
          assert.deepEqual(r.json.pairs.map((p: { category: string }) => p.category), ["all"]);
          assert.deepEqual(r.json.non_official, [
            { option: "split", value: "test_cross_family", official: "trn, val or test" },
          ]);
        });
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
