import assert from "node:assert/strict";
import { type Frame, makeFrame, type ResizeMode } from "../../core/frame.ts";
import { frameToGrid } from "../../core/frame_to_grid.ts";
import { frameToImage } from "../../core/frame_to_image.ts";
import { gridToFrame } from "../../core/grid_to_frame.ts";
import { imageToFrame } from "../../core/image_to_frame.ts";

function assertClose(actual: ArrayLike<number>, expected: number[], tolerance: number): void {
  assert.equal(actual.length, expected.length, "length");
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tolerance,
      `value ${i}: ${actual[i]} is not within ${tolerance} of ${expected[i]}`,
    );
  }
}

/** Deterministic points inside a W x H image (pixel-index coordinates 0..W-1). */
function points(width: number, height: number, count: number): Float32Array {
  const out = new Float32Array(count * 2);
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < count; i++) {
    out[2 * i] = next() * (width - 1);
    out[2 * i + 1] = next() * (height - 1);
  }
  // Corners too.
  out.set([0, 0, width - 1, height - 1], 0);
  return out;
}

Deno.test("makeFrame() stretch maps corners to corners (align corners)", async (t) => {
  const frame = makeFrame({ width: 300, height: 200 }, { size: 224, mode: "stretch" });

  await t.step("frame fields", () => {
    assert.deepEqual(frame, {
      mode: "stretch",
      size: 224,
      imageWidth: 300,
      imageHeight: 200,
      contentWidth: 224,
      contentHeight: 224,
      contentX: 0,
      contentY: 0,
      scaleX: 223 / 299,
      scaleY: 223 / 199,
      offsetX: 0,
      offsetY: 0,
    });
  });

  await t.step("hand-computed points", () => {
    // x' = x * 223 / 299, y' = y * 223 / 199: the image centre (149.5, 99.5) -> (111.5, 111.5).
    const mapped = imageToFrame(frame, Float32Array.of(0, 0, 299, 199, 149.5, 99.5));
    assertClose(mapped, [0, 0, 223, 223, 111.5, 111.5], 1e-4);
    assertClose(frameToImage(frame, Float32Array.of(111.5, 223)), [149.5, 199], 1e-4);
  });
});

Deno.test("makeFrame() letterbox follows GeoAware-SC's preprocess_kps_pad", async (t) => {
  await t.step("landscape 300x200 into 224", () => {
    // scale = 224 / 300; n = round(224 * 200 / 300) = round(149.33) = 149;
    // offsetY = floor((224 - 149) / 2) = 37.
    const frame = makeFrame({ width: 300, height: 200 }, { size: 224, mode: "letterbox" });
    assert.deepEqual(
      [frame.contentWidth, frame.contentHeight, frame.contentX, frame.contentY],
      [224, 149, 0, 37],
    );
    assert.deepEqual([frame.scaleX, frame.scaleY, frame.offsetX, frame.offsetY], [
      224 / 300,
      224 / 300,
      0,
      37,
    ]);
    // (150, 100) -> (150 * 0.74667, 100 * 0.74667 + 37) = (112, 111.667); (0, 0) -> (0, 37).
    const mapped = imageToFrame(frame, Float32Array.of(150, 100, 0, 0, 300, 200));
    assertClose(mapped, [112, 74.66667 + 37, 0, 37, 224, 149.33333 + 37], 1e-4);
  });

  await t.step("portrait 200x300 into 224", () => {
    const frame = makeFrame({ width: 200, height: 300 }, { size: 224, mode: "letterbox" });
    assert.deepEqual(
      [frame.contentWidth, frame.contentHeight, frame.contentX, frame.contentY],
      [149, 224, 37, 0],
    );
    assertClose(imageToFrame(frame, Float32Array.of(100, 150)), [74.66667 + 37, 112], 1e-4);
  });

  await t.step("square image: no padding", () => {
    const frame = makeFrame({ width: 50, height: 50 }, { size: 224, mode: "letterbox" });
    assert.deepEqual(
      [frame.contentWidth, frame.contentHeight, frame.offsetX, frame.offsetY, frame.scaleX],
      [224, 224, 0, 0, 4.48],
    );
  });

  await t.step("the short side rounds half to even, like np.around", () => {
    // 5 * 1 / 2 = 2.5 -> 2 (even); padding floor((5 - 2) / 2) = 1.
    const a = makeFrame({ width: 2, height: 1 }, { size: 5, mode: "letterbox" });
    assert.deepEqual([a.contentHeight, a.contentY], [2, 1]);
    // 7 * 1 / 2 = 3.5 -> 4 (even); padding floor((7 - 4) / 2) = 1.
    const b = makeFrame({ width: 2, height: 1 }, { size: 7, mode: "letterbox" });
    assert.deepEqual([b.contentHeight, b.contentY], [4, 1]);
    // Portrait: the width rounds.
    const c = makeFrame({ width: 1, height: 2 }, { size: 5, mode: "letterbox" });
    assert.deepEqual([c.contentWidth, c.contentX], [2, 1]);
  });

  await t.step("a very thin image keeps at least one row", () => {
    // 224 * 1 / 1000 = 0.224 -> 0, raised to 1; padding floor(223 / 2) = 111.
    const frame = makeFrame({ width: 1000, height: 1 }, { size: 224, mode: "letterbox" });
    assert.deepEqual([frame.contentHeight, frame.contentY], [1, 111]);
  });
});

Deno.test("makeFrame() defines degenerate axes without dividing by zero", async (t) => {
  await t.step("stretch, 1 pixel wide: x maps to the frame centre and back to 0", () => {
    const frame = makeFrame({ width: 1, height: 200 }, { size: 224, mode: "stretch" });
    assert.deepEqual([frame.scaleX, frame.offsetX], [0, 111.5]);
    assertClose(imageToFrame(frame, Float32Array.of(0, 199)), [111.5, 223], 1e-4);
    assertClose(frameToImage(frame, Float32Array.of(50, 223)), [0, 199], 1e-4);
  });

  await t.step(
    "stretch into a 1-pixel frame: everything maps to 0 and back to the image centre",
    () => {
      const frame = makeFrame({ width: 300, height: 200 }, { size: 1, mode: "stretch" });
      assertClose(imageToFrame(frame, Float32Array.of(17, 42)), [0, 0], 0);
      assertClose(frameToImage(frame, Float32Array.of(0, 0)), [149.5, 99.5], 0);
    },
  );

  await t.step("letterbox of a 1x1 image scales by S", () => {
    const frame = makeFrame({ width: 1, height: 1 }, { size: 224, mode: "letterbox" });
    assert.deepEqual([frame.scaleX, frame.offsetX, frame.contentWidth], [224, 0, 224]);
    assertClose(frameToImage(frame, imageToFrame(frame, Float32Array.of(0, 0))), [0, 0], 0);
  });

  await t.step("grid mapping with a 1-cell axis or a 1-pixel frame", () => {
    // w = 1: every x maps to cell 0, and cell 0 maps back to the frame centre (223 / 2).
    const one = { size: 224, grid: { width: 1, height: 16 } };
    assertClose(frameToGrid(Float32Array.of(100, 223), one), [0, 15], 1e-6);
    assertClose(gridToFrame(Float32Array.of(0, 15), one), [111.5, 223], 1e-4);
    // S = 1: the frame's only pixel maps to the grid centre and back to 0.
    const tiny = { size: 1, grid: { width: 5, height: 5 } };
    assertClose(frameToGrid(Float32Array.of(0, 0), tiny), [2, 2], 0);
    assertClose(gridToFrame(Float32Array.of(2, 4), tiny), [0, 0], 0);
  });
});

Deno.test("frameToGrid() and gridToFrame() use p * (w - 1) / (S - 1)", () => {
  const options = { size: 224, grid: { width: 16, height: 16 } };
  // 223 * 15 / 223 = 15; 111.5 * 15 / 223 = 7.5; 14.866... * 15 / 223 = 1.
  assertClose(
    frameToGrid(Float32Array.of(223, 111.5, 223 / 15, 0), options),
    [15, 7.5, 1, 0],
    1e-5,
  );
  assertClose(
    gridToFrame(Float32Array.of(15, 7.5, 1, 0), options),
    [223, 111.5, 223 / 15, 0],
    1e-4,
  );
  // A non-square grid: 840 frame, 60x30 grid.
  const wide = { size: 840, grid: { width: 60, height: 30 } };
  assertClose(frameToGrid(Float32Array.of(839, 839), wide), [59, 29], 1e-5);
});

Deno.test("image -> frame -> grid -> frame -> image round trips within 1e-4", async (t) => {
  const images: [number, number][] = [[300, 200], [200, 300], [1, 300], [300, 1], [640, 480]];
  const modes: ResizeMode[] = ["stretch", "letterbox"];
  const setups: [number, number][] = [[224, 16], [840, 60], [448, 32]];
  for (const [width, height] of images) {
    for (const mode of modes) {
      for (const [size, cells] of setups) {
        await t.step(`${width}x${height} ${mode} S=${size} grid ${cells}`, () => {
          const frame: Frame = makeFrame({ width, height }, { size, mode });
          const options = { size, grid: { width: cells, height: cells } };
          const original = points(width, height, 50);
          const back = frameToImage(
            frame,
            gridToFrame(frameToGrid(imageToFrame(frame, original), options), options),
          );
          assertClose(back, [...original], 1e-4);
        });
      }
    }
  }
});

Deno.test("frame mapping rejects bad input", async (t) => {
  await t.step("unknown mode", () => {
    assert.throws(
      () => makeFrame({ width: 2, height: 2 }, { size: 4, mode: "crop" as ResizeMode }),
      {
        name: "TypeError",
        message:
          'Cannot make frame: unknown resize mode "crop", expected one of stretch, letterbox',
      },
    );
  });
  await t.step("non-integer sizes", () => {
    assert.throws(
      () => makeFrame({ width: 0, height: 2 }, { size: 4, mode: "stretch" }),
      RangeError,
    );
    assert.throws(
      () => makeFrame({ width: 2, height: 2 }, { size: 4.5, mode: "letterbox" }),
      RangeError,
    );
    assert.throws(
      () => frameToGrid(new Float32Array(2), { size: 0, grid: { width: 2, height: 2 } }),
      RangeError,
    );
  });
  await t.step("odd point arrays", () => {
    const frame = makeFrame({ width: 2, height: 2 }, { size: 4, mode: "stretch" });
    assert.throws(() => imageToFrame(frame, new Float32Array(3)), RangeError);
    assert.throws(() => frameToImage(frame, new Float32Array(1)), RangeError);
    assert.throws(
      () => gridToFrame(new Float32Array(1), { size: 4, grid: { width: 2, height: 2 } }),
      RangeError,
    );
  });
});
