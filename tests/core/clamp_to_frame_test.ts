import assert from "node:assert/strict";
import { clampToFrame, OFFICIAL_CLAMP_EPS } from "../../core/clamp_to_frame.ts";
import { makeFrame } from "../../core/frame.ts";

Deno.test("clampToFrame() puts stretched points where the official code clamps them", () => {
  const frame = makeFrame({ width: 64, height: 48 }, { size: 32, mode: "stretch" });
  const out = clampToFrame(new Float32Array([64, 48, -1, 0, 10, 20]), frame);
  const square = (v: number, length: number) => v * 31 / (length - 1);
  // Mapped into the 32 x 32 square: [1e-4, 31 - 1e-4] on both axes.
  assert.ok(Math.abs(square(out[0], 64) - (31 - OFFICIAL_CLAMP_EPS)) < 1e-5);
  assert.ok(Math.abs(square(out[1], 48) - (31 - OFFICIAL_CLAMP_EPS)) < 1e-5);
  assert.ok(Math.abs(square(out[2], 64) - OFFICIAL_CLAMP_EPS) < 1e-6);
  assert.ok(Math.abs(square(out[3], 48) - OFFICIAL_CLAMP_EPS) < 1e-6);
  // Points inside are kept.
  assert.deepEqual([out[4], out[5]], [10, 20]);
});

Deno.test("clampToFrame() keeps letterboxed points on the image's pixel centres", () => {
  const frame = makeFrame({ width: 64, height: 48 }, { size: 32, mode: "letterbox" });
  assert.deepEqual([...clampToFrame(new Float32Array([64.5, -2, 3, 47]), frame)], [63, 0, 3, 47]);
  // A one-pixel axis clamps to its centre.
  const thin = makeFrame({ width: 1, height: 10 }, { size: 8, mode: "stretch" });
  assert.equal(clampToFrame(new Float32Array([3, 4]), thin)[0], 0);
});
