import assert from "node:assert/strict";
import { join } from "node:path";
import { withService } from "./_service.ts";
import { serveFolders } from "../datasets/_http_server.ts";
import { PF_WILLOW_ROOT } from "../datasets/_data.ts";

/** An image whose whole-file read (the evaluation's read) the server stalls, in the first step. */
const STALLED_BODY = "PF-dataset/car(G)/Cars_007a.png";
/** An image whose header read (the reader's size check) the server stalls, in the second step. */
const STALLED_HEAD = "PF-dataset/car(G)/Cars_009b.png";

/** A 42-column pair list of three pairs, ten keypoints each, inside every image. */
function pairList(): string {
  const header = [
    "imageA",
    "imageB",
    ..."XA YA XB YB".split(" ").flatMap((c) =>
      Array.from({ length: 10 }, (_, i) => `${c}${i + 1}`)
    ),
  ];
  const xs = Array.from({ length: 10 }, (_, i) => 20 + 10 * i);
  const ys = Array.from({ length: 10 }, (_, i) => 30 + 8 * i);
  const row = (
    a: string,
    b: string,
  ) => [`PF-dataset/car(G)/${a}.png`, `PF-dataset/car(G)/${b}.png`, ...xs, ...ys, ...xs, ...ys];
  return [
    header,
    row("Cars_006a", "Cars_007a"),
    row("Cars_006a", "Cars_008b"),
    row("Cars_008b", "Cars_009b"),
  ].map((r) => r.join(",")).join("\n") + "\n";
}

async function evaluate(url: string, pairIds: string[]) {
  const res = await fetch(`${url}/v1/evaluate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ dataset: "pfwillow", model: "dsift", pair_ids: pairIds }),
  });
  return { status: res.status, json: await res.json() };
}

Deno.test("DATA_TIMEOUT_MS bounds the server's reads of a URL data root: 503 dataset_unavailable naming the file, then the server goes on", async (t) => {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  const stalls: string[] = [];
  // What the server stalls now: a path, and whether ranged (header) reads or whole reads of it.
  let stalled: { path: string; ranged: boolean } | null = null;
  const server = serveFolders({
    folders: { "/willow/": PF_WILLOW_ROOT },
    files: { "/willow/PF-dataset/test_pairs_pf.csv": pairList() },
    hook: (path, req) => {
      if (
        stalled !== null && path === `/willow/${stalled.path}` &&
        req.headers.has("range") === stalled.ranged
      ) {
        stalls.push(path);
        // Answers only once the test is over.
        return released.then(() => new Response("late"));
      }
      return undefined;
    },
  });
  try {
    await withService({
      DATA_PFWILLOW: `${server.origin}/willow`,
      DATA_TIMEOUT_MS: "300",
      DEFAULT_MODEL: "dsift",
    }, async (url) => {
      for (
        const [name, pairId, file, ranged] of [
          ["the evaluation's image read", "car(G)/Cars_006a-Cars_007a", STALLED_BODY, false],
          ["the reader's image header read", "car(G)/Cars_008b-Cars_009b", STALLED_HEAD, true],
        ] as const
      ) {
        await t.step(name, async () => {
          stalled = { path: file, ranged };
          const r = await evaluate(url, [pairId]);
          assert.equal(r.status, 503, JSON.stringify(r.json));
          assert.equal(r.json.error.code, "dataset_unavailable");
          // The configured deadline, not the 30 s default; the file relative to the root.
          assert.match(r.json.error.message, /no complete answer within 300 ms/);
          assert.ok(r.json.error.message.includes(file), r.json.error.message);
          assert.ok(!r.json.error.message.includes(server.origin), r.json.error.message);
        });
      }
      assert.deepEqual(stalls, [`/willow/${STALLED_BODY}`, `/willow/${STALLED_HEAD}`]);
      stalled = null;
      await t.step("the server stays healthy and scores the pairs that do answer", async () => {
        assert.equal((await fetch(`${url}/healthz`).then((r) => r.json())).status, "ok");
        const r = await evaluate(url, ["car(G)/Cars_006a-Cars_008b"]);
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.equal(r.json.n_pairs, 1);
        assert.equal(r.json.n_points, 10);
      });
    });
  } finally {
    release();
    await server.close();
  }
});

Deno.test({
  name:
    "DATA_TIMEOUT_MS bounds the server's reads of a local data root: a FIFO image answers 503 dataset_unavailable",
  // The blocked open of the FIFO cannot be cancelled; the writer below ends it, after the service.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "data_timeout_test_" });
    const dir = join(root, "PF-dataset", "car(G)");
    const fifo = join(dir, "Cars_009b.png");
    try {
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(join(root, "PF-dataset", "test_pairs_pf.csv"), pairList());
      // The images are the shared ones, linked in place; one is a FIFO nothing writes to.
      for (const name of ["Cars_006a", "Cars_007a", "Cars_008b"]) {
        await Deno.symlink(
          join(PF_WILLOW_ROOT, "PF-dataset", "car(G)", `${name}.png`),
          join(dir, `${name}.png`),
        );
      }
      assert.equal((await new Deno.Command("mkfifo", { args: [fifo] }).output()).code, 0);
      await withService({
        DATA_PFWILLOW: root,
        DATA_TIMEOUT_MS: "300",
        DEFAULT_MODEL: "dsift",
      }, async (url) => {
        const r = await evaluate(url, ["car(G)/Cars_006a-Cars_007a"]);
        assert.equal(r.status, 503, JSON.stringify(r.json));
        assert.equal(r.json.error.code, "dataset_unavailable");
        assert.match(
          r.json.error.message,
          /PF-dataset\/car\(G\)\/Cars_009b\.png: no answer within 300 ms/,
        );
        assert.ok(!r.json.error.message.includes(root), r.json.error.message);
        assert.equal((await fetch(`${url}/healthz`).then((r) => r.json())).status, "ok");
      });
    } finally {
      (await Deno.open(fifo, { write: true })).close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
