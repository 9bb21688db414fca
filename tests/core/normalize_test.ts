import assert from "node:assert/strict";
import { decode } from "fast-png";
import { toNormalizedCHW } from "../../core/normalize.ts";

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

const CARS = new URL(
  "../../../shared/data/pf-willow/PF-dataset/car(G)/Cars_006a.png",
  import.meta.url,
);

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new Uint8Array(bytes));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("toNormalizedCHW() computes (v / 255 - mean) / std into channel planes", () => {
  // 2x1 RGB: pixel 0 = (0, 128, 255), pixel 1 = (255, 0, 51).
  const out = toNormalizedCHW(
    Uint8Array.of(0, 128, 255, 255, 0, 51),
    { width: 2, height: 1 },
    IMAGENET,
  );
  const expected = [
    (0 / 255 - 0.485) / 0.229, // R of pixel 0 = -2.1179
    (255 / 255 - 0.485) / 0.229, // R of pixel 1 = 2.2489
    (128 / 255 - 0.456) / 0.224, // G of pixel 0 = 0.2052
    (0 / 255 - 0.456) / 0.224, // G of pixel 1 = -2.0357
    (255 / 255 - 0.406) / 0.225, // B of pixel 0 = 2.64
    (51 / 255 - 0.406) / 0.225, // B of pixel 1 = -0.9156
  ];
  assert.equal(out.length, 6);
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(out[i] - expected[i]) < 1e-6, `value ${i}`);
});

Deno.test("toNormalizedCHW() is bit-exact with float32 ToTensor + Normalize", async () => {
  // Digest of numpy float32 `(x / 255 - mean) / std`, transposed to CHW, on the
  // PNG decoded by Pillow 9.4.0.
  const png = decode(await Deno.readFile(CARS));
  const out = toNormalizedCHW(png.data as Uint8Array, png, IMAGENET);
  assert.equal(
    await sha256(new Uint8Array(out.buffer)),
    "305453036915b24053b3400afccf58bfede0570db893a7059855fa862f876a62",
  );
});

Deno.test("toNormalizedCHW() rejects inconsistent inputs", async (t) => {
  await t.step("byte count", () => {
    assert.throws(
      () => toNormalizedCHW(new Uint8Array(5), { width: 2, height: 1 }, IMAGENET),
      { name: "RangeError", message: "Cannot normalize image: expected 6 bytes for 2x1x3, got 5" },
    );
  });
  await t.step("mean and std lengths", () => {
    assert.throws(
      () => toNormalizedCHW(new Uint8Array(2), { width: 2, height: 1 }, { mean: [0], std: [1, 1] }),
      RangeError,
    );
  });
  await t.step("zero std", () => {
    assert.throws(
      () => toNormalizedCHW(new Uint8Array(2), { width: 2, height: 1 }, { mean: [0], std: [0] }),
      RangeError,
    );
  });
});
