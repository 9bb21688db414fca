import assert from "node:assert/strict";
import { matchPicture, PICTURE_GAP, PICTURE_MAX_HEIGHT } from "../../pictures/match_picture.ts";
import { colormap } from "../../pictures/colormap.ts";
import { makeFrame } from "../../core/frame.ts";

const gray = (width: number, height: number) => ({
  width,
  height,
  data: new Uint8Array(width * height * 3).fill(128),
});

function pixel(p: { width: number; data: Uint8Array }, x: number, y: number): number[] {
  const i = (y * p.width + x) * 3;
  return [p.data[i], p.data[i + 1], p.data[i + 2]];
}

Deno.test("matchPicture() scales both images to the taller height, at most PICTURE_MAX_HEIGHT", () => {
  const small = matchPicture(gray(40, 30), gray(50, 60), {
    points: Float32Array.of(1, 1),
    matches: Float32Array.of(2, 2, 0.5),
  });
  assert.equal(small.height, 60);
  assert.deepEqual(small.source, { x: 0, y: 0, width: 80, height: 60 });
  assert.deepEqual(small.target, { x: 80 + PICTURE_GAP, y: 0, width: 50, height: 60 });
  const large = matchPicture(gray(2000, 1000), gray(1000, 1500), {
    points: Float32Array.of(1, 1),
    matches: Float32Array.of(2, 2, 0.5),
  });
  assert.equal(large.height, PICTURE_MAX_HEIGHT);
  assert.equal(large.source.width, 1440);
  assert.equal(large.target.width, 480);
  assert.throws(
    () =>
      matchPicture(gray(4, 4), gray(4, 4), {
        points: Float32Array.of(1, 1),
        matches: Float32Array.of(1),
      }),
    RangeError,
  );
});

Deno.test("matchPicture() draws each match in its score's colour at both ends", () => {
  const p = matchPicture(gray(100, 100), gray(100, 100), {
    points: Float32Array.of(20, 30, 70, 80),
    matches: Float32Array.of(60, 50, 1, 10, 90, 0),
  });
  // Dot centres, in picture pixels: source as is, target shifted by its box.
  assert.deepEqual(pixel(p, 20, 30), [...colormap(1)]);
  assert.deepEqual(pixel(p, p.target.x + 60, 50), [...colormap(1)]);
  assert.deepEqual(pixel(p, 70, 80), [...colormap(0)]);
  assert.deepEqual(pixel(p, p.target.x + 10, 90), [...colormap(0)]);
  // Far from every mark the images are untouched.
  assert.deepEqual(pixel(p, 95, 5), [128, 128, 128]);
});

Deno.test("matchPicture() rings the ground truth and skips NaN truth", () => {
  const p = matchPicture(gray(100, 100), gray(100, 100), {
    points: Float32Array.of(20, 20, 40, 40),
    matches: Float32Array.of(50, 50, 0.5, 50, 50, 0.5),
    truth: Float32Array.of(80, 20, NaN, NaN),
  });
  // A ring: white on its circle (radius 4 + 2 px at 100 px), its centre untouched.
  const cx = p.target.x + 80;
  assert.deepEqual(pixel(p, cx + 6, 20), [255, 255, 255]);
  assert.deepEqual(pixel(p, cx, 20), [128, 128, 128]);
});

Deno.test("matchPicture() overlays the score map where the frame puts it (stretch and letterbox)", () => {
  // A 2 x 2 map, hot at the top-left cell only.
  const map = { data: Float32Array.of(1, 0, 0, 0), width: 2, height: 2 };
  for (const mode of ["stretch", "letterbox"] as const) {
    const target = gray(64, 32);
    const p = matchPicture(gray(64, 32), target, {
      points: Float32Array.of(60, 30),
      matches: Float32Array.of(63, 31, 0.5),
      heatmap: { map, frame: makeFrame(target, { size: 32, mode }) },
    });
    const hot = pixel(p, p.target.x + 1, 1);
    const cold = pixel(p, p.target.x + 40, 20);
    // Hot blends the top of the colour map (dark red) strongly, cold its bottom (dark blue) lightly.
    assert.ok(hot[0] > hot[2] + 20, `${mode} hot ${hot}`);
    assert.ok(cold[2] >= cold[0], `${mode} cold ${cold}`);
    assert.notDeepEqual(cold, [128, 128, 128], mode);
  }
});
