/**
 * `POST /v1/visualize`: the `/v1/match` request (either form, the same
 * fields), answered with a PNG picture of the match instead of JSON: source
 * and target side by side at a common height (the taller image's, at most
 * 720 px), each query and its match as numbered dots (1 for the first
 * point) joined by a line, coloured by score. With `heatmap: true` and
 * exactly one point, the target is overlaid with that query's similarity to
 * every target cell. Where each image lies in the picture is in the
 * `X-Source-Box` and `X-Target-Box` headers (`x,y,width,height`).
 *
 * The worker that matches also draws and encodes the picture, where both
 * images are decoded anyway, so the server's thread never decodes an image:
 * drawing is `pictures/match_picture.ts`, encoding pngjs's (`pictures/encode_png.ts`).
 *
 * @module
 */

import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "./app_env.ts";
import { InvalidRequestError } from "../errors/mod.ts";
import { imageBodyLimit } from "./middleware/image_body_limit.ts";
import { overloadGuard } from "./middleware/overload_guard.ts";
import { prepareMatch, runPicture } from "./_match_request.ts";
import { MatchOptionsSchema } from "../workers/match_options.ts";
import type { PictureBox } from "../pictures/match_picture.ts";

/** A flag as JSON sends it (`true`) or as a form field (`"true"`, `"1"`). */
const Flag = z.union([
  z.boolean(),
  z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1"),
]);

/** The options of `/v1/visualize`: those of `/v1/match`, and `heatmap`. */
export const VisualizeOptionsSchema = MatchOptionsSchema.extend({
  heatmap: Flag.default(false).describe(
    "overlay the target with the query's similarity map (needs exactly one point)",
  ),
});

function box(b: PictureBox): string {
  return `${b.x},${b.y},${b.width},${b.height}`;
}

const app = new Hono<AppEnv>();

app.post("/", overloadGuard(), imageBodyLimit(2), async (c) => {
  const prepared = await prepareMatch(c, VisualizeOptionsSchema);
  const { options, points } = prepared;
  if (options.heatmap && points.length !== 1) {
    const message =
      `a heatmap shows one query's similarity: send exactly one point, not ${points.length}`;
    throw new InvalidRequestError(`Invalid request at \`points\`: ${message}`, {
      details: { issues: [{ path: ["points"], message, code: "too_big" }], issue_count: 1 },
    });
  }
  const picture = await runPicture(c.var.services, prepared, { heatmap: options.heatmap });
  return c.body(picture.png as Uint8Array<ArrayBuffer>, 200, {
    "content-type": "image/png",
    "x-source-box": box(picture.source),
    "x-target-box": box(picture.target),
    "x-model": prepared.descriptor.id,
  });
});

export default app;
