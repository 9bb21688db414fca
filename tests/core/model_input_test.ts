import assert from "node:assert/strict";
import { decode } from "fast-png";
import { toModelInput } from "../../core/model_input.ts";
import { makeFrame, type ResizeMode } from "../../core/frame.ts";
import type { ResampleMode } from "../../core/model_input.ts";

// Reference inputs computed once with Debian's python3-torch 1.13.1,
// python3-torchvision 0.14.1 and python3-pil 9.4.0 by
// tests/reference/preprocess_reference.py (see its docstring for each recipe).
const FIXTURE = new URL("../fixtures/preprocess_reference.json", import.meta.url);
const SHARED = new URL("../../../shared/data/", import.meta.url);

interface Case {
  image: { pattern?: [number, number]; shared?: string };
  resample: ResampleMode;
  resize: ResizeMode;
  size: number;
  mean: number[];
  std: number[];
  sha256: string;
  stride: number;
  values: string;
}

/** The pattern of tests/core/resize_test.ts, RGB. */
function pattern(width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        out[(y * width + x) * 3 + c] = (x * 37 + y * 53 + c * 91 + x * y * 11) % 256;
      }
    }
  }
  return out;
}

async function imageOf(c: Case) {
  if (c.image.pattern) {
    const [width, height] = c.image.pattern;
    return { width, height, data: pattern(width, height) };
  }
  const png = decode(await Deno.readFile(new URL(c.image.shared!, SHARED)));
  assert.equal(png.depth, 8);
  const data = new Uint8Array(png.width * png.height * 3);
  const src = png.data as Uint8Array;
  for (let i = 0; i < png.width * png.height; i++) {
    for (let k = 0; k < 3; k++) data[3 * i + k] = src[i * png.channels + k];
  }
  return { width: png.width, height: png.height, data };
}

async function sha256(values: Float32Array): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new Uint8Array(values.buffer as ArrayBuffer),
  );
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function floats(b64: string): Float32Array {
  return new Float32Array(Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)).buffer);
}

Deno.test("toModelInput() is bit-exact with torchvision and Pillow references", async (t) => {
  const { cases } = JSON.parse(await Deno.readTextFile(FIXTURE)) as { cases: Case[] };
  for (const c of cases) {
    const what = c.image.pattern ? `pattern ${c.image.pattern.join("x")}` : c.image.shared;
    await t.step(`${c.resample} ${c.resize} ${what} -> ${c.size}`, async () => {
      const image = await imageOf(c);
      const frame = makeFrame(image, { size: c.size, mode: c.resize });
      const input = toModelInput(image, { frame, resample: c.resample, mean: c.mean, std: c.std });
      assert.equal(input.length, 3 * c.size * c.size);
      const expected = floats(c.values);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) {
        worst = Math.max(worst, Math.abs(input[i * c.stride] - expected[i]));
      }
      assert.equal(worst, 0, `max |diff| ${worst}`);
      assert.equal(await sha256(input), c.sha256);
    });
  }
});

Deno.test("toModelInput() tells torch, pil and lanczos apart on a real image", async () => {
  const { cases } = JSON.parse(await Deno.readTextFile(FIXTURE)) as { cases: Case[] };
  const c = cases.find((c) => c.image.shared && c.resample === "torch")!;
  const image = await imageOf(c);
  const frame = makeFrame(image, { size: 224, mode: "stretch" });
  const options = { frame, mean: c.mean, std: c.std };
  const torch = toModelInput(image, { ...options, resample: "torch" });
  const pil = toModelInput(image, { ...options, resample: "pil" });
  const lanczos = toModelInput(image, { ...options, resample: "lanczos" });
  let dPil = 0, dLanczos = 0;
  for (let i = 0; i < torch.length; i++) {
    dPil = Math.max(dPil, Math.abs(torch[i] - pil[i]));
    dLanczos = Math.max(dLanczos, Math.abs(torch[i] - lanczos[i]));
  }
  // Pillow antialiases the 300 -> 224 shrink and rounds to bytes; torch samples.
  assert.ok(dPil > 0.1 && dLanczos > 0.1, `${dPil} ${dLanczos}`);
});

Deno.test("toModelInput() rejects an unknown resample mode", () => {
  const image = { width: 1, height: 1, data: new Uint8Array(3) };
  const frame = makeFrame(image, { size: 2, mode: "stretch" });
  assert.throws(
    () =>
      toModelInput(image, {
        frame,
        resample: "bicubic" as ResampleMode,
        mean: [0, 0, 0],
        std: [1, 1, 1],
      }),
    { name: "RangeError", message: 'Cannot build model input: unknown resample mode "bicubic"' },
  );
});
