import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../service/config.ts";
import { createServices } from "../../service/services.ts";
import { measureAgreement } from "../../evaluation/agreement.ts";
import { EvaluateRequestSchema } from "../../evaluation/request.ts";
import { buildTinyVitGraph } from "../fixtures/tiny_vit_graph.ts";
import { tinyVitDescriptor } from "../fixtures/models.ts";

const ROOT = new URL("../../", import.meta.url);
const WILLOW = new URL("../shared/data/pf-willow", ROOT).pathname;

/** The tiny ViT (3 blocks) in fp32 and as its int8 variant, declared in a models config. */
async function modelsConfig(dir: string): Promise<string> {
  const file = join(dir, "vit.onnx");
  await Deno.writeFile(file, buildTinyVitGraph({ depth: 3, seed: 3 }));
  const path = join(dir, "models.json");
  await Deno.writeTextFile(
    path,
    JSON.stringify([
      tinyVitDescriptor("vit", file),
      tinyVitDescriptor("vit-int8", file, { quantize: "int8" }),
    ]),
  );
  return path;
}

Deno.test("measureAgreement(): int8 against fp32 on real PF-WILLOW pairs, and a model against itself", async () => {
  const dir = await Deno.makeTempDir();
  const config = loadConfig({
    WORKERS: "1",
    KV_PATH: ":memory:",
    MODELS_CONFIG: await modelsConfig(dir),
    MODEL_CACHE: join(dir, "cache"),
    DATA_PFWILLOW: WILLOW,
    DEFAULT_MODEL: "vit",
  });
  const services = await createServices(config, { startModel: "vit", jobs: false });
  try {
    await services.ready;
    const deps = services.evaluation;
    // Two classes of 10 images: 2 x 90 ordered pairs of 10 keypoints.
    const req = EvaluateRequestSchema.parse({
      dataset: "pfwillow",
      model: "vit-int8",
      categories: ["car(G)", "car(M)"],
      resolution: 112,
    });
    const slice = (model: string, against: string) =>
      measureAgreement({ ...req, model }, against, deps);
    const int8 = await slice("vit-int8", "vit");
    assert.deepEqual(Object.keys(int8.per_category).sort(), ["car(G)", "car(M)"]);
    assert.equal(int8.per_category["car(G)"].points, 900);
    assert.equal(int8.pairs, 180);
    assert.equal(int8.points, 1800);
    assert.equal(int8.resolution, 112);
    assert.ok(int8.share !== null && int8.share > 0 && int8.share <= 1, `share ${int8.share}`);
    assert.equal(int8.identical, Math.round(int8.share! * int8.points));
    let disagreeing = 0;
    for (const c of Object.values(int8.per_category)) disagreeing += c.points - c.identical;
    assert.equal(int8.identical + disagreeing, int8.points);
    if (disagreeing > 0) {
      const d = int8.disagreement_px!;
      assert.ok(d.median > 0 && d.median <= d.max, JSON.stringify(d));
    } else assert.equal(int8.disagreement_px, null);
    assert.equal(int8.model.model, "vit-int8");
    assert.equal(int8.against.model, "vit");

    const self = await slice("vit", "vit");
    assert.equal(self.identical, self.points);
    assert.equal(self.share, 1);
    assert.equal(self.disagreement_px, null);
    // The fp32 side of both runs is the same evaluation: the same PCK.
    assert.deepEqual(self.model.pck, int8.against.pck);
  } finally {
    await services.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task eval agree prints the agreement table and writes the report", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "-q",
        "eval",
        "agree",
        "--dataset",
        "pfwillow",
        "--model",
        "vit-int8",
        "--against",
        "vit",
        "--categories",
        "car(G)",
        "--limit",
        "20",
        "--out",
        join(dir, "agree.json"),
      ],
      cwd: ROOT,
      // WASM, as tests/eval_test.ts: the short-lived process's native teardown is not what is tested.
      env: {
        NO_COLOR: "1",
        ORT_BACKEND: "wasm",
        WORKERS: "1",
        DATA_PFWILLOW: WILLOW,
        MODELS_CONFIG: await modelsConfig(dir),
        MODEL_CACHE: join(dir, "cache"),
      },
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const report = JSON.parse(await Deno.readTextFile(join(dir, "agree.json")));
    assert.equal(report.pairs, 20);
    assert.equal(report.points, 200);
    assert.match(
      stdout,
      new RegExp(`^vit-int8 against vit on pfwillow test @ 224: ${report.identical}/200 points`),
    );
    assert.match(stdout, /\| car\(G\) \| 200 \| \d+ \| [\d.]+ \|/);
    // Progress on stderr: each model named, then its pairs.
    const stderr = new TextDecoder().decode(out.stderr);
    assert.match(stderr, /^vit-int8\n(.*\n)*.*20\/20 pairs(.*\n)*vit\n(.*\n)*.*20\/20 pairs/m);

    const bad = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "eval", "agree", "--dataset", "pfwillow", "--model", "vit"],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(bad.code, 2);
    assert.match(new TextDecoder().decode(bad.stderr), /deno task eval agree --dataset/);
    const soft = await new Deno.Command(Deno.execPath(), {
      args: [
        ...["task", "-q", "eval", "agree", "--dataset", "pfwillow", "--model", "vit"],
        ...["--against", "vit", "--localizer", "softargmax"],
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(soft.code, 2);
    assert.match(new TextDecoder().decode(soft.stderr), /--localizer: agree compares nn matches/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
