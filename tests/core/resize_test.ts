import assert from "node:assert/strict";
import { decode } from "fast-png";
import { resizeBilinear } from "../../core/resize.ts";

// Expected outputs come from Pillow 9.4.0 (Debian python3-pil):
// `Image.fromarray(a).resize((w, h), Image.BILINEAR)`, generated once and
// embedded here (small outputs as values, larger ones as SHA-256 digests).

/** The deterministic test pattern the references were generated from. */
function pattern(width: number, height: number, channels: number): Uint8Array {
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        out[(y * width + x) * channels + c] = (x * 37 + y * 53 + c * 91 + x * y * 11) % 256;
      }
    }
  }
  return out;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new Uint8Array(bytes));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

const CARS = new URL(
  "../../../shared/data/pf-willow/PF-dataset/car(G)/Cars_006a.png",
  import.meta.url,
);

Deno.test("resizeBilinear() matches hand-computed Pillow results", async (t) => {
  await t.step("2x upscale of a 2x2 grey image", () => {
    // Horizontal taps (scale 0.5, support 1): out 0 = a; out 1 = 0.75a + 0.25b;
    // out 2 = 0.25a + 0.75b; out 3 = b. Row [200, 50] -> 162.5 and 87.5 round up to 163, 88.
    // Vertical: column [25, 163] -> 0.75*25 + 0.25*163 = 59.5 -> 60, 0.25*25 + 0.75*163 = 128.5 -> 129.
    const out = resizeBilinear(
      Uint8Array.of(0, 100, 200, 50),
      { width: 2, height: 2, channels: 1 },
      {
        width: 4,
        height: 4,
      },
    );
    assert.deepEqual([...out], [
      0,
      25,
      75,
      100,
      50,
      60,
      78,
      88,
      150,
      129,
      85,
      63,
      200,
      163,
      88,
      50,
    ]);
  });

  await t.step("4 -> 2 downscale is antialiased, not a 2-pixel average", () => {
    // scale 2, support 2: out 0 centre 1, taps x = 0..2 with triangle((x - 1 + 0.5) / 2)
    // = 0.75, 0.75, 0.25 -> 3/7, 3/7, 1/7: (30 + 60 + 30) / 7 = 17.14 -> 17.
    // out 1 centre 3, taps x = 1..3: 1/7, 3/7, 3/7: (20 + 90 + 120) / 7 = 32.86 -> 33.
    const out = resizeBilinear(
      Uint8Array.of(10, 20, 30, 40),
      { width: 4, height: 1, channels: 1 },
      {
        width: 2,
        height: 1,
      },
    );
    assert.deepEqual([...out], [17, 33]);
  });
});

Deno.test("resizeBilinear() is bit-exact with Pillow on a 7x5 RGB pattern", async (t) => {
  const src = pattern(7, 5, 3);
  const size = { width: 7, height: 5, channels: 3 };

  await t.step("to 3x4", () => {
    assert.deepEqual([...resizeBilinear(src, size, { width: 3, height: 4 })], [
      48,
      139,
      147,
      129,
      167,
      70,
      167,
      94,
      121,
      120,
      142,
      100,
      149,
      112,
      128,
      122,
      143,
      111,
      161,
      119,
      119,
      117,
      124,
      122,
      164,
      121,
      143,
      129,
      123,
      151,
      125,
      114,
      122,
      131,
      112,
      120,
    ]);
  });

  await t.step("to 1x1", () => {
    assert.deepEqual([...resizeBilinear(src, size, { width: 1, height: 1 })], [131, 126, 119]);
  });

  const digests: [number, number, string][] = [
    [13, 9, "667d98041e8657191cc280548c5f52ab9891c29dc72e2d43151b949f3cd97c5b"],
    [20, 20, "7ba560ea281aec66e027e0d4689b294806c68100f88dbb31f057f1aac77fa524"],
    // Only one axis changes: Pillow skips the other pass.
    [7, 9, "b2f35c60b4d2f48e3fc70a9168ec1549f2589f8bb09a28451392ff70f06ed3d9"],
    [3, 5, "99f46649af7c193b77a8f0377880341f5f6dc69988dd11ea2efc71ed99f79e9f"],
    // Same size: a copy.
    [7, 5, "9d9dd6949db9a7936ed9512c77b2facd0d7a8276b3e41e5d462028960550a80f"],
  ];
  for (const [width, height, digest] of digests) {
    await t.step(`to ${width}x${height}`, async () => {
      const out = resizeBilinear(src, size, { width, height });
      assert.equal(out.length, width * height * 3);
      assert.equal(await sha256(out), digest);
    });
  }

  await t.step("same size returns a new array", () => {
    const out = resizeBilinear(src, size, { width: 7, height: 5 });
    assert.notEqual(out, src);
    assert.deepEqual(out, src);
  });
});

Deno.test("resizeBilinear() is bit-exact with Pillow on other shapes", async (t) => {
  await t.step("grey 7x5 to 4x3", () => {
    const out = resizeBilinear(pattern(7, 5, 1), { width: 7, height: 5, channels: 1 }, {
      width: 4,
      height: 3,
    });
    assert.deepEqual([...out], [44, 110, 164, 147, 134, 143, 127, 146, 154, 114, 127, 147]);
  });

  await t.step("a single RGB pixel to 4x3", () => {
    const out = resizeBilinear(pattern(1, 1, 3), { width: 1, height: 1, channels: 3 }, {
      width: 4,
      height: 3,
    });
    assert.deepEqual([...out], Array.from({ length: 12 }, () => [0, 91, 182]).flat());
  });

  await t.step("RGB 40x30 to 9x31 (shrink one axis, grow the other)", async () => {
    const out = resizeBilinear(pattern(40, 30, 3), { width: 40, height: 30, channels: 3 }, {
      width: 9,
      height: 31,
    });
    assert.equal(
      await sha256(out),
      "53e23ce3bc6bdb8725a7066bd8073679ad6879850ff340ff271b942d19e801fa",
    );
  });
});

Deno.test("resizeBilinear() is bit-exact with Pillow on a PF-WILLOW photo", async (t) => {
  const png = decode(await Deno.readFile(CARS));
  assert.equal(png.channels, 3);
  assert.equal(png.depth, 8);
  const size = { width: png.width, height: png.height, channels: 3 };
  assert.deepEqual([size.width, size.height], [300, 200]);
  const src = png.data as Uint8Array;

  const digests: [number, number, string][] = [
    [224, 224, "df640eee7fad635c3fefd7213a51c6040d95f80835e33a17b76fcc522a55784b"],
    [224, 149, "f4bb7233c7f022f7969d4803c1b8a28e3ec966f40b402fe3a538cb917e6c3b69"],
    [840, 560, "f00cc09f96725b8e2bcb306dd4c31b43dcbd68bd479fc246b063d911a1ebd6a6"],
    [37, 23, "9816c2c8bc866efad926d8a976fbda25efe2bc15282d95f30859e4be7e3d8bdb"],
  ];
  for (const [width, height, digest] of digests) {
    await t.step(`300x200 to ${width}x${height}`, async () => {
      assert.equal(await sha256(resizeBilinear(src, size, { width, height })), digest);
    });
  }
});

Deno.test("resizeBilinear() rejects bad sizes", async (t) => {
  await t.step("wrong byte count", () => {
    assert.throws(
      () =>
        resizeBilinear(new Uint8Array(5), { width: 2, height: 1, channels: 3 }, {
          width: 1,
          height: 1,
        }),
      { name: "RangeError", message: "Cannot resize image: expected 6 bytes for 2x1x3, got 5" },
    );
  });
  await t.step("zero or fractional output size", () => {
    const size = { width: 1, height: 1, channels: 1 };
    assert.throws(
      () => resizeBilinear(new Uint8Array(1), size, { width: 0, height: 1 }),
      RangeError,
    );
    assert.throws(
      () => resizeBilinear(new Uint8Array(1), size, { width: 1, height: 1.5 }),
      RangeError,
    );
  });
});
