import assert from "node:assert/strict";
import { join } from "node:path";
import { readImageSize } from "../../datasets/image_size.ts";
import { DatasetMalformedError } from "../../errors/mod.ts";
import { AP10K_ROOT, CAN_WRITE, PF_WILLOW_ROOT } from "./_data.ts";

Deno.test("readImageSize() reads PNG and JPEG headers of the shared images", async () => {
  assert.deepEqual(
    await readImageSize(join(PF_WILLOW_ROOT, "PF-dataset", "car(G)", "Cars_007a.png")),
    { width: 300, height: 225 },
  );
  assert.deepEqual(await readImageSize(join(AP10K_ROOT, "data", "000000000004.jpg")), {
    width: 1024,
    height: 683,
  });
  assert.deepEqual(await readImageSize(join(AP10K_ROOT, "data", "000000037516.jpg")), {
    width: 1200,
    height: 867,
  });
});

Deno.test({
  name: "readImageSize() reads on when the frame header lies past the first read",
  ignore: !CAN_WRITE,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "image_size_test_" });
    try {
      // SOI, a 20,000-byte APP2 segment, then SOF0 of a 3x2 image.
      const bytes = new Uint8Array(2 + 4 + 20000 + 15);
      bytes.set([0xff, 0xd8, 0xff, 0xe2, (20002 >> 8) & 0xff, 20002 & 0xff]);
      bytes.set([0xff, 0xc0, 0, 11, 8, 0, 2, 0, 3, 1, 1, 0x11, 0, 0xff, 0xd9], 20006);
      await Deno.writeFile(join(dir, "big.jpg"), bytes);
      assert.deepEqual(await readImageSize(join(dir, "big.jpg")), { width: 3, height: 2 });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("readImageSize() gives null for a missing file", async () => {
  assert.equal(await readImageSize(join(PF_WILLOW_ROOT, "no-such.png")), null);
});

Deno.test({
  name: "readImageSize() throws DatasetMalformedError naming a malformed file",
  ignore: !CAN_WRITE,
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "image_size_test_" });
    try {
      const png = await Deno.readFile(
        join(PF_WILLOW_ROOT, "PF-dataset", "car(G)", "Cars_007a.png"),
      );
      const jpg = await Deno.readFile(join(AP10K_ROOT, "data", "000000000004.jpg"));
      const cases: [string, Uint8Array, RegExp][] = [
        ["not an image", new TextEncoder().encode("hello"), /Unsupported image format/],
        ["truncated PNG", png.subarray(0, 20), /IHDR chunk is truncated/],
        ["PNG with a broken IHDR", png.slice(0, 40).fill(0x41, 12, 16), /not a 13-byte IHDR/],
        ["JPEG cut before its frame header", jpg.subarray(0, 30), /ends before the frame header/],
        [
          "JPEG without a frame header",
          new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 4, 0, 0]),
          /comes before the frame header/,
        ],
        [
          "JPEG with a zero size",
          new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 0, 0, 0, 3, 0, 0, 0]),
          /invalid frame 0x0/,
        ],
        ["empty file", new Uint8Array(0), /the input is empty/],
      ];
      for (const [name, bytes, message] of cases) {
        await t.step(name, async () => {
          const path = join(dir, "x.img");
          await Deno.writeFile(path, bytes);
          await assert.rejects(() => readImageSize(path), (e: Error) => {
            assert.ok(e instanceof DatasetMalformedError, String(e));
            assert.equal(e.path, path);
            assert.match(e.message, message);
            assert.ok(e.message.startsWith(`Cannot read image ${path}: `), e.message);
            return true;
          });
        });
      }
      await t.step("a folder", async () => {
        await assert.rejects(() => readImageSize(dir), DatasetMalformedError);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
