import assert from "node:assert/strict";
import { encode } from "fast-png";
import { MatchPipeline, MAX_REFINED_SCORES } from "../../workers/match_pipeline.ts";
import type { ModelRef } from "../../models/model_ref.ts";
import type { ModelDescriptor } from "../../models/descriptor.ts";
import { BUILTIN_MODELS } from "../../models/registry.ts";
import { BOTTLENECK_HEAD_IO, buildBottleneckHeadGraph } from "../fixtures/bottleneck_head_graph.ts";
import { buildMutualMatchingGraph, MUTUAL_MATCHING_IO } from "../fixtures/mutual_matching_graph.ts";
import { buildIdentityRefinerGraph } from "../fixtures/identity_refiner_graph.ts";
import { ModelContractError, ResolutionError } from "../../errors/mod.ts";
import { DEFAULT_LOCALIZER } from "../../core/localizer_options.ts";
import { DEFAULT_IMAGE_LIMITS } from "../../workers/image_limits.ts";

const DSIFT = BUILTIN_MODELS.dsift;

function png(seed: number): Uint8Array {
  const data = new Uint8Array(96 * 80 * 3).map((_, i) => (i * seed + (i >> 7) * 13) % 251);
  return encode({ width: 96, height: 80, data, channels: 3 });
}

Deno.test("MatchPipeline runs a composite with a head and a refiner", async (t) => {
  const dir = await Deno.makeTempDir();
  const pipeline = new MatchPipeline();
  try {
    const headFile = `${dir}/head.onnx`;
    const mutualFile = `${dir}/mutual.onnx`;
    const identityFile = `${dir}/identity.onnx`;
    await Deno.writeFile(headFile, buildBottleneckHeadGraph({ channels: 256, outChannels: 48 }));
    await Deno.writeFile(mutualFile, buildMutualMatchingGraph());
    await Deno.writeFile(identityFile, buildIdentityRefinerGraph());
    const refiner = { input: MUTUAL_MATCHING_IO.input, output: MUTUAL_MATCHING_IO.output };
    const twoScales: ModelDescriptor = {
      id: "two-scales",
      url: "composite:",
      components: [{ model: "dsift", weight: 1, resolution: 64 }, { model: "dsift", weight: 0.5 }],
      patch_size: 8,
      feature_dim: 256,
      default_resolution: 96,
      resolutions: { min: 64, max: 1024 },
      head: { url: headFile, ...BOTTLENECK_HEAD_IO, feature_dim: 48 },
      refiner: { url: mutualFile, ...refiner },
    };
    const ref: ModelRef = {
      descriptor: twoScales,
      components: [{ descriptor: DSIFT }, { descriptor: DSIFT }],
      headFile,
      refinerFile: mutualFile,
    };
    const job = {
      source: png(7),
      target: png(11),
      points: Float32Array.of(10, 10, 50, 40, 95, 79),
      model: ref,
      resolution: 96,
      resize: "stretch" as const,
      resample: "torch" as const,
      localizer: { ...DEFAULT_LOCALIZER },
      limits: DEFAULT_IMAGE_LIMITS,
    };

    await t.step(
      "features: fused then head, on the composite's grid, carrying the refiner",
      async () => {
        const f = await pipeline.extract({ ...job, image: job.source });
        assert.deepEqual([f.grid.channels, f.grid.height, f.grid.width], [48, 12, 12]);
        assert.equal(f.frame.size, 96);
        assert.deepEqual(f.refiner, { model: "two-scales", file: mutualFile, ...refiner });
      },
    );
    await t.step("a match through the refined cost volume", async () => {
      const r = await pipeline.run(job);
      assert.deepEqual(r.grid, { height: 12, width: 12 });
      assert.equal(r.matches.length, 9);
      assert.ok(r.matches.every(Number.isFinite));
    });
    await t.step("features of different refiners are not matched", async () => {
      const a = await pipeline.extract({ ...job, image: job.source });
      const b = await pipeline.extract({
        ...job,
        image: job.target,
        model: { ...ref, refinerFile: identityFile },
      });
      await assert.rejects(
        pipeline.matchFeatures({
          source: a,
          target: b,
          points: job.points,
          localizer: job.localizer,
        }),
        /Cannot match features with different refiners/,
      );
    });
    await t.step("a dense volume over the limit is a resolution error", async () => {
      // 1024 / 8 = 128 cells per side: 128^4 scores.
      assert.ok(128 ** 4 > MAX_REFINED_SCORES);
      await assert.rejects(pipeline.run({ ...job, resolution: 1024 }), (e) => {
        assert.ok(e instanceof ResolutionError);
        assert.match(e.message, /128x128 source cells by 128x128 target cells/);
        return true;
      });
    });
    await t.step("a component whose channels are not its declared feature_dim", async () => {
      const wrong = { ...DSIFT, id: "dsift-64", feature_dim: 64 };
      const bad: ModelRef = {
        descriptor: {
          ...twoScales,
          id: "bad",
          head: undefined,
          refiner: undefined,
          feature_dim: 192,
        },
        components: [{ descriptor: DSIFT }, { descriptor: wrong }],
      };
      await assert.rejects(pipeline.run({ ...job, model: bad }), (e) => {
        assert.ok(e instanceof ModelContractError);
        assert.match(
          e.message,
          /component `dsift` returned 128 channels, its descriptor declares 64/,
        );
        return true;
      });
    });
  } finally {
    await pipeline.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
