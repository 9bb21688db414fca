import assert from "node:assert/strict";
import { matchForm, postMatch, willowImage, withService } from "./_service.ts";
import { makeFrame, type ResizeMode } from "../../core/frame.ts";
import { imageToFrame } from "../../core/image_to_frame.ts";
import { frameToGrid } from "../../core/frame_to_grid.ts";
import { gridToFrame } from "../../core/grid_to_frame.ts";
import { frameToImage } from "../../core/frame_to_image.ts";
import { localizerProbes } from "../../core/localizer_probes.ts";
import { sampleFeatures } from "../../core/sample_features.ts";
import { costVolume } from "../../core/cost_volume.ts";
import { localize } from "../../core/localize.ts";
import { DEFAULT_LOCALIZER, type LocalizerName } from "../../core/localizer_options.ts";

/** A `.npy` file read as NumPy reads it: the header dict, then little-endian float32. */
function readNpy(bytes: Uint8Array): { shape: number[]; data: Float32Array; header: string } {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint16(8, true);
  assert.equal((10 + length) % 64, 0, "data aligned to 64 bytes");
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + length));
  assert.match(header, /'descr': '<f4', 'fortran_order': False/);
  const shape = header.match(/'shape': \(([^)]*)\)/)![1].split(",").filter((s) => s.trim())
    .map(Number);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(10 + length + 4 * i, true);
  return { shape, data, header };
}

interface Features {
  grid: { channels: number; height: number; width: number; data: Float32Array };
  image: { width: number; height: number };
}

/** Asks /v1/features for one image's grid as .npy. */
async function npyFeatures(url: string, png: Uint8Array, options: Record<string, string>) {
  const form = new FormData();
  form.set("image", new Blob([png as BlobPart]), "a.png");
  for (const [k, v] of Object.entries(options)) form.set(k, v);
  const res = await fetch(`${url}/v1/features`, {
    method: "POST",
    body: form,
    headers: { accept: "application/x-npy" },
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get("content-type"), "application/x-npy");
  const { shape, data } = readNpy(new Uint8Array(await res.arrayBuffer()));
  const [width, height] = res.headers.get("x-features-image-size")!.split("x").map(Number);
  const conventions = JSON.parse(res.headers.get("x-features-conventions")!);
  return {
    grid: { channels: shape[0], height: shape[1], width: shape[2], data },
    image: { width, height },
    conventions,
    headers: res.headers,
  };
}

/** /v1/match recomputed from two feature grids with the core localizers. */
function matchWithCore(
  a: Features,
  b: Features,
  points: number[][],
  input: { resolution: number; resize: ResizeMode; method: LocalizerName },
): Float32Array {
  const { resolution: size, resize: mode } = input;
  const frameA = makeFrame(a.image, { size, mode });
  const frameB = makeFrame(b.image, { size, mode });
  const gridA = { width: a.grid.width, height: a.grid.height };
  const gridB = { width: b.grid.width, height: b.grid.height };
  const queries = frameToGrid(imageToFrame(frameA, Float32Array.from(points.flat())), {
    size,
    grid: gridA,
  });
  const probes = localizerProbes(queries, gridA, input.method);
  const features = sampleFeatures(a.grid.data, a.grid, probes.probes);
  const scores = costVolume(features, b.grid.data, {
    queries: features.length / a.grid.channels,
    channels: a.grid.channels,
    cells: gridB.width * gridB.height,
  });
  const located = localize(scores, gridB, probes, { ...DEFAULT_LOCALIZER, method: input.method });
  const xy = new Float32Array(points.length * 2);
  for (let i = 0; i < points.length; i++) {
    xy[2 * i] = located[3 * i];
    xy[2 * i + 1] = located[3 * i + 1];
  }
  const back = frameToImage(frameB, gridToFrame(xy, { size, grid: gridB }));
  return Float32Array.from(
    { length: points.length * 3 },
    (_, i) => i % 3 === 2 ? located[i] : back[2 * Math.floor(i / 3) + (i % 3)],
  );
}

Deno.test("POST /v1/features returns the grid as .npy or JSON, and the core localizers reproduce /v1/match from it", async (t) => {
  const src = await willowImage("car(G)/Cars_006a.png");
  const trg = await willowImage("car(G)/Cars_007a.png");
  // The grid shapes below are dsift's.
  await withService({ DEFAULT_MODEL: "dsift" }, async (url) => {
    await t.step(".npy with the conventions in headers", async () => {
      const f = await npyFeatures(url, src, { resolution: "128" });
      assert.deepEqual([f.grid.channels, f.grid.height, f.grid.width], [128, 16, 16]);
      assert.deepEqual(f.image, { width: 300, height: 200 });
      assert.equal(f.headers.get("x-features-shape"), "128,16,16");
      assert.equal(f.headers.get("x-features-model"), "dsift");
      assert.equal(f.conventions.resample, "torch");
      assert.equal(f.conventions.resize, "stretch");
      assert.match(f.headers.get("x-features-grid-mapping")!, /align corners/);
      assert.ok(f.grid.data.every(Number.isFinite));
    });
    await t.step("JSON (base64 float32) holds the same values; format=npy too", async () => {
      const body = JSON.stringify({
        image: btoa(String.fromCharCode(...src)),
        resolution: 128,
        resample: "pil",
      });
      const res = await fetch(`${url}/v1/features`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      });
      const json = await res.json();
      assert.equal(res.status, 200, JSON.stringify(json));
      assert.deepEqual(json.shape, [128, 16, 16]);
      assert.equal(json.dtype, "float32");
      assert.equal(json.conventions.resample, "pil");
      const bytes = Uint8Array.from(atob(json.data), (ch) => ch.charCodeAt(0));
      const values = new Float32Array(bytes.buffer);
      const npy = await npyFeatures(url, src, {
        resolution: "128",
        resample: "pil",
        format: "npy",
      });
      assert.deepEqual(values, npy.grid.data);
      const torch = await npyFeatures(url, src, { resolution: "128" });
      assert.notDeepEqual(values, torch.grid.data);
    });
    const points = [[60, 100], [120, 80], [299, 199], [0, 0], [150.5, 42.25]];
    for (const resize of ["stretch", "letterbox"] as const) {
      for (const method of ["nn", "kernel-softargmax", "bilinear"] as const) {
        await t.step(`${method}, ${resize}: matches recomputed from the features`, async () => {
          const options = { resolution: "128", resize };
          const a = await npyFeatures(url, src, options);
          const b = await npyFeatures(url, trg, options);
          const mine = matchWithCore(a, b, points, { resolution: 128, resize, method });
          const r = await postMatch(
            url,
            matchForm(src, trg, points, { ...options, localizer: method }),
          );
          assert.equal(r.status, 200, JSON.stringify(r.json));
          r.json.matches.forEach((m: { x: number; y: number; score: number }, i: number) => {
            // /v1/match rounds coordinates to 3 decimals (half a thousandth off at most).
            const tolerance = method === "kernel-softargmax" ? 1e-3 : 6e-4;
            assert.ok(Math.abs(m.x - mine[3 * i]) < tolerance, `x ${i}: ${m.x} vs ${mine[3 * i]}`);
            assert.ok(Math.abs(m.y - mine[3 * i + 1]) < tolerance, `y ${i}`);
            // ... and scores to 4.
            assert.ok(Math.abs(m.score - mine[3 * i + 2]) < 6e-5, `score ${i}`);
          });
        });
      }
    }
    await t.step("the limits and errors of /v1/match", async () => {
      const none = await fetch(`${url}/v1/features`, { method: "POST", body: new FormData() });
      assert.equal(none.status, 422);
      assert.equal((await none.json()).error.code, "invalid_request");
      const form = new FormData();
      form.set("image", new Blob([src as BlobPart]), "a.png");
      form.set("resolution", "130");
      const bad = await fetch(`${url}/v1/features`, { method: "POST", body: form });
      assert.equal(bad.status, 422);
      assert.equal((await bad.json()).error.code, "invalid_resolution");
      const text = new FormData();
      text.set("image", new Blob([new TextEncoder().encode("hello")]), "a.txt");
      const unsupported = await fetch(`${url}/v1/features`, { method: "POST", body: text });
      assert.equal(unsupported.status, 415);
    });
  });
});
