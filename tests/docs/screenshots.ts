/**
 * Makes the README's pictures from the real service and a real browser:
 * `docs/demo.png` (the demo page after four clicks on a PF-WILLOW pair) and
 * `docs/visualize.png` (what `POST /v1/visualize` answers for the same
 * pair), each reduced to 256 colours so they stay small. Run it after
 * changing the page or the drawing:
 *
 * ```sh
 * deno task docs:pictures
 * ```
 *
 * It reads `../shared/data` and needs Debian's Chromium (`apt-get install -y chromium`).
 *
 * @module
 */

/// <reference lib="dom" />

import { fileURLToPath } from "node:url";
import { noBrowserReason, withBrowser } from "../routes/_browser.ts";
import { matchForm, WILLOW, withService } from "../routes/_service.ts";
import { toPalettePng } from "./_palette.ts";

const DOCS = new URL("../../docs/", import.meta.url);
const SOURCE = "car(G)/Cars_006a.png";
const TARGET = "car(G)/Cars_007a.png";
/** Points on the 300 x 200 source, in its pixels: rear wheel, front wheel, headlight, windscreen. */
const POINTS: [number, number][] = [[51, 96], [153, 120], [200, 89], [116, 55]];

const reason = noBrowserReason();
if (reason) throw new Error(`Cannot take the screenshot: ${reason}`);

await Deno.mkdir(DOCS, { recursive: true });
await withService({ DATA_PFWILLOW: fileURLToPath(new URL("..", WILLOW)) }, async (url) => {
  const source = await Deno.readFile(new URL(SOURCE, WILLOW));
  const target = await Deno.readFile(new URL(TARGET, WILLOW));
  const picture = await fetch(`${url}/v1/visualize`, {
    method: "POST",
    body: matchForm(source, target, POINTS),
  });
  if (!picture.ok) throw new Error(`visualize: ${picture.status} ${await picture.text()}`);
  const png = new Uint8Array(await picture.arrayBuffer());
  await Deno.writeFile(new URL("visualize.png", DOCS), toPalettePng(png));

  await withBrowser(async ({ context, offLoopback }) => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 1300, height: 640 });
    await page.goto(`${url}/demo`);
    await page.waitForFunction(() => document.querySelectorAll("#model option").length > 0);
    await page.setInputFiles("#source-file", fileURLToPath(new URL(SOURCE, WILLOW)));
    await page.setInputFiles("#target-file", fileURLToPath(new URL(TARGET, WILLOW)));
    await page.waitForFunction(() =>
      (document.getElementById("target-canvas") as HTMLCanvasElement).width > 1
    );
    const canvas = page.locator("#source-canvas");
    const box = (await canvas.boundingBox())!;
    for (const [i, [x, y]] of POINTS.entries()) {
      // Source pixels to the canvas as shown (the page maps clicks back the same way).
      await canvas.click({
        position: { x: ((x + 0.5) * box.width) / 300, y: ((y + 0.5) * box.height) / 200 },
      });
      await page.waitForFunction(
        (n) =>
          document.querySelectorAll('#matches td[data-field="score"]:not(:empty)').length === n,
        i + 1,
      );
    }
    await page.waitForFunction(() =>
      (document.getElementById("heatmap-canvas") as HTMLCanvasElement).width > 1
    );
    // Let the last heatmap answer land before the picture is taken.
    await page.waitForLoadState("networkidle");
    const shot = await page.screenshot({ fullPage: true });
    await Deno.writeFile(new URL("demo.png", DOCS), toPalettePng(new Uint8Array(shot)));
    if (offLoopback.length) {
      throw new Error(`The page left the loopback: ${offLoopback.join(", ")}`);
    }
  });
});
for (const name of ["demo.png", "visualize.png"]) {
  const { size } = await Deno.stat(new URL(name, DOCS));
  console.log(`docs/${name}: ${(size / 1024).toFixed(0)} KB`);
}
