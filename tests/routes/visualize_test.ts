import assert from "node:assert/strict";
import { decode } from "fast-png";
import { matchForm, toBase64, willowImage, withService } from "./_service.ts";
import { PICTURE_GAP, PICTURE_MAX_HEIGHT } from "../../pictures/match_picture.ts";

const SRC = "car(G)/Cars_006a.png";
const TRG = "car(G)/Cars_007a.png";

/** The picture's size for two images side by side at the taller height (capped). */
function expectedSize(a: { width: number; height: number }, b: { width: number; height: number }) {
  const height = Math.min(Math.max(a.height, b.height), PICTURE_MAX_HEIGHT);
  const wa = Math.round((a.width * height) / a.height);
  const wb = Math.round((b.width * height) / b.height);
  return { width: wa + PICTURE_GAP + wb, height, wa, wb };
}

async function postPicture(url: string, body: FormData | string) {
  const headers: Record<string, string> = typeof body === "string"
    ? { "content-type": "application/json" }
    : {};
  const res = await fetch(`${url}/v1/visualize`, { method: "POST", body, headers });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { res, bytes };
}

Deno.test("POST /v1/visualize draws the /v1/match request as a PNG", async (t) => {
  const source = await willowImage(SRC);
  const target = await willowImage(TRG);
  const points = [[120, 80], [200, 150], [40, 170]];
  await withService({}, async (url) => {
    const match = await (await fetch(`${url}/v1/match`, {
      method: "POST",
      body: matchForm(source, target, points),
    })).json();
    const size = expectedSize(match.source, match.target);

    await t.step("multipart: a PNG that decodes, both images side by side", async () => {
      const { res, bytes } = await postPicture(url, matchForm(source, target, points));
      assert.equal(res.status, 200, new TextDecoder().decode(bytes.subarray(0, 300)));
      assert.equal(res.headers.get("content-type"), "image/png");
      const png = decode(bytes);
      assert.equal(png.width, size.width);
      assert.equal(png.height, size.height);
      assert.equal(res.headers.get("x-source-box"), `0,0,${size.wa},${size.height}`);
      assert.equal(
        res.headers.get("x-target-box"),
        `${size.wa + PICTURE_GAP},0,${size.wb},${size.height}`,
      );
      // The gap between the images stays white except where lines cross it.
      const at = (x: number, y: number) => png.data[(y * png.width + x) * png.channels];
      assert.equal(at(size.wa + 2, 2), 255);
    });

    await t.step("JSON with base64 images draws the same picture", async () => {
      const body = JSON.stringify({
        source: toBase64(source),
        target: `data:image/png;base64,${toBase64(target)}`,
        points,
      });
      const json = await postPicture(url, body);
      assert.equal(json.res.status, 200);
      const form = await postPicture(url, matchForm(source, target, points));
      assert.deepEqual(decode(json.bytes).data, decode(form.bytes).data);
    });

    await t.step("heatmap: one query's similarity overlaid on the target", async () => {
      const plain = decode((await postPicture(url, matchForm(source, target, [[120, 80]]))).bytes);
      const { res, bytes } = await postPicture(
        url,
        JSON.stringify({
          source: toBase64(source),
          target: toBase64(target),
          points: [[120, 80]],
          heatmap: true,
        }),
      );
      assert.equal(res.status, 200);
      const hot = decode(bytes);
      assert.deepEqual([hot.width, hot.height], [plain.width, plain.height]);
      // The source half is the same; the target half is coloured over.
      const differs = (x0: number, x1: number) => {
        let n = 0;
        for (let y = 0; y < hot.height; y++) {
          for (let x = x0; x < x1; x++) {
            const i = (y * hot.width + x) * hot.channels;
            if (hot.data[i] !== plain.data[i] || hot.data[i + 2] !== plain.data[i + 2]) n++;
          }
        }
        return n / ((x1 - x0) * hot.height);
      };
      assert.equal(differs(0, 20), 0);
      assert.ok(differs(size.wa + PICTURE_GAP, hot.width) > 0.9);
      const form = matchForm(source, target, [[120, 80]], { heatmap: "true" });
      assert.deepEqual(decode((await postPicture(url, form)).bytes).data, hot.data);
    });

    await t.step("a heatmap of two points is 422 invalid_request at points", async () => {
      const form = matchForm(source, target, [[1, 1], [2, 2]], { heatmap: "true" });
      const { res, bytes } = await postPicture(url, form);
      assert.equal(res.status, 422);
      const body = JSON.parse(new TextDecoder().decode(bytes));
      assert.equal(body.error.code, "invalid_request");
      assert.deepEqual(body.error.details.issues[0].path, ["points"]);
    });

    await t.step("errors are the JSON of /v1/match", async () => {
      const { res, bytes } = await postPicture(url, matchForm(source, target, [[900, 1]]));
      assert.equal(res.status, 422);
      assert.equal(JSON.parse(new TextDecoder().decode(bytes)).error.code, "point_out_of_bounds");
    });
  });
});
