import assert from "node:assert/strict";
import { withService } from "./routes/_service.ts";

const ROOT = new URL("../", import.meta.url);
const WILLOW = new URL("../shared/data/pf-willow", ROOT).pathname;

async function evalCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "eval", ...args],
    cwd: ROOT,
    // WASM: onnxruntime-node, torn down with the short-lived process, has been
    // seen to abort with "double free or corruption" after the results were
    // written (about one full-suite run in five); the CLI's own logic is what
    // these tests check, and tests/routes/backend_test.ts covers native.
    env: { DATA_PFWILLOW: WILLOW, NO_COLOR: "1", ORT_BACKEND: "wasm" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("deno task eval: 3 shards merged equal the unsharded run, table and progress printed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const base = ["--dataset", "pfwillow", "--categories", "car(G),car(M)", "--frame", "both"];
    const whole = await evalCli([...base, "--out", `${dir}/all.json`]);
    assert.equal(whole.code, 0, whole.stderr);
    assert.match(whole.stdout, /\| all \(mean over pairs\) \|/);
    assert.match(whole.stderr, /180\/180 pairs, 20 images/);
    for (let i = 0; i < 3; i++) {
      const r = await evalCli([
        ...base,
        "--shards",
        "3",
        "--shard",
        String(i),
        "--out",
        `${dir}/s${i}.json`,
      ]);
      assert.equal(r.code, 0, r.stderr);
    }
    const merged = await evalCli([
      "merge",
      `${dir}/s0.json`,
      `${dir}/s1.json`,
      `${dir}/s2.json`,
      "--out",
      `${dir}/m.json`,
    ]);
    assert.equal(merged.code, 0, merged.stderr);
    const a = JSON.parse(await Deno.readTextFile(`${dir}/all.json`));
    const m = JSON.parse(await Deno.readTextFile(`${dir}/m.json`));
    assert.deepEqual(m.frames, a.frames);
    assert.deepEqual(m.sums, a.sums);
    assert.equal(m.n_pairs, 180);
    // Contiguous shards of 60 pairs: car(G) | car(G)+car(M) | car(M) -> 10 + 20 + 10 images.
    assert.equal(m.counters.extractions, 40);
    assert.equal(a.counters.extractions, 20);
    assert.equal(merged.stdout, whole.stdout.slice(whole.stdout.indexOf("PCK per image")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task eval --server streams from a running service and gives the local numbers", async () => {
  Deno.env.set("DATA_PFWILLOW", WILLOW);
  await withService({ ORT_BACKEND: "wasm", DATA_PFWILLOW: WILLOW }, async (url) => {
    const args = ["--dataset", "pfwillow", "--categories", "winebottle(M)", "--limit", "20"];
    const remote = await evalCli([...args, "--server", url]);
    assert.equal(remote.code, 0, remote.stderr);
    assert.match(remote.stderr, /20\/20 pairs/);
    const local = await evalCli(args);
    assert.equal(local.code, 0, local.stderr);
    const table = (s: string) => s.slice(s.indexOf("PCK per image"));
    assert.equal(table(remote.stdout), table(local.stdout));
  });
});

Deno.test("deno task eval rejects bad flags and mismatched merges", async () => {
  const bad = await evalCli(["--dataset", "pfwillow", "--localizer", "magic"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--localizer/);
  const dir = await Deno.makeTempDir();
  try {
    const a = await evalCli(["--dataset", "pfwillow", "--limit", "2", "--out", `${dir}/a.json`]);
    assert.equal(a.code, 0, a.stderr);
    const b = await evalCli([
      "--dataset",
      "pfwillow",
      "--limit",
      "2",
      "--localizer",
      "nn",
      "--out",
      `${dir}/b.json`,
    ]);
    assert.equal(b.code, 0, b.stderr);
    const m = await evalCli(["merge", `${dir}/a.json`, `${dir}/b.json`]);
    assert.equal(m.code, 1);
    assert.match(m.stderr, /Cannot merge reports: report 1 has localizer/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task eval --visualize writes one picture per pair, with the predictions drawn", async () => {
  const { decode } = await import("fast-png");
  const dir = await Deno.makeTempDir();
  try {
    const base = ["--dataset", "pfwillow", "--categories", "car(G)", "--model", "dsift"];
    const r = await evalCli([
      ...base,
      "--limit",
      "5",
      "--return-predictions",
      "--out",
      `${dir}/report.json`,
      "--visualize",
      `${dir}/pictures`,
      "--visualize-limit",
      "3",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /3 pictures in /);
    const files = [];
    for await (const e of Deno.readDir(`${dir}/pictures`)) files.push(e.name);
    const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
    const ids = report.predictions.slice(0, 3).map((p: { pair_id: string }) => p.pair_id);
    assert.deepEqual(
      files.sort(),
      ids.map((id: string, i: number) => `00${i}_${id.replace(/[^A-Za-z0-9._-]/g, "_")}.png`),
    );
    const png = decode(await Deno.readFile(`${dir}/pictures/${files[0]}`));
    // Two PF-WILLOW images (300 wide, about 200-225 high) side by side at the taller height.
    assert.ok(
      png.width > 600 && png.height >= 200 && png.height <= 226,
      `${png.width}x${png.height}`,
    );
    const refused = await evalCli([...base, "--visualize-limit", "2"]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /needs --visualize DIR/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
