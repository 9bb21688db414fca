import assert from "node:assert/strict";
import { FeatureCache, featureKey } from "../../workers/feature_cache.ts";
import { FeaturesNotResidentError } from "../../errors/mod.ts";
import { BUILTIN_MODELS } from "../../models/registry.ts";
import { makeFrame } from "../../core/frame.ts";
import type { ImageFeatures } from "../../workers/protocol.ts";

/** Features whose grid holds `floats` values (4 bytes each). */
function features(floats: number): ImageFeatures {
  return {
    grid: { data: new Float32Array(floats), channels: floats, height: 1, width: 1 },
    frame: makeFrame({ width: 1, height: 1 }, { size: 14, mode: "stretch" }),
    timings: { decode: 0, preprocess: 0, extract: 0 },
  };
}

Deno.test("FeatureCache evicts the least recently used entries past its byte bound", () => {
  const cache = new FeatureCache({ maxBytes: 1000 });
  cache.set("a", features(100));
  cache.set("b", features(100));
  cache.require("a"); // b is now the least recently used
  cache.set("c", features(100));
  assert.deepEqual([cache.size, cache.bytes], [2, 800]);
  assert.throws(() => cache.require("b"), FeaturesNotResidentError);
  assert.ok(cache.require("a") && cache.require("c"));
});

Deno.test("FeatureCache counts a target's normalized grid in its bound", () => {
  const cache = new FeatureCache({ maxBytes: 1300 });
  cache.set("a", features(100));
  cache.set("b", features(100));
  cache.setNormalizedTarget("b", new Float32Array(100));
  assert.deepEqual([cache.size, cache.bytes], [2, 1200]);
  cache.setNormalizedTarget("a", new Float32Array(100));
  // 1600 bytes past 1300: b, the least recently used, goes.
  assert.deepEqual([cache.size, cache.bytes], [1, 800]);
  assert.equal(cache.require("a").normalizedTarget?.length, 100);
});

Deno.test("FeatureCache keeps an entry larger than its bound, alone", () => {
  const cache = new FeatureCache({ maxBytes: 100 });
  cache.set("a", features(10));
  cache.set("big", features(1000));
  assert.deepEqual([cache.size, cache.bytes], [1, 4000]);
  assert.equal(cache.delete(["big", "never"]), 1);
  assert.equal(cache.bytes, 0);
});

Deno.test("FeatureCache.require() names the missing image and keeps the key in details", () => {
  const cache = new FeatureCache({ maxBytes: 100 });
  const key = featureKey("run/a.png", {
    model: { descriptor: BUILTIN_MODELS.dsift },
    resolution: 64,
    resize: "stretch",
    resample: "torch",
  });
  assert.throws(() => cache.require(key), (e) => {
    assert.ok(e instanceof FeaturesNotResidentError);
    assert.match(e.message, /`run\/a\.png`/);
    assert.deepEqual(e.details, { key });
    return true;
  });
  assert.throws(() => new FeatureCache({ maxBytes: 0 }), RangeError);
});
