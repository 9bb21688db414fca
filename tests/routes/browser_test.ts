/// <reference lib="dom" />
/**
 * The pages and the API in a real browser (headless Chromium): the demo
 * page end to end, the docs page offline, and `fetch` from a page of
 * another origin. One service and one browser serve all three.
 *
 * @module
 */

import assert from "node:assert/strict";
import { noBrowserReason, withBrowser } from "./_browser.ts";
import { matchForm, postMatch, WILLOW, willowImage, withService } from "./_service.ts";
import { fileURLToPath } from "node:url";

const SRC = "car(G)/Cars_006a.png";
const TRG = "car(G)/Cars_007a.png";

const skip = noBrowserReason();
if (skip) console.log(`browser tests skipped: ${skip}`);

/** A page on another origin (its own server on 127.0.0.1) that calls the API with fetch. */
async function withOtherOrigin(fn: (origin: string) => Promise<void>): Promise<void> {
  const page =
    `<!doctype html><title>elsewhere</title><canvas id="c" width="64" height="48"></canvas>`;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(page, { headers: { "content-type": "text/html" } }),
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

Deno.test({
  name: "the demo, the docs and cross-origin fetch work in headless Chromium",
  ignore: skip !== null,
  fn: async (t) => {
    await withService({ DATA_PFWILLOW: fileURLToPath(new URL("..", WILLOW)) }, async (url) => {
      await withBrowser(async (session) => {
        const page = await session.context.newPage();

        await t.step(
          "/demo: upload two PF-WILLOW images, click, read the match and see the heatmap",
          async () => {
            await page.goto(`${url}/demo`);
            await page.waitForFunction(() => document.querySelectorAll("#model option").length > 0);
            const models = await page.$$eval(
              "#model option",
              (o) => o.map((e) => (e as HTMLOptionElement).value),
            );
            assert.ok(
              models.includes("dsift") && models.includes("mnv3-nanodet-coco"),
              String(models),
            );
            const localizers = await page.$$eval(
              "#localizer option",
              (o) => o.map((e) => (e as HTMLOptionElement).value),
            );
            assert.ok(localizers.includes("kernel-softargmax"), String(localizers));
            await page.setInputFiles("#source-file", fileURLToPath(new URL(SRC, WILLOW)));
            await page.setInputFiles("#target-file", fileURLToPath(new URL(TRG, WILLOW)));
            await page.waitForFunction(() =>
              (document.getElementById("source-canvas") as HTMLCanvasElement).width > 1 &&
              (document.getElementById("target-canvas") as HTMLCanvasElement).width > 1
            );
            const canvas = page.locator("#source-canvas");
            const box = (await canvas.boundingBox())!;
            await canvas.click({ position: { x: box.width * 0.4, y: box.height * 0.4 } });
            const cell = (field: string) =>
              page.locator(`#matches tbody tr td[data-field="${field}"]`).first();
            await page.waitForFunction(() =>
              (document.querySelector('#matches td[data-field="target-x"]')?.textContent ?? "") !==
                ""
            );
            const read = async (field: string) => Number(await cell(field).textContent());
            const [sx, sy, tx, ty] = [
              await read("source-x"),
              await read("source-y"),
              await read("target-x"),
              await read("target-y"),
            ];
            // 40% into the 300 x 200 source, in pixels with centres at integers.
            assert.ok(Math.abs(sx - 119.5) < 1.5 && Math.abs(sy - 79.5) < 1.5, `${sx}, ${sy}`);
            // The page shows what /v1/match answers for that point.
            const { json } = await postMatch(
              url,
              matchForm(await willowImage(SRC), await willowImage(TRG), [[sx, sy]]),
            );
            assert.ok(
              Math.abs(json.matches[0].x - tx) < 0.01 && Math.abs(json.matches[0].y - ty) < 0.01,
            );
            // The heatmap canvas: the target with the similarity map over it, coloured.
            await page.waitForFunction(() =>
              (document.getElementById("heatmap-canvas") as HTMLCanvasElement).width > 1
            );
            const drawn = await page.$eval("#heatmap-canvas", (c) => {
              const canvas = c as HTMLCanvasElement;
              const data =
                canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
              let inked = 0;
              for (let i = 0; i < data.length; i += 4) {
                if (data[i + 3] > 0 && data[i] + data[i + 1] + data[i + 2] > 0) inked++;
              }
              return { inked, pixels: data.length / 4, width: canvas.width, height: canvas.height };
            });
            assert.ok(drawn.inked > 0.9 * drawn.pixels, JSON.stringify(drawn));
            assert.equal(drawn.height, 280);
            assert.equal(drawn.width, Math.round((300 * 280) / 225));
            assert.match(
              await page.textContent("#status") ?? "",
              /1 match\(es\) by mnv3-nanodet-coco/,
            );
          },
        );

        await t.step(
          "/demo: a pair picked from the dataset on the server, another model",
          async () => {
            await page.selectOption("#dataset", "pfwillow");
            await page.waitForFunction(() =>
              (document.getElementById("pair") as HTMLSelectElement).options.length > 1
            );
            await page.selectOption("#model", "dsift");
            await page.selectOption("#pair", "1");
            await page.waitForFunction(() =>
              /Loaded pair/.test(document.getElementById("status")!.textContent ?? "")
            );
            await page.locator("#source-canvas").click({ position: { x: 100, y: 120 } });
            await page.waitForFunction(() =>
              /by dsift/.test(document.getElementById("status")!.textContent ?? "")
            );
            assert.equal(await page.locator("#matches tbody tr").count(), 1);
          },
        );

        await t.step("/docs renders every route offline: no request leaves 127.0.0.1", async () => {
          const docs = await session.context.newPage();
          await docs.goto(`${url}/docs`);
          await docs.waitForSelector(".opblock-summary-path");
          const paths = await docs.$$eval(
            ".opblock-summary-path",
            (els) => els.map((e) => e.textContent?.replace(/\u200b/g, "")),
          );
          const doc = await (await fetch(`${url}/openapi.json`)).json();
          const operations = Object.values(doc.paths as Record<string, object>).reduce(
            (n: number, item) => n + Object.keys(item).length,
            0,
          );
          assert.equal(paths.length, operations);
          assert.ok(paths.includes("/v1/visualize"), String(paths));
          await docs.close();
        });

        await t.step(
          "a page from another origin gets 200 from /v1/match through fetch",
          async () => {
            await withOtherOrigin(async (origin) => {
              const other = await session.context.newPage();
              await other.goto(origin);
              const answer = await other.evaluate(async (api) => {
                const canvas = document.getElementById("c") as HTMLCanvasElement;
                const ctx = canvas.getContext("2d")!;
                const gradient = ctx.createLinearGradient(0, 0, 64, 48);
                gradient.addColorStop(0, "#123");
                gradient.addColorStop(1, "#fc8");
                ctx.fillStyle = gradient;
                ctx.fillRect(0, 0, 64, 48);
                const png = await new Promise<Blob>((r) =>
                  canvas.toBlob((b) => r(b!), "image/png")
                );
                const form = new FormData();
                form.set("source", png, "a.png");
                form.set("target", png, "b.png");
                form.set("points", "[[10, 10]]");
                const multipart = await fetch(`${api}/v1/match`, { method: "POST", body: form });
                // JSON is not a simple request: the browser asks the preflight first.
                const dataUrl = canvas.toDataURL("image/png");
                const json = await fetch(`${api}/v1/match`, {
                  method: "POST",
                  headers: { "content-type": "application/json" },
                  body: JSON.stringify({ source: dataUrl, target: dataUrl, points: [[10, 10]] }),
                });
                return {
                  origin: location.origin,
                  multipart: multipart.status,
                  json: json.status,
                  matches: (await json.json()).matches.length,
                  requestId: json.headers.get("x-request-id"),
                };
              }, url);
              assert.notEqual(answer.origin, url);
              assert.equal(answer.multipart, 200);
              assert.equal(answer.json, 200);
              assert.equal(answer.matches, 1);
              assert.ok(answer.requestId, "exposed headers are readable");
              await other.close();
            });
          },
        );

        assert.deepEqual(session.offLoopback, []);
        assert.deepEqual(session.pageErrors, []);
      });
    });
  },
});
