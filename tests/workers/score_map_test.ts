import assert from "node:assert/strict";
import { MatchPipeline } from "../../workers/match_pipeline.ts";
import { BUILTIN_MODELS } from "../../models/registry.ts";
import { DEFAULT_LOCALIZER, LOCALIZER_NAMES } from "../../core/localizer_options.ts";
import { makeFrame } from "../../core/frame.ts";
import { imageToFrame } from "../../core/image_to_frame.ts";
import { frameToGrid } from "../../core/frame_to_grid.ts";
import { willowImage } from "../routes/_service.ts";

Deno.test("FeatureMatcher.scoreMap() is the map the localizer reads: its peak is the nn match", async () => {
  const pipeline = new MatchPipeline();
  try {
    const source = await willowImage("car(G)/Cars_006a.png");
    const target = await willowImage("car(G)/Cars_007a.png");
    for (const [x, y] of [[120, 80], [40, 170], [250, 60]]) {
      const job = {
        source: source.slice(),
        target: target.slice(),
        points: Float32Array.of(x, y),
        model: { descriptor: BUILTIN_MODELS.dsift },
        resolution: 256,
        resize: "stretch" as const,
        resample: "torch" as const,
        localizer: { ...DEFAULT_LOCALIZER, method: "nn" as const },
        score_map: true,
      };
      const r = await pipeline.run(job);
      const map = r.score_map!;
      assert.deepEqual([map.width, map.height], [r.grid.width, r.grid.height]);
      let best = 0;
      for (let i = 1; i < map.data.length; i++) if (map.data[i] > map.data[best]) best = i;
      // The nn match is the centre of the best cell, mapped back to target pixels.
      const frame = makeFrame(r.target_size, { size: 256, mode: "stretch" });
      const [gx, gy] = frameToGrid(imageToFrame(frame, r.matches.subarray(0, 2)), {
        size: 256,
        grid: r.grid,
      });
      assert.deepEqual([Math.round(gx), Math.round(gy)], [
        best % map.width,
        Math.floor(best / map.width),
      ]);
      assert.ok(
        Math.abs(map.data[best] - r.matches[2]) < 1e-5,
        `${map.data[best]} vs ${r.matches[2]}`,
      );
      // Every localizer gets a map of the same grid; bilinear blends its four corner maps.
      for (const method of LOCALIZER_NAMES) {
        const other = await pipeline.run({
          ...job,
          source: source.slice(),
          target: target.slice(),
          localizer: { ...DEFAULT_LOCALIZER, method },
        });
        assert.equal(other.score_map!.data.length, map.data.length, method);
        if (method !== "bilinear") assert.deepEqual(other.score_map!.data, map.data, method);
      }
    }
  } finally {
    await pipeline.dispose();
  }
});
