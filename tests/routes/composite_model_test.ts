import assert from "node:assert/strict";
import { BUILTIN_MODELS } from "../../models/registry.ts";
import { tinyVitDescriptor } from "../fixtures/models.ts";
import { createHash } from "node:crypto";
import { buildTinyVitGraph } from "../fixtures/tiny_vit_graph.ts";
import { BOTTLENECK_HEAD_IO, buildBottleneckHeadGraph } from "../fixtures/bottleneck_head_graph.ts";
import { buildMutualMatchingGraph, MUTUAL_MATCHING_IO } from "../fixtures/mutual_matching_graph.ts";
import { buildIdentityRefinerGraph } from "../fixtures/identity_refiner_graph.ts";
import { matchForm, postMatch, willowImage, withService } from "./_service.ts";

const WILLOW_ROOT = new URL("../../../shared/data/pf-willow", import.meta.url).pathname;

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Serves the given files on 127.0.0.1 and counts requests per path. */
function serveFiles(files: Record<string, Uint8Array>) {
  const requests = new Map<string, number>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const bytes = files[path.slice(1)];
    return bytes ? new Response(bytes as BlobPart) : new Response("not found", { status: 404 });
  });
  return {
    url: (name: string) => `http://127.0.0.1:${server.addr.port}/${name}`,
    requests: (name: string) => requests.get(`/${name}`) ?? 0,
    close: () => server.shutdown(),
  };
}

const FILES = {
  "tiny.onnx": buildTinyVitGraph({ seed: 7 }),
  "head.onnx": buildBottleneckHeadGraph({ channels: 128, outChannels: 64, seed: 1 }),
  "mutual.onnx": buildMutualMatchingGraph(),
  "identity.onnx": buildIdentityRefinerGraph(),
};

// The built-in dsift, capped at 512 px so the refined dense volumes stay small.
const DSIFT = { ...BUILTIN_MODELS.dsift, resolutions: { min: 64, max: 512 } };

function config(http: ReturnType<typeof serveFiles>) {
  const file = (name: keyof typeof FILES) => ({ url: http.url(name), sha256: sha256(FILES[name]) });
  const refiner = (name: "mutual.onnx" | "identity.onnx") => ({
    ...file(name),
    input: MUTUAL_MATCHING_IO.input,
    output: MUTUAL_MATCHING_IO.output,
  });
  const head = (featureDim: number) => ({
    ...file("head.onnx"),
    input: BOTTLENECK_HEAD_IO.input,
    output: BOTTLENECK_HEAD_IO.output,
    feature_dim: featureDim,
  });
  // The common grid is 224 / 14 = 16 cells by default: tiny-vit's own grid at
  // 224, and dsift's 256 / 8 = 32 cells resized to 16.
  const fused = (id: string, weights: [number, number]) => ({
    id,
    url: "composite:",
    components: [
      { model: "dsift", weight: weights[0], resolution: 256 },
      { model: "tiny-vit", weight: weights[1] },
    ],
    patch_size: 14,
    feature_dim: 128 + 32,
    default_resolution: 224,
    resolutions: { min: 112, max: 448 },
  });
  return [
    { ...tinyVitDescriptor("tiny-vit", ""), ...file("tiny.onnx") },
    fused("fused", [1, 0.5]),
    fused("fused-vit-only", [0, 1]),
    { ...DSIFT, id: "dsift-head", head: head(64) },
    { ...DSIFT, id: "dsift-wrong-head", head: head(32) },
    { ...DSIFT, id: "dsift-mutual", refiner: refiner("mutual.onnx") },
    { ...DSIFT, id: "dsift-identity", refiner: refiner("identity.onnx") },
  ];
}

type Match = { x: number; y: number; score: number };

function assertSameMatches(a: Match[], b: Match[], what: string): void {
  assert.equal(a.length, b.length);
  a.forEach((m, i) => {
    const n = b[i];
    assert.ok(
      Math.abs(m.x - n.x) < 1e-3 && Math.abs(m.y - n.y) < 1e-3 &&
        Math.abs(m.score - n.score) < 1e-4,
      `${what}, point ${i}: ${JSON.stringify(m)} vs ${JSON.stringify(n)}`,
    );
  });
}

Deno.test("composite models, feature heads and cost-volume refiners declared in MODELS_CONFIG run end to end", async (t) => {
  const dir = await Deno.makeTempDir();
  const http = serveFiles(FILES);
  const path = `${dir}/models.json`;
  await Deno.writeTextFile(path, JSON.stringify(config(http)));
  const png = await willowImage("car(G)/Cars_006a.png"); // 300 x 200
  const png2 = await willowImage("car(G)/Cars_007a.png");
  const points = [[120, 80], [60, 90], [250, 150], [10, 190]];
  try {
    await withService({
      MODELS_CONFIG: path,
      MODEL_CACHE: `${dir}/cache`,
      DATA_PFWILLOW: WILLOW_ROOT,
    }, async (url) => {
      const match = async (model: string, options: Record<string, string> = {}, pts = points) => {
        const r = await postMatch(url, matchForm(png, png2, pts, { model, ...options }));
        assert.equal(r.status, 200, JSON.stringify(r.json));
        return r.json;
      };

      await t.step("GET /v1/models lists components, heads and refiners", async () => {
        const { models } = await (await fetch(`${url}/v1/models`)).json();
        // deno-lint-ignore no-explicit-any
        const byId = new Map(models.map((m: any) => [m.id, m]));
        // deno-lint-ignore no-explicit-any
        const fused = byId.get("fused") as any;
        assert.equal(fused.kind, "composite");
        assert.equal(fused.source, "composite:");
        assert.equal(fused.feature_dim, 160);
        assert.equal(fused.layout, null);
        assert.equal(fused.normalization, null);
        assert.deepEqual(fused.fuse.components, [
          { model: "dsift", weight: 1, resolution: 256 },
          { model: "tiny-vit", weight: 0.5, resolution: 224 },
        ]);
        assert.equal(fused.fuse.align_corners, false);
        // deno-lint-ignore no-explicit-any
        const headed = byId.get("dsift-head") as any;
        assert.equal(headed.kind, "backbone");
        assert.deepEqual(headed.head, {
          source: http.url("head.onnx"),
          input: "features",
          output: "head_features",
          feature_dim: 64,
        });
        assert.equal(headed.output_dim, 64);
        assert.equal(headed.refiner, null);
        // deno-lint-ignore no-explicit-any
        const refined = byId.get("dsift-mutual") as any;
        assert.deepEqual(refined.refiner, {
          source: http.url("mutual.onnx"),
          input: "correlation",
          output: "refined",
        });
        assert.equal(refined.head, null);
        // deno-lint-ignore no-explicit-any
        assert.equal((byId.get("dsift") as any).fuse, null);
      });

      await t.step("a fused model matches on the common grid", async () => {
        const r = await match("fused");
        assert.equal(r.model, "fused");
        assert.deepEqual(r.grid, { height: 16, width: 16 });
        assert.equal(r.matches.length, points.length);
        for (const m of r.matches) assert.ok(Number.isFinite(m.x) && Number.isFinite(m.score));
        const big = await match("fused", { resolution: "448" });
        assert.deepEqual(big.grid, { height: 32, width: 32 });
        assert.equal(big.conventions.resolution, 448);
      });

      await t.step("weight 0 on dsift gives the tiny ViT's matches", async () => {
        // Both run tiny-vit at 224 on a 16-cell grid, and cosine scores ignore the
        // fused features' per-cell normalization. The bilinear localizer probes
        // cells only, so any point matches exactly; the others sample the query
        // between cells, where a blend of normalized features differs slightly
        // from a blend of raw ones, so they are compared on cells
        // (grid = (x * scale + offset) * 15 / 223, solved for x).
        for (const resize of ["stretch", "letterbox"]) {
          const alone = await match("tiny-vit", { localizer: "bilinear", resize });
          const fused = await match("fused-vit-only", { localizer: "bilinear", resize });
          assert.deepEqual(fused.grid, alone.grid);
          assertSameMatches(fused.matches, alone.matches, `bilinear ${resize}`);
        }
        const cells = [[3, 4], [8, 8], [15, 11], [0, 6]];
        const stretch = cells.map(([i, j]) => [i * 299 / 15, j * 199 / 15]);
        const scale = 224 / 300; // letterbox: 300 x 200 -> 224 x 149, 37 rows of padding on top
        const letterbox = cells.map((
          [i, j],
        ) => [i * 223 / 15 / scale, (j * 223 / 15 - 37) / scale]);
        for (const localizer of ["kernel-softargmax", "nn", "window-softargmax"]) {
          for (const [resize, pts] of [["stretch", stretch], ["letterbox", letterbox]] as const) {
            const alone = await match("tiny-vit", { localizer, resize }, pts);
            const fused = await match("fused-vit-only", { localizer, resize }, pts);
            assertSameMatches(fused.matches, alone.matches, `${localizer} ${resize}`);
          }
        }
      });

      await t.step("a feature head runs on the grid", async () => {
        const r = await match("dsift-head");
        assert.deepEqual(r.grid, { height: 32, width: 32 });
        const plain = await match("dsift");
        assert.notDeepEqual(r.matches, plain.matches);
      });

      await t.step("a head whose output is not its feature_dim is a contract error", async () => {
        const r = await postMatch(url, matchForm(png, png2, points, { model: "dsift-wrong-head" }));
        assert.equal(r.status, 422, JSON.stringify(r.json));
        assert.equal(r.json.error.code, "model_contract_violation");
        assert.match(
          r.json.error.message,
          /head of model `dsift-wrong-head`: it returned \[1,64,32,32\], expected \[1,32,32,32\]/,
        );
      });

      await t.step("an identity refiner gives the matches of no refiner", async () => {
        // bilinear reads whole refined rows: exact for any point.
        const plain = await match("dsift", { localizer: "bilinear" });
        const refined = await match("dsift-identity", { localizer: "bilinear" });
        assertSameMatches(refined.matches, plain.matches, "bilinear");
        // Other localizers blend rows between cells: exact for queries on cells
        // (x = k (W - 1) / 31 on the 32-cell grid of a stretched 300 x 200 image).
        const onCells = [[5, 3], [17, 20], [31, 31], [0, 12]].map(([i, j]) => [
          i * 299 / 31,
          j * 199 / 31,
        ]);
        for (const localizer of ["nn", "kernel-softargmax", "softargmax"]) {
          const a = await match("dsift", { localizer }, onCells);
          const b = await match("dsift-identity", { localizer }, onCells);
          assertSameMatches(b.matches, a.matches, localizer);
        }
      });

      await t.step("a mutual-matching refiner runs with every localizer", async () => {
        for (const localizer of ["nn", "bilinear", "kernel-softargmax", "window-softargmax"]) {
          const r = await match("dsift-mutual", { localizer });
          assert.deepEqual(r.grid, { height: 32, width: 32 });
          for (const m of r.matches) {
            assert.ok(Number.isFinite(m.x) && Number.isFinite(m.y) && Number.isFinite(m.score));
          }
        }
      });

      await t.step(
        "/v1/evaluate applies the refiner to features resident in the workers",
        async () => {
          const evaluate = async (model: string) => {
            const res = await fetch(`${url}/v1/evaluate`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({
                dataset: "pfwillow",
                limit: 3,
                model,
                localizer: "bilinear",
                return_predictions: true,
              }),
            });
            const r = await res.json();
            assert.equal(res.status, 200, JSON.stringify(r));
            return r;
          };
          const plain = await evaluate("dsift");
          const identity = await evaluate("dsift-identity");
          const mutual = await evaluate("dsift-mutual");
          assert.equal(identity.n_pairs, 3);
          for (let i = 0; i < 3; i++) {
            const a = plain.predictions[i].pred.flat();
            const b = identity.predictions[i].pred.flat();
            a.forEach((v: number, k: number) => assert.ok(Math.abs(v - b[k]) < 1e-3));
          }
          assert.notDeepEqual(mutual.predictions, plain.predictions);
        },
      );

      assert.equal(http.requests("tiny.onnx"), 1);
      assert.equal(http.requests("head.onnx"), 1);
    });
  } finally {
    await http.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a composite naming a missing component stops the service at start-up", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/models.json`;
    await Deno.writeTextFile(
      path,
      JSON.stringify([{
        id: "sd-dino",
        url: "composite:",
        components: [{ model: "sd21-unet", weight: 1 }, { model: "dsift", weight: 1 }],
        patch_size: 8,
        feature_dim: 1408,
        default_resolution: 256,
        resolutions: { min: 64, max: 512 },
      }]),
    );
    await assert.rejects(
      withService({ MODELS_CONFIG: path }, () => Promise.resolve()),
      /composite model `sd-dino`: component `sd21-unet` is not a registered model/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
