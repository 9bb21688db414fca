import assert from "node:assert/strict";
import { decode as decodeWithFastPng, encode as encodePng } from "fast-png";
import { decodeImage } from "../../workers/decode_image.ts";
import {
  checkImage,
  DEFAULT_IMAGE_LIMITS,
  DEFAULT_MAX_DECODED_BYTES,
} from "../../workers/image_limits.ts";
import { ImageDecodeError, ImageTooLargeError, UnsupportedImageError } from "../../errors/mod.ts";
import {
  blockImage,
  concat,
  encodeJpeg,
  exifTiff,
  ihdr,
  jpegMarkers,
  PNG_SIGNATURE,
  pngChunk,
  type PngSpec,
  pngWithClaimedSize,
  readBlocks,
  REAL_JPEG,
  REAL_PNG,
  withExifOrientation,
  writePng,
  zlib,
} from "../fixtures/images.ts";

/** Deterministic samples in 0..max. */
function samples(count: number, max: number, seed = 1): number[] {
  let state = seed;
  return Array.from({ length: count }, () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % (max + 1);
  });
}

const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;
const PALETTE: [number, number, number][] = [
  [10, 20, 30],
  [200, 100, 50],
  [0, 255, 0],
  [255, 255, 255],
];

/** What a PNG spec should decode to, written out independently of the decoder. */
function expectedRgb(spec: PngSpec): number[] {
  const channels = CHANNELS[spec.colorType];
  const out: number[] = [];
  const to8 = (v: number) =>
    spec.bitDepth === 16 ? v >> 8 : spec.bitDepth < 8 ? (v * 255) / (2 ** spec.bitDepth - 1) : v;
  for (let i = 0; i < spec.width * spec.height; i++) {
    const s = Array.from({ length: channels }, (_, c) => spec.samples[i * channels + c]);
    if (spec.colorType === 3) out.push(...(spec.palette![s[0]] ?? [0, 0, 0]));
    else if (spec.colorType === 0 || spec.colorType === 4) {
      out.push(to8(s[0]), to8(s[0]), to8(s[0]));
    } else out.push(to8(s[0]), to8(s[1]), to8(s[2]));
  }
  return out;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function rejectsWith(
  promise: Promise<unknown>,
  ErrorClass: new (...args: never[]) => Error,
  message?: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.ok(error instanceof ErrorClass, `expected ${ErrorClass.name}, got ${error}`);
    if (message) assert.match(error.message, message);
    return true;
  });
}

const BLOCKS = blockImage(["ABC", "DEF"]); // 48x32, 16-pixel blocks

Deno.test("decodeImage() decodes every PNG colour type, bit depth and interlace method", async (t) => {
  const cases = [
    [0, 1],
    [0, 2],
    [0, 4],
    [0, 8],
    [0, 16],
    [2, 8],
    [2, 16],
    [3, 1],
    [3, 2],
    [3, 4],
    [3, 8],
    [4, 8],
    [4, 16],
    [6, 8],
    [6, 16],
  ] as const;
  for (const [colorType, bitDepth] of cases) {
    for (const interlace of [false, true]) {
      const name = `colour type ${colorType}, ${bitDepth} bits, ${
        interlace ? "Adam7" : "no interlace"
      }`;
      await t.step(name, async () => {
        // 13x11 leaves every Adam7 pass non-empty and rows not byte-aligned.
        const spec: PngSpec = {
          width: 13,
          height: 11,
          bitDepth,
          colorType,
          interlace,
          samples: samples(
            13 * 11 * CHANNELS[colorType],
            Math.min(colorType === 3 ? PALETTE.length - 1 : Infinity, 2 ** bitDepth - 1),
            colorType * 100 + bitDepth,
          ),
          palette: colorType === 3 ? PALETTE : undefined,
        };
        const image = await decodeImage(await writePng(spec));
        assert.equal(image.width, 13);
        assert.equal(image.height, 11);
        assert.deepEqual(Array.from(image.data), expectedRgb(spec));
      });
    }
  }
});

Deno.test("decodeImage() decodes PNGs written by fast-png", async (t) => {
  const width = 6, height = 4, n = width * height;
  const cases: [string, Parameters<typeof encodePng>[0], (i: number) => number[]][] = [];
  const rgb = samples(n * 3, 255, 7);
  cases.push([
    "8-bit RGB",
    { width, height, channels: 3, data: new Uint8Array(rgb) },
    (i) => rgb.slice(i * 3, i * 3 + 3),
  ]);
  const rgba = samples(n * 4, 255, 8);
  cases.push([
    "8-bit RGBA",
    { width, height, channels: 4, data: new Uint8Array(rgba) },
    (i) => rgba.slice(i * 4, i * 4 + 3),
  ]);
  const gray = samples(n, 255, 9);
  cases.push([
    "8-bit gray",
    { width, height, channels: 1, data: new Uint8Array(gray) },
    (i) => [gray[i], gray[i], gray[i]],
  ]);
  const grayAlpha = samples(n * 2, 255, 10);
  cases.push([
    "8-bit gray+alpha",
    { width, height, channels: 2, data: new Uint8Array(grayAlpha) },
    (i) => [grayAlpha[2 * i], grayAlpha[2 * i], grayAlpha[2 * i]],
  ]);
  const rgb16 = samples(n * 3, 65535, 11);
  cases.push([
    "16-bit RGB",
    { width, height, channels: 3, depth: 16, data: new Uint16Array(rgb16) },
    (i) => rgb16.slice(i * 3, i * 3 + 3).map((v) => v >> 8),
  ]);
  const rgba16 = samples(n * 4, 65535, 12);
  cases.push([
    "16-bit RGBA",
    { width, height, channels: 4, depth: 16, data: new Uint16Array(rgba16) },
    (i) => rgba16.slice(i * 4, i * 4 + 3).map((v) => v >> 8),
  ]);
  const index = samples(n, 3, 13);
  cases.push([
    "8-bit palette",
    { width, height, channels: 1, data: new Uint8Array(index), palette: PALETTE },
    (i) => PALETTE[index[i]],
  ]);
  cases.push([
    "8-bit RGB, Adam7",
    { width, height, channels: 3, data: new Uint8Array(rgb) },
    (i) => rgb.slice(i * 3, i * 3 + 3),
  ]);
  for (const [name, data, pixel] of cases) {
    await t.step(name, async () => {
      const png = encodePng(data, name.endsWith("Adam7") ? { interlace: "Adam7" } : {});
      const image = await decodeImage(png);
      assert.deepEqual([image.width, image.height], [width, height]);
      assert.deepEqual(
        Array.from(image.data),
        Array.from({ length: n }, (_, i) => pixel(i)).flat(),
      );
    });
  }
});

Deno.test("decodeImage() ignores alpha, tRNS and other ancillary chunks", async () => {
  const spec: PngSpec = {
    width: 4,
    height: 2,
    bitDepth: 8,
    colorType: 3,
    samples: [0, 1, 2, 3, 3, 2, 1, 0],
    palette: PALETTE,
    trns: new Uint8Array([0, 128]),
    extraChunks: [
      pngChunk("tEXt", new TextEncoder().encode("Comment\0hello")),
      pngChunk("gAMA", new Uint8Array([0, 0, 0xb1, 0x8f])),
    ],
  };
  const image = await decodeImage(await writePng(spec));
  assert.deepEqual(Array.from(image.data), expectedRgb(spec));
  // tRNS on an RGBA image breaks the spec; fast-png throws on it, libpng and PIL ignore it.
  const rgba: PngSpec = {
    width: 2,
    height: 1,
    bitDepth: 8,
    colorType: 6,
    samples: [1, 2, 3, 0, 4, 5, 6, 255],
    extraChunks: [pngChunk("tRNS", new Uint8Array([0, 1]))],
  };
  assert.deepEqual(Array.from((await decodeImage(await writePng(rgba))).data), [1, 2, 3, 4, 5, 6]);
});

Deno.test("decodeImage() turns palette indices past the palette into black", async () => {
  const spec: PngSpec = {
    width: 3,
    height: 1,
    bitDepth: 8,
    colorType: 3,
    samples: [0, 5, 1],
    palette: PALETTE.slice(0, 2),
  };
  const image = await decodeImage(await writePng(spec));
  assert.deepEqual(Array.from(image.data), [10, 20, 30, 0, 0, 0, 200, 100, 50]);
});

Deno.test("decodeImage() decodes PNG data split over many IDAT chunks", async () => {
  const spec: PngSpec = {
    width: 20,
    height: 20,
    bitDepth: 8,
    colorType: 2,
    samples: samples(1200, 255, 3),
    idatChunks: 7,
  };
  assert.deepEqual(Array.from((await decodeImage(await writePng(spec))).data), expectedRgb(spec));
});

Deno.test("decodeImage() decodes the real PNG as PIL does", async () => {
  const image = await decodeImage(await Deno.readFile(REAL_PNG));
  assert.deepEqual([image.width, image.height], [300, 200]);
  // SHA-256 of np.asarray(Image.open(path).convert("RGB")) with Pillow 9.4.
  assert.equal(
    await sha256(image.data),
    "3aa561b96c5059178deb14d9ca77d15fd66c32ec5e0d32cd6d6acf33163aec62",
  );
});

Deno.test("decodeImage() decodes every PF-WILLOW PNG as fast-png does", async () => {
  // The data set's own files (8-bit RGB, all five filter types): the pixels
  // the service computed features from before it inflated with node:zlib.
  const root = new URL("../../../shared/data/pf-willow/PF-dataset/", import.meta.url);
  let count = 0;
  for await (const dir of Deno.readDir(root)) {
    if (!dir.isDirectory) continue;
    for await (const file of Deno.readDir(new URL(`${dir.name}/`, root))) {
      if (!file.name.endsWith(".png")) continue;
      const bytes = await Deno.readFile(new URL(`${dir.name}/${file.name}`, root));
      const reference = decodeWithFastPng(bytes);
      assert.equal(reference.channels, 3, file.name);
      const image = await decodeImage(bytes);
      assert.deepEqual([image.width, image.height], [reference.width, reference.height]);
      assert.ok(image.data.every((v, i) => v === reference.data[i]), file.name);
      count++;
    }
  }
  assert.equal(count, 60);
});

Deno.test("decodeImage() decodes the real JPEG as PIL does", async () => {
  const image = await decodeImage(await Deno.readFile(REAL_JPEG));
  assert.deepEqual([image.width, image.height], [1024, 683]);
  // SHA-256 of np.asarray(Image.open(path).convert("RGB")) with Pillow 9.4 (libjpeg-turbo).
  assert.equal(
    await sha256(image.data),
    "bc73f5b883a4b9533569f9708c1984b7de78d274ba601264ceebc45b32d945a5",
  );
});

Deno.test("decodeImage() decodes baseline, progressive, extended and gray JPEGs", async (t) => {
  const baseline = await encodeJpeg(BLOCKS);
  const progressive = await encodeJpeg(BLOCKS, { progressive: true });
  assert.ok(jpegMarkers(baseline).includes(0xc0), "baseline fixture has SOF0");
  assert.ok(jpegMarkers(progressive).includes(0xc2), "progressive fixture has SOF2");
  const extended = baseline.slice();
  extended[extended.indexOf(0xc0, 2)] = 0xc1;
  for (
    const [name, jpeg] of [["baseline", baseline], ["progressive", progressive], [
      "extended (SOF1)",
      extended,
    ]] as const
  ) {
    await t.step(name, async () => {
      const image = await decodeImage(jpeg);
      assert.deepEqual([image.width, image.height], [48, 32]);
      assert.deepEqual(readBlocks(image), ["ABC", "DEF"]);
    });
  }
  await t.step("gray", async () => {
    const image = await decodeImage(await encodeJpeg(BLOCKS, { grayscale: true }));
    for (let i = 0; i < image.data.length; i += 3) {
      assert.equal(image.data[i], image.data[i + 1]);
      assert.equal(image.data[i], image.data[i + 2]);
    }
  });
});

const ORIENTED: Record<number, string[]> = {
  1: ["ABC", "DEF"],
  2: ["CBA", "FED"],
  3: ["FED", "CBA"],
  4: ["DEF", "ABC"],
  5: ["AD", "BE", "CF"],
  6: ["DA", "EB", "FC"],
  7: ["FC", "EB", "DA"],
  8: ["CF", "BE", "AD"],
};

for (let orientation = 1; orientation <= 8; orientation++) {
  Deno.test(`decodeImage() applies EXIF orientation ${orientation}`, async () => {
    const baseline = await encodeJpeg(BLOCKS);
    for (const littleEndian of [false, true]) {
      const image = await decodeImage(withExifOrientation(baseline, orientation, littleEndian));
      const swapped = orientation >= 5;
      assert.deepEqual([image.width, image.height], swapped ? [32, 48] : [48, 32]);
      assert.deepEqual(readBlocks(image), ORIENTED[orientation]);
    }
  });
}

Deno.test("decodeImage() applies the orientation of a PNG eXIf chunk", async () => {
  const rgb = Array.from(BLOCKS.data);
  const png = await writePng({
    width: 48,
    height: 32,
    bitDepth: 8,
    colorType: 2,
    samples: rgb,
    extraChunks: [pngChunk("eXIf", exifTiff(8))],
  });
  const image = await decodeImage(png);
  assert.deepEqual(readBlocks(image, 16, 0), ORIENTED[8]);
});

Deno.test("checkImage() returns the header of an image within the limits", async () => {
  const jpeg = withExifOrientation(await encodeJpeg(BLOCKS), 6);
  assert.deepEqual(checkImage(jpeg, { maxBytes: jpeg.length, maxPixels: 48 * 32 }), {
    format: "jpeg",
    width: 48,
    height: 32,
    orientation: 6,
  });
  assert.deepEqual(DEFAULT_IMAGE_LIMITS, {
    maxBytes: 20_000_000,
    maxPixels: 40_000_000,
    maxDecodedBytes: 200 * 2 ** 20,
  });
});

Deno.test("checkImage() throws ImageTooLargeError past the byte limit", async () => {
  const jpeg = await encodeJpeg(BLOCKS);
  assert.throws(() => checkImage(jpeg, { maxBytes: jpeg.length - 1, maxPixels: 1e9 }), (error) => {
    assert.ok(error instanceof ImageTooLargeError);
    assert.equal(error.code, "image_too_large");
    assert.deepEqual(error.details, { limit: jpeg.length - 1, actual: jpeg.length, unit: "bytes" });
    return true;
  });
  // The byte limit holds before the header is read, even for unsupported bytes.
  assert.throws(
    () => checkImage(new Uint8Array(101), { maxBytes: 100, maxPixels: 1 }),
    ImageTooLargeError,
  );
  await rejectsWith(
    decodeImage(jpeg, { maxBytes: 100, maxPixels: 1e9 }),
    ImageTooLargeError,
    /bytes exceeds the limit of 100/,
  );
});

Deno.test("checkImage() throws ImageTooLargeError from the header of a 100000x100000 PNG", async () => {
  const png = await pngWithClaimedSize(100_000, 100_000);
  assert.ok(png.length < 100, "the file itself is tiny");
  const before = Deno.memoryUsage().rss;
  assert.throws(() => checkImage(png, DEFAULT_IMAGE_LIMITS), (error) => {
    assert.ok(error instanceof ImageTooLargeError);
    assert.deepEqual(error.details, {
      limit: 40_000_000,
      actual: 10_000_000_000,
      unit: "pixels",
      width: 100_000,
      height: 100_000,
    });
    return true;
  });
  await rejectsWith(decodeImage(png), ImageTooLargeError, /100000x100000/);
  // 10 gigapixels would need 30 GB as RGB; nothing near that was touched.
  assert.ok(Deno.memoryUsage().rss - before < 50_000_000);
});

Deno.test("checkImage() refuses a 36 MP 16-bit RGB PNG from its header: decoded bytes count channels and bit depth", async () => {
  const png = await pngWithClaimedSize(7360, 4912, 16, 2);
  assert.ok(png.length < 100, "the file itself is tiny");
  // Within the pixel limit: only the decoded size (216 MB) refuses it.
  assert.ok(7360 * 4912 < DEFAULT_IMAGE_LIMITS.maxPixels);
  assert.throws(() => checkImage(png, DEFAULT_IMAGE_LIMITS), (error) => {
    assert.ok(error instanceof ImageTooLargeError);
    assert.deepEqual(error.details, {
      limit: DEFAULT_MAX_DECODED_BYTES,
      actual: 7360 * 4912 * 3 * 2,
      unit: "decoded_bytes",
      width: 7360,
      height: 4912,
    });
    return true;
  });
  await rejectsWith(decodeImage(png), ImageTooLargeError, /decodes to 216913920 bytes/);
  // The same size at 8 bits is within every default limit.
  const eight = await pngWithClaimedSize(7360, 4912, 8, 2);
  assert.equal(checkImage(eight, DEFAULT_IMAGE_LIMITS).width, 7360);
  // A gray 16-bit JPEG frame counts 2 bytes per sample.
  const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xc3, 0, 11, 16, 0, 10, 0, 10, 1, 1, 0x11, 0]);
  assert.throws(
    () => checkImage(jpeg, { maxBytes: 100, maxPixels: 100, maxDecodedBytes: 199 }),
    (error) =>
      (error as ImageTooLargeError).details !== undefined &&
      (error as { details: { actual: number } }).details.actual === 200,
  );
});

Deno.test("checkImage() throws ImageTooLargeError from a JPEG frame header", () => {
  const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xc2, 0, 11, 8, 0x10, 0, 0x10, 0, 1, 1, 0x11, 0]);
  assert.throws(() => checkImage(jpeg, { maxBytes: 100, maxPixels: 4096 * 4096 - 1 }), (error) => {
    assert.ok(error instanceof ImageTooLargeError);
    assert.equal((error.details as { actual: number }).actual, 4096 * 4096);
    return true;
  });
});

Deno.test("checkImage() throws RangeError for invalid limits", async (t) => {
  const jpeg = await encodeJpeg(BLOCKS);
  for (const limits of [{ maxBytes: 0, maxPixels: 1 }, { maxBytes: 1, maxPixels: NaN }]) {
    await t.step(JSON.stringify(limits), () => {
      assert.throws(() => checkImage(jpeg, limits), RangeError);
    });
  }
});

Deno.test("checkImage() throws UnsupportedImageError for other formats", async (t) => {
  const cases: [string, Uint8Array][] = [
    ["GIF", new TextEncoder().encode("GIF89a\x01\x00\x01\x00\x00\x00\x00;")],
    ["WebP", new TextEncoder().encode("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00")],
    ["random bytes", new Uint8Array(samples(256, 255, 42))],
    ["empty", new Uint8Array(0)],
  ];
  for (const [name, bytes] of cases) {
    await t.step(name, async () => {
      assert.throws(() => checkImage(bytes, DEFAULT_IMAGE_LIMITS), (error) => {
        assert.ok(error instanceof UnsupportedImageError);
        assert.equal(error.code, "unsupported_image_format");
        assert.ok((error as Error).cause instanceof TypeError);
        return true;
      });
      await rejectsWith(decodeImage(bytes), UnsupportedImageError, /^Unsupported image format/);
    });
  }
});

Deno.test("checkImage() throws ImageDecodeError for malformed headers", async (t) => {
  const cases: [string, Uint8Array][] = [
    ["PNG cut inside IHDR", PNG_SIGNATURE],
    ["PNG with a 0-pixel width", concat(PNG_SIGNATURE, pngChunk("IHDR", ihdr(0, 5)))],
    ["JPEG cut before its frame header", new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a])],
  ];
  for (const [name, bytes] of cases) {
    await t.step(name, () => {
      assert.throws(() => checkImage(bytes, DEFAULT_IMAGE_LIMITS), (error) => {
        assert.ok(error instanceof ImageDecodeError);
        assert.equal(error.code, "invalid_image");
        assert.ok((error as Error).cause instanceof SyntaxError);
        return true;
      });
    });
  }
});

Deno.test("decodeImage() throws ImageDecodeError for truncated PNGs", async (t) => {
  const real = await Deno.readFile(REAL_PNG);
  for (const fraction of [0.1, 0.5, 0.9]) {
    await t.step(`real PNG cut at ${fraction * 100}%`, async () => {
      await rejectsWith(
        decodeImage(real.subarray(0, Math.floor(real.length * fraction))),
        ImageDecodeError,
        /^Cannot decode PNG image: /,
      );
    });
  }
  await t.step("real PNG cut right after IHDR", async () => {
    await rejectsWith(decodeImage(real.subarray(0, 33)), ImageDecodeError);
  });
  const spec: PngSpec = {
    width: 40,
    height: 40,
    bitDepth: 8,
    colorType: 2,
    samples: samples(4800, 255, 5),
    idatChunks: 4,
  };
  const png = await writePng(spec);
  await t.step("cut between two IDAT chunks", async () => {
    // Find the end of the second IDAT chunk: chunks are length + 12 bytes.
    let pos = 33;
    for (let seen = 0; seen < 2;) {
      const length = new DataView(png.buffer, pos).getUint32(0);
      if (String.fromCharCode(...png.subarray(pos + 4, pos + 8)) === "IDAT") seen++;
      pos += length + 12;
    }
    await rejectsWith(decodeImage(png.subarray(0, pos)), ImageDecodeError, /truncated/);
  });
  await t.step("missing IEND alone is accepted", async () => {
    const image = await decodeImage(png.subarray(0, png.length - 12));
    assert.deepEqual(Array.from(image.data), expectedRgb(spec));
  });
});

Deno.test("decodeImage() throws ImageDecodeError for corrupt PNG data", async (t) => {
  const raw = new Uint8Array(4 * (1 + 12)); // 4x4 RGB, filter 0 rows
  const build = (...chunks: Uint8Array[]) =>
    concat(
      PNG_SIGNATURE,
      pngChunk("IHDR", ihdr(4, 4)),
      ...chunks,
      pngChunk("IEND", new Uint8Array(0)),
    );
  const good = build(pngChunk("IDAT", await zlib(raw)));
  assert.equal((await decodeImage(good)).width, 4);
  const cases: [string, Uint8Array, RegExp][] = [
    ["IDAT checksum", good.map((b, i) => (i === good.length - 13 ? b ^ 0xff : b)), /checksum/],
    ["not a zlib stream", build(pngChunk("IDAT", new Uint8Array([1, 2, 3, 4, 5, 6]))), /corrupt/],
    [
      "zlib stream shorter than the image",
      build(pngChunk("IDAT", await zlib(raw.subarray(0, 20)))),
      /truncated/,
    ],
    [
      "unknown filter type",
      build(pngChunk("IDAT", await zlib(raw.map((b, i) => (i === 13 ? 9 : b))))),
      /filter/i,
    ],
    ["no IDAT", build(), /no IDAT/],
    [
      "palette image without PLTE",
      concat(
        PNG_SIGNATURE,
        pngChunk("IHDR", ihdr(4, 4, 8, 3)),
        pngChunk("IDAT", await zlib(new Uint8Array(20))),
      ),
      /PLTE/,
    ],
  ];
  for (const [name, bytes, message] of cases) {
    await t.step(name, async () => {
      await rejectsWith(decodeImage(bytes), ImageDecodeError, message);
    });
  }
});

Deno.test("decodeImage() refuses PNG data that inflates far past its header size", async () => {
  // 8 MB of zeros compress to a few KB: a small decompression bomb for a 4x4 image.
  const bomb = await zlib(new Uint8Array(8_000_000));
  const png = concat(
    PNG_SIGNATURE,
    pngChunk("IHDR", ihdr(4, 4)),
    pngChunk("IDAT", bomb),
    pngChunk("IEND", new Uint8Array(0)),
  );
  await rejectsWith(decodeImage(png), ImageDecodeError, /inflates past the 52 bytes/);
});

Deno.test("decodeImage() refuses a 50 MB decompression bomb in a 48 KB PNG", async () => {
  // A 2000x2000 gray image needs 4,002,000 inflated bytes; zlib stops at that plus 1 MiB.
  const bomb = await zlib(new Uint8Array(50_000_000));
  assert.ok(bomb.length < 60_000, `${bomb.length} bytes`);
  const png = concat(
    PNG_SIGNATURE,
    pngChunk("IHDR", ihdr(2000, 2000, 8, 0)),
    pngChunk("IDAT", bomb),
    pngChunk("IEND", new Uint8Array(0)),
  );
  await rejectsWith(decodeImage(png), ImageDecodeError, /inflates past the 4002000 bytes/);
});

Deno.test("decodeImage() refuses data after the end of the zlib stream", async () => {
  // libpng only warns here; the native inflater cannot tell where the stream ended.
  const raw = new Uint8Array([0, 1, 2, 3, 0, 4, 5, 6]);
  const png = concat(
    PNG_SIGNATURE,
    pngChunk("IHDR", ihdr(3, 2, 8, 0)),
    pngChunk("IDAT", concat(await zlib(raw), new Uint8Array([0, 0, 0]))),
    pngChunk("IEND", new Uint8Array(0)),
  );
  await rejectsWith(decodeImage(png), ImageDecodeError, /corrupt/);
});

Deno.test("decodeImage() throws ImageDecodeError for truncated JPEGs", async (t) => {
  const real = await Deno.readFile(REAL_JPEG);
  const progressive = await encodeJpeg(BLOCKS, { progressive: true });
  const cases: [string, Uint8Array][] = [
    ["real JPEG cut at 50%", real.subarray(0, real.length >> 1)],
    ["real JPEG cut at 99%", real.subarray(0, real.length - 100)],
    ["progressive JPEG cut at 70%", progressive.subarray(0, Math.floor(progressive.length * 0.7))],
    [
      "frame header only",
      new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 2, 0, 3, 1, 1, 0x11, 0]),
    ],
  ];
  for (const [name, bytes] of cases) {
    await t.step(name, async () => {
      await rejectsWith(decodeImage(bytes), ImageDecodeError, /^Cannot decode JPEG image: /);
    });
  }
  await t.step("the decoder still works afterwards", async () => {
    assert.equal((await decodeImage(real)).width, 1024);
  });
});

Deno.test("decodeImage() throws ImageDecodeError for corrupt JPEG segments", async () => {
  const jpeg = await encodeJpeg(BLOCKS);
  // Point the scan at component 9, which the frame does not define.
  const sos = jpegMarkers(jpeg).indexOf(0xda);
  assert.ok(sos > 0);
  let pos = 2;
  for (let i = 0; i < sos; i++) pos += 2 + ((jpeg[pos + 2] << 8) | jpeg[pos + 3]);
  const corrupt = jpeg.slice();
  corrupt[pos + 5] = 9;
  await rejectsWith(
    decodeImage(corrupt),
    ImageDecodeError,
    /Cannot decode JPEG image: .*component/i,
  );
  assert.deepEqual(readBlocks(await decodeImage(jpeg)), ["ABC", "DEF"]);
});

Deno.test("decodeImage() decodes JPEGs concurrently", async () => {
  const real = await Deno.readFile(REAL_JPEG);
  const truncated = real.subarray(0, 5000);
  const results = await Promise.allSettled([
    decodeImage(real),
    decodeImage(truncated),
    decodeImage(real),
    decodeImage(truncated),
  ]);
  assert.deepEqual(results.map((r) => r.status), [
    "fulfilled",
    "rejected",
    "fulfilled",
    "rejected",
  ]);
});
