import assert from "node:assert/strict";
import { join } from "node:path";
import { readPfWillow } from "../../datasets/pf_willow.ts";
import { readSpair } from "../../datasets/spair.ts";
import { readPfPascal } from "../../datasets/pf_pascal.ts";
import { readAp10k } from "../../datasets/ap10k.ts";
import { readDataset } from "../../datasets/read_dataset.ts";
import { datasetRoot } from "../../datasets/roots.ts";
import { openDataSource } from "../../datasets/data_source.ts";
import { readMatFile } from "../../datasets/mat_file.ts";
import { evaluatePairs, type EvaluationOptions } from "../../evaluation/evaluate_pairs.ts";
import {
  DatasetNotFoundError,
  DatasetUnavailableError,
  DatasetUnsafePathError,
} from "../../errors/mod.ts";
import type { DatasetSlice } from "../../datasets/types.ts";
import { WorkerPool } from "../../workers/pool.ts";
import { BUILTIN_MODELS } from "../../models/registry.ts";
import { DEFAULT_LOCALIZER } from "../../core/localizer_options.ts";
import {
  AP10K_ROOT,
  CAN_WRITE,
  PF_PASCAL_ROOT,
  PF_WILLOW_ROOT,
  SHARED_DATA,
  SPAIR_ROOT,
} from "./_data.ts";
import { serveFolders, type TestServer } from "./_http_server.ts";
import { TREE_PAIRS, writeAp10kTree } from "./_ap10k_tree.ts";

/**
 * The 42-column pair list CNNGeometric/NC-Net ship as `test_pairs_pf.csv`,
 * synthesized from the shared `.mat` files: every ordered pair within each
 * class, in the order the local reader builds them.
 */
async function pfWillowCsv(): Promise<string> {
  const lines = [
    [
      "imageA",
      "imageB",
      ..."XA YA XB YB".split(" ").flatMap((c) =>
        Array.from({ length: 10 }, (_, i) => `${c}${i + 1}`)
      ),
    ].join(","),
  ];
  const dir = join(PF_WILLOW_ROOT, "PF-dataset");
  const classes = [];
  for await (const e of Deno.readDir(dir)) if (e.isDirectory) classes.push(e.name);
  for (const cls of classes.sort()) {
    const names = [];
    for await (const e of Deno.readDir(join(dir, cls))) {
      if (e.name.endsWith(".mat")) names.push(e.name.slice(0, -4));
    }
    names.sort();
    const xy = new Map<string, Float64Array>();
    for (const name of names) {
      const bytes = await Deno.readFile(join(dir, cls, `${name}.mat`));
      xy.set(name, (await readMatFile(bytes)).get("pts_coord")!.data);
    }
    const split = (v: Float64Array) => [
      ...Array.from({ length: 10 }, (_, i) => v[2 * i]),
      ...Array.from({ length: 10 }, (_, i) => v[2 * i + 1]),
    ];
    for (const a of names) {
      for (const b of names) {
        if (a === b) continue;
        const path = (n: string) => `PF-dataset/${cls}/${n}.png`;
        lines.push([path(a), path(b), ...split(xy.get(a)!), ...split(xy.get(b)!)].join(","));
      }
    }
  }
  return lines.join("\n") + "\n";
}

/** Runs `fn` with the shared data served under `/shared/` (and a csv added) and `/plain/`. */
async function withServer(
  extra: { folders?: Record<string, string>; files?: Record<string, string> },
  fn: (server: TestServer) => Promise<void>,
): Promise<void> {
  const server = serveFolders({
    folders: { "/shared/": SHARED_DATA, "/plain/": SHARED_DATA, ...extra.folders },
    files: {
      "/shared/pf-willow/PF-dataset/test_pairs_pf.csv": await pfWillowCsv(),
      ...extra.files,
    },
  });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

/** A slice without the fields that name where and how it was read. */
function content(slice: DatasetSlice) {
  const { root: _root, pair_source: _source, pair_file: _file, ...rest } = slice;
  return rest;
}

Deno.test("readPfWillow() from a URL root equals the local slice, given the pair list", async (t) => {
  await withServer({}, async (server) => {
    const local = await readPfWillow(PF_WILLOW_ROOT);
    await t.step("pairs, keypoints, sizes and thresholds", async () => {
      const url = `${server.origin}/shared/pf-willow`;
      const remote = await readPfWillow(url);
      assert.equal(remote.root, url);
      assert.equal(remote.pair_source, "csv");
      assert.equal(remote.pair_file, "PF-dataset/test_pairs_pf.csv");
      assert.equal(remote.pairs.length, 540);
      assert.deepEqual(content(remote), content(local));
    });
    await t.step("through DATA_ROOT and readDataset()", async () => {
      const root = datasetRoot("pfwillow", { DATA_ROOT: `${server.origin}/shared/` });
      assert.equal(root, `${server.origin}/shared/pf-willow`);
      const slice = await readDataset("pfwillow", root, { split: "test", keypoints: "floor" });
      const floored = await readPfWillow(PF_WILLOW_ROOT, { keypoints: "floor" });
      assert.deepEqual(slice.pairs, floored.pairs);
    });
    await t.step("without a pair list, the error names the file to add", async () => {
      const url = `${server.origin}/plain/pf-willow`;
      await assert.rejects(() => readPfWillow(url), (e: Error) => {
        assert.ok(e instanceof DatasetNotFoundError);
        assert.equal(e.path, "test_pairs.csv");
        assert.match(e.message, /cannot list the class folders of PF-dataset\//);
        assert.match(e.message, /add test_pairs\.csv/);
        return true;
      });
    });
  });
});

Deno.test("readSpair() and readPfPascal() from a URL root equal the local slices", async (t) => {
  await withServer({
    files: {
      "/bad/SPair-71k/Layout/large/test.txt": "..%2F..%2Fpf-pascal%2Fx\n",
      "/bad/pf-pascal/image_pairs/test_pairs.csv":
        "source_image,target_image,class,XA,YA,XB,YB\nx/%2e%2e,b.jpg,1,1,2,3,4\n",
    },
  }, async (server) => {
    await t.step("SPair-71k", async () => {
      for (const layout of ["large", "small"] as const) {
        const remote = await readSpair(`${server.origin}/shared/spair-71k/SPair-71k`, { layout });
        const local = await readSpair(SPAIR_ROOT, { layout });
        assert.equal(remote.pairs.length, 33);
        assert.deepEqual({ ...remote, root: "" }, { ...local, root: "" });
      }
    });
    await t.step("PF-PASCAL (images absent on both)", async () => {
      const remote = await readPfPascal(`${server.origin}/shared/pf-pascal`);
      const local = await readPfPascal(PF_PASCAL_ROOT);
      assert.equal(remote.pairs.length, 163);
      assert.deepEqual({ ...remote, root: "" }, { ...local, root: "" });
    });
    await t.step("encoded escapes in remote lists are refused before any request", async () => {
      const before = server.requests.length;
      await assert.rejects(
        () => readSpair(`${server.origin}/bad/SPair-71k`),
        DatasetUnsafePathError,
      );
      await assert.rejects(
        () => readPfPascal(`${server.origin}/bad/pf-pascal`),
        DatasetUnsafePathError,
      );
      // Only the two lists were fetched (after looking for the official root-level one).
      assert.deepEqual(server.requests.slice(before), [
        "GET /bad/SPair-71k/Layout/large/test.txt",
        "HEAD /bad/pf-pascal/test_pairs.csv",
        "HEAD /bad/pf-pascal/image_pairs/test_pairs.csv",
        "GET /bad/pf-pascal/image_pairs/test_pairs.csv",
      ]);
    });
    await t.step("a fetch that never answers times out, naming the file", async () => {
      const source = openDataSource(`${server.origin}/shared/spair-71k/SPair-71k`, {
        timeoutMs: 50,
        fetch: (_input, init) =>
          new Promise((_resolve, reject) => {
            init?.signal?.addEventListener("abort", () => reject(init.signal!.reason));
          }),
      });
      await assert.rejects(() => readSpair(source), (e: Error) => {
        assert.ok(e instanceof DatasetUnavailableError);
        assert.match(e.message, /Layout\/large\/test\.txt: no complete answer within 50 ms/);
        return true;
      });
    });
  });
});

Deno.test({
  name: "readAp10k() from a URL root: the COCO sample, and the tree given its pair lists",
  ignore: !CAN_WRITE,
  fn: async (t) => {
    const tree = await Deno.makeTempDir({ prefix: "ap10k_remote_test_" });
    try {
      await writeAp10kTree(tree);
      await withServer({ folders: { "/tree/": tree } }, async (server) => {
        await t.step("COCO sample", async () => {
          const remote = await readAp10k(`${server.origin}/shared/ap-10k`, { pairSource: "coco" });
          const local = await readAp10k(AP10K_ROOT, { pairSource: "coco" });
          assert.equal(remote.pair_file, "annotations/test_ap10k.json");
          assert.deepEqual({ ...remote, root: "" }, { ...local, root: "" });
        });
        const url = `${server.origin}/tree`;
        await t.step("tree without pair lists: the error names them", async () => {
          await assert.rejects(() => readAp10k(url), (e: Error) => {
            assert.ok(e instanceof DatasetNotFoundError);
            assert.match(e.message, /pair list Layout\/test\.txt/);
            assert.match(e.message, /cannot list PairAnnotation\//);
            return true;
          });
          await assert.rejects(
            () => readAp10k(url, { split: "test_cross_family", pairSource: "tree" }),
            /needs the pair list Layout\/test_cross_family\.txt/,
          );
        });
        await t.step("tree with pair lists", async () => {
          await Deno.mkdir(join(tree, "Layout"));
          for (const [split, ids] of Object.entries(TREE_PAIRS)) {
            await Deno.writeTextFile(join(tree, "Layout", `${split}.txt`), ids.join("\n") + "\n");
          }
          for (const split of Object.keys(TREE_PAIRS)) {
            const remote = await readDataset("ap10k", url, { split });
            const local = await readAp10k(tree, { split });
            assert.equal(remote.pair_source, "tree");
            assert.equal(remote.pairs.length, TREE_PAIRS[split].length);
            assert.deepEqual({ ...remote, root: "" }, { ...local, root: "" });
          }
        });
      });
    } finally {
      await Deno.remove(tree, { recursive: true });
    }
  },
});

Deno.test("evaluatePairs() reads images from a URL root as from a folder", async () => {
  await withServer({}, async (server) => {
    const local = await readPfWillow(PF_WILLOW_ROOT);
    const remote = await readPfWillow(`${server.origin}/shared/pf-willow`);
    const few = (s: DatasetSlice) => ({ ...s, pairs: s.pairs.slice(0, 3) });
    const model = { descriptor: BUILTIN_MODELS.dsift };
    const pool = new WorkerPool({ size: 1 });
    await pool.start(model);
    const options: EvaluationOptions = {
      model,
      resolution: 128,
      resize: "stretch",
      resample: "torch",
      localizer: DEFAULT_LOCALIZER,
      alphas: [0.1],
      frames: ["original"],
      comparison: "<=",
      returnPredictions: true,
    };
    try {
      const before = server.requests.length;
      const a = await evaluatePairs(few(local), pool, options);
      const b = await evaluatePairs(few(remote), pool, options);
      assert.deepEqual(b.predictions, a.predictions);
      assert.deepEqual(b.sums, a.sums);
      assert.equal(b.counters.extractions, a.counters.extractions);
      const images = server.requests.slice(before).filter((r) => r.endsWith(".png"));
      assert.equal(images.length, b.counters.distinct_images);
    } finally {
      await pool.dispose();
    }
  });
});
