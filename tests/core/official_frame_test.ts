import assert from "node:assert/strict";
import { toOfficialFrame } from "../../core/official_frame.ts";

Deno.test("toOfficialFrame() clamps ground truth and takes the bbox-kp threshold before the clamp", () => {
  // Two keypoints of a 11 x 6 image, one past the right border: x 12 maps past S - 1.
  const r = toOfficialFrame({
    pred: new Float32Array([0, 0, 10, 5]),
    truth: new Float32Array([2, 1, 12, 5]),
    targetSize: { width: 11, height: 6 },
    size: 21,
    thresholdBase: "bbox-kp",
  });
  // sx = 20 / 10 = 2, sy = 20 / 5 = 4: the box is 10 x 4 px, 20 x 16 in the square.
  assert.equal(r.threshold, 20);
  assert.ok(Math.abs(r.truth[2] - (20 - 1e-4)) < 1e-5);
  assert.deepEqual([r.truth[0], r.truth[1], r.truth[3]], [4, 4, 20 - 1e-4].map(Math.fround));
  assert.deepEqual([...r.pred], [0, 0, 20, 20]);
});

Deno.test("toOfficialFrame() maps bbox thresholds and uses S for img", () => {
  const common = {
    pred: new Float32Array([1, 1]),
    truth: new Float32Array([1, 1]),
    targetSize: { width: 11, height: 6 },
    size: 21,
  };
  assert.equal(toOfficialFrame({ ...common, thresholdBase: "img" }).threshold, 21);
  const bbox = toOfficialFrame({ ...common, thresholdBase: "bbox", bbox: [1, 1, 6, 3] });
  assert.equal(bbox.threshold, Math.max(5 * 2, 2 * 4));
  assert.throws(() => toOfficialFrame({ ...common, thresholdBase: "bbox" }), RangeError);
});
