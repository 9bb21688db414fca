import assert from "node:assert/strict";
import { readImageHeader } from "../../core/image_header.ts";
import {
  blockImage,
  concat,
  encodeJpeg,
  exifSegment,
  exifTiff,
  ihdr,
  insertSegments,
  jpegMarkers,
  PNG_SIGNATURE,
  pngChunk,
  pngWithClaimedSize,
  REAL_JPEG,
  REAL_PNG,
  withExifOrientation,
  writePng,
} from "../fixtures/images.ts";

const image = blockImage(["ABC", "DEF"]); // 48x32

Deno.test("readImageHeader() reads PNG size for every colour type and depth", async (t) => {
  const cases = [
    [0, 1],
    [0, 2],
    [0, 4],
    [0, 8],
    [0, 16],
    [2, 8],
    [2, 16],
    [3, 1],
    [3, 8],
    [4, 8],
    [4, 16],
    [6, 8],
    [6, 16],
  ] as const;
  for (const [colorType, bitDepth] of cases) {
    for (const interlace of [false, true]) {
      await t.step(
        `colour type ${colorType}, ${bitDepth} bits, interlace ${interlace}`,
        async () => {
          const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colorType];
          const png = await writePng({
            width: 7,
            height: 5,
            bitDepth,
            colorType,
            interlace,
            samples: new Array(7 * 5 * channels).fill(0),
            palette: colorType === 3 ? [[0, 0, 0]] : undefined,
          });
          assert.deepEqual(readImageHeader(png), {
            format: "png",
            width: 7,
            height: 5,
            orientation: 1,
          });
        },
      );
    }
  }
});

Deno.test("readImageHeader() reads the real PNG and JPEG", async () => {
  assert.deepEqual(readImageHeader(await Deno.readFile(REAL_PNG)), {
    format: "png",
    width: 300,
    height: 200,
    orientation: 1,
  });
  assert.deepEqual(readImageHeader(await Deno.readFile(REAL_JPEG)), {
    format: "jpeg",
    width: 1024,
    height: 683,
    orientation: 1,
  });
});

Deno.test("readImageHeader() reads only the header bytes of a PNG", async () => {
  // Header checks run before decoding: a 33-byte prefix is enough.
  const png = await pngWithClaimedSize(100_000, 100_000);
  assert.deepEqual(readImageHeader(png.subarray(0, 33)), {
    format: "png",
    width: 100_000,
    height: 100_000,
    orientation: 1,
  });
});

Deno.test("readImageHeader() reads baseline, progressive and extended JPEG frames", async (t) => {
  const baseline = await encodeJpeg(image);
  const progressive = await encodeJpeg(image, { progressive: true });
  const gray = await encodeJpeg(image, { grayscale: true });
  await t.step("fixtures use the intended SOF markers", () => {
    assert.ok(jpegMarkers(baseline).includes(0xc0));
    assert.ok(jpegMarkers(progressive).includes(0xc2));
  });
  const cases: [string, Uint8Array][] = [
    ["baseline", baseline],
    ["progressive", progressive],
    ["gray", gray],
  ];
  for (const [name, jpeg] of cases) {
    await t.step(name, () => {
      assert.deepEqual(readImageHeader(jpeg), {
        format: "jpeg",
        width: 48,
        height: 32,
        orientation: 1,
      });
    });
  }
  await t.step("SOF1 (extended sequential)", () => {
    const sof1 = baseline.slice();
    sof1[sof1.indexOf(0xc0, 2)] = 0xc1;
    assert.equal(readImageHeader(sof1).width, 48);
  });
});

Deno.test("readImageHeader() skips APPn, COM and fill bytes before the frame", async () => {
  const jpeg = await encodeJpeg(image);
  const app2 = concat(new Uint8Array([0xff, 0xe2, 0x10, 0x02]), new Uint8Array(0x1000)); // ICC-sized
  const com = concat(new Uint8Array([0xff, 0xfe, 0, 7]), new TextEncoder().encode("hello"));
  const fill = new Uint8Array([0xff, 0xff, 0xff]); // fill bytes before the next marker
  const withSegments = insertSegments(jpeg, app2, com, fill.subarray(0, 2));
  assert.deepEqual(readImageHeader(withSegments), {
    format: "jpeg",
    width: 48,
    height: 32,
    orientation: 1,
  });
});

Deno.test("readImageHeader() reads the EXIF orientation in both byte orders", async (t) => {
  const jpeg = await encodeJpeg(image);
  for (let orientation = 1; orientation <= 8; orientation++) {
    for (const littleEndian of [false, true]) {
      await t.step(`orientation ${orientation}, ${littleEndian ? "II" : "MM"}`, () => {
        const header = readImageHeader(withExifOrientation(jpeg, orientation, littleEndian));
        // The size stays the stored one.
        assert.deepEqual(header, { format: "jpeg", width: 48, height: 32, orientation });
      });
    }
  }
});

Deno.test("readImageHeader() gives orientation 1 for missing or odd EXIF", async (t) => {
  const jpeg = await encodeJpeg(image);
  const cases: [string, Uint8Array][] = [
    ["no Orientation tag", exifSegment(exifTiff(undefined))],
    ["value 0", exifSegment(exifTiff(0))],
    ["value 9", exifSegment(exifTiff(9, true))],
    [
      "bad byte order",
      exifSegment(concat(new TextEncoder().encode("XX"), exifTiff(6).subarray(2))),
    ],
    ["IFD offset past the end", exifSegment(exifTiff(6).map((b, i) => (i === 7 ? 200 : b)))],
    ["truncated TIFF", exifSegment(exifTiff(6).subarray(0, 12))],
  ];
  for (const [name, segment] of cases) {
    await t.step(name, () => {
      assert.equal(readImageHeader(insertSegments(jpeg, segment)).orientation, 1);
    });
  }
  await t.step("only the first Exif segment counts", () => {
    const twice = insertSegments(jpeg, exifSegment(exifTiff(3)), exifSegment(exifTiff(6)));
    assert.equal(readImageHeader(twice).orientation, 3);
  });
});

Deno.test("readImageHeader() reads the orientation from a PNG eXIf chunk", async () => {
  const png = await writePng({
    width: 3,
    height: 2,
    bitDepth: 8,
    colorType: 0,
    samples: new Array(6).fill(0),
    extraChunks: [pngChunk("eXIf", exifTiff(6, true))],
  });
  assert.deepEqual(readImageHeader(png), { format: "png", width: 3, height: 2, orientation: 6 });
});

Deno.test("readImageHeader() throws TypeError for unsupported formats", async (t) => {
  const cases: [string, Uint8Array, RegExp][] = [
    ["GIF", new TextEncoder().encode("GIF89a\x01\x00\x01\x00"), /GIF/],
    ["WebP", new TextEncoder().encode("RIFF\x10\x00\x00\x00WEBPVP8 "), /WebP/],
    ["empty", new Uint8Array(0), /empty/],
    ["random", new Uint8Array([0x13, 0x37, 0xca, 0xfe, 0xba, 0xbe, 0, 1, 2, 3]), /13 37 CA FE/],
    ["half a PNG signature", new Uint8Array([0x89, 0x50]), /unknown signature/],
  ];
  for (const [name, bytes, message] of cases) {
    await t.step(name, () => {
      assert.throws(() => readImageHeader(bytes), (error: Error) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /^Unsupported image format/);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

Deno.test("readImageHeader() throws SyntaxError for truncated or malformed PNG headers", async (t) => {
  const png = await writePng({
    width: 4,
    height: 4,
    bitDepth: 8,
    colorType: 2,
    samples: new Array(48).fill(9),
  });
  const withIhdr = (data: Uint8Array) => concat(PNG_SIGNATURE, pngChunk("IHDR", data));
  const cases: [string, Uint8Array][] = [
    ["signature only", png.subarray(0, 8)],
    ["IHDR cut short", png.subarray(0, 30)],
    ["corrupt signature (CRLF to LF)", concat(png.subarray(0, 4), png.subarray(5))],
    ["IHDR checksum", png.map((b, i) => (i === 32 ? b ^ 1 : b))],
    ["first chunk is not IHDR", concat(PNG_SIGNATURE, pngChunk("IDAT", new Uint8Array(13)))],
    ["width 0", withIhdr(ihdr(0, 4))],
    ["height 2^31", withIhdr(ihdr(4, 2 ** 31))],
    ["RGB at 4 bits", withIhdr(ihdr(4, 4, 4, 2))],
    ["colour type 5", withIhdr(ihdr(4, 4, 8, 5))],
    ["interlace method 2", withIhdr(ihdr(4, 4, 8, 2, 2))],
  ];
  for (const [name, bytes] of cases) {
    await t.step(name, () => {
      assert.throws(() => readImageHeader(bytes), SyntaxError);
    });
  }
});

Deno.test("readImageHeader() throws SyntaxError for truncated or malformed JPEG headers", async (t) => {
  const jpeg = withExifOrientation(await encodeJpeg(image), 6);
  const sof = jpeg.indexOf(0xc0, 2) - 1;
  const cases: [string, Uint8Array][] = [
    ["SOI only", jpeg.subarray(0, 2)],
    ["cut inside the Exif segment", jpeg.subarray(0, 20)],
    ["cut inside the frame header", jpeg.subarray(0, sof + 6)],
    ["cut before the frame header", jpeg.subarray(0, sof)],
    ["no marker after SOI", new Uint8Array([0xff, 0xd8, 0x00, 0x10])],
    ["segment length 1", new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0, 0])],
    ["scan before frame", new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02])],
    ["EOI before frame", new Uint8Array([0xff, 0xd8, 0xff, 0xd9])],
    ["width 0", new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 2, 0, 0, 1, 1, 0x11, 0])],
    [
      "height 0 (DNL)",
      new Uint8Array([0xff, 0xd8, 0xff, 0xc2, 0, 11, 8, 0, 0, 0, 3, 1, 1, 0x11, 0]),
    ],
  ];
  for (const [name, bytes] of cases) {
    await t.step(name, () => {
      assert.throws(() => readImageHeader(bytes), SyntaxError);
    });
  }
  await t.step("a cut after the frame header is left to the decoder", () => {
    assert.deepEqual(readImageHeader(jpeg.subarray(0, sof + 12)), {
      format: "jpeg",
      width: 48,
      height: 32,
      orientation: 6,
    });
  });
});

Deno.test("readImageHeader() accepts the largest sizes PNG and JPEG can state", async () => {
  const png = await pngWithClaimedSize(2 ** 31 - 1, 2 ** 31 - 1);
  const jpeg = new Uint8Array([
    0xff,
    0xd8,
    0xff,
    0xc0,
    0,
    11,
    8,
    0xff,
    0xff,
    0xff,
    0xff,
    1,
    1,
    0x11,
    0,
  ]);
  assert.equal(readImageHeader(png).width, 2 ** 31 - 1);
  assert.equal(readImageHeader(jpeg).height, 65535);
});
