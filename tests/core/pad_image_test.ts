import assert from "node:assert/strict";
import { decode } from "fast-png";
import { makeFrame } from "../../core/frame.ts";
import { padImage } from "../../core/pad_image.ts";
import { resizeBilinear } from "../../core/resize.ts";

const CARS = new URL(
  "../../../shared/data/pf-willow/PF-dataset/car(G)/Cars_006a.png",
  import.meta.url,
);

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new Uint8Array(bytes));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("padImage() places the image at its offset on a filled canvas", async (t) => {
  // 2x2 RGB image, pixels (1,2,3) (4,5,6) / (7,8,9) (10,11,12).
  const src = Uint8Array.from({ length: 12 }, (_, i) => i + 1);
  const size = { width: 2, height: 2, channels: 3 };

  await t.step("zero fill by default", () => {
    const out = padImage(src, size, { width: 3, height: 3, offsetX: 1, offsetY: 0 });
    assert.deepEqual([...out], [
      0,
      0,
      0,
      1,
      2,
      3,
      4,
      5,
      6,
      0,
      0,
      0,
      7,
      8,
      9,
      10,
      11,
      12,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
    ]);
  });

  await t.step("custom fill", () => {
    const out = padImage(src, size, { width: 2, height: 3, offsetX: 0, offsetY: 1, fill: 114 });
    assert.deepEqual([...out.subarray(0, 6)], [114, 114, 114, 114, 114, 114]);
    assert.deepEqual([...out.subarray(6)], [...src]);
  });

  await t.step("exact fit is a copy", () => {
    const out = padImage(src, size, { width: 2, height: 2, offsetX: 0, offsetY: 0 });
    assert.deepEqual(out, src);
    assert.notEqual(out, src);
  });

  await t.step("an image that does not fit is rejected", () => {
    assert.throws(
      () => padImage(src, size, { width: 2, height: 2, offsetX: 1, offsetY: 0 }),
      {
        name: "RangeError",
        message: "Cannot pad image: a 2x2 image at (1, 0) does not fit a 2x2 canvas",
      },
    );
  });

  await t.step("fractional offsets and non-byte fills are rejected", () => {
    assert.throws(
      () => padImage(src, size, { width: 3, height: 3, offsetX: 0.5, offsetY: 0 }),
      RangeError,
    );
    assert.throws(
      () => padImage(src, size, { width: 3, height: 3, offsetX: 0, offsetY: 0, fill: 256 }),
      RangeError,
    );
  });
});

Deno.test("padImage() with a letterbox frame reproduces GeoAware-SC's canvas", async () => {
  // Pillow 9.4.0: im.resize((224, 149), BILINEAR) pasted into np.zeros((224, 224, 3))
  // at rows (224 - 149) // 2 = 37 .. 186.
  const png = decode(await Deno.readFile(CARS));
  const frame = makeFrame(png, { size: 224, mode: "letterbox" });
  assert.deepEqual([frame.contentWidth, frame.contentHeight, frame.contentX, frame.contentY], [
    224,
    149,
    0,
    37,
  ]);
  const resized = resizeBilinear(png.data as Uint8Array, { width: 300, height: 200, channels: 3 }, {
    width: frame.contentWidth,
    height: frame.contentHeight,
  });
  const canvas = padImage(resized, { width: 224, height: 149, channels: 3 }, {
    width: 224,
    height: 224,
    offsetX: frame.contentX,
    offsetY: frame.contentY,
  });
  assert.equal(
    await sha256(canvas),
    "00f08d9945458b074f7303f7f553f10c02f3245a919c41f6db3fb6c261434283",
  );
});
