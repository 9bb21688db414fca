/**
 * Pictures of an evaluation's first pairs (`deno task eval --visualize DIR`):
 * for each pair, the picture `POST /v1/visualize` draws (source and target
 * side by side, numbered queries and predictions joined by lines coloured by
 * score), plus the ground truth as white rings on the target, written as
 * `DIR/<index>_<pair id>.png`. Each pair is matched as `/v1/match` matches
 * it, which gives the evaluation's predictions bit for bit.
 *
 * @example Usage
 * ```ts ignore
 * const prepared = await prepareEvaluation(request, deps);
 * const files = await writeMatchPictures(prepared, deps.pool, { dir: "pictures", limit: 20 });
 * ```
 *
 * @module
 */

import { join } from "node:path";
import type { WorkerPool } from "../workers/pool.ts";
import { localizerOf } from "../workers/match_options.ts";
import { decodeImage } from "../workers/decode_image.ts";
import { matchPicture } from "../pictures/match_picture.ts";
import { encodePng } from "../pictures/encode_png.ts";
import type { PreparedEvaluation } from "./run_evaluation.ts";

/** Pairs drawn when no limit is given. */
export const DEFAULT_PICTURE_LIMIT = 20;

/**
 * A pair's file name: its index (so files sort in pair order) and its id,
 * characters other than letters, digits, `.`, `_` and `-` replaced by `_`.
 *
 * @param index The pair's index in the selection.
 * @param pairId The pair's id.
 * @returns The file name.
 *
 * @example Usage
 * ```ts
 * import { pictureName } from "./match_pictures.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(pictureName(3, "car(G)/Cars_006a:Cars_007a"), "003_car_G__Cars_006a_Cars_007a.png");
 * ```
 */
export function pictureName(index: number, pairId: string): string {
  return `${String(index).padStart(3, "0")}_${pairId.replace(/[^A-Za-z0-9._-]/g, "_")}.png`;
}

/**
 * Draws the first pairs of a prepared evaluation into a folder (made if missing).
 *
 * @param prepared The evaluation, as `prepareEvaluation` returns it.
 * @param pool The worker pool that matches.
 * @param options `dir`: the folder; `limit`: pairs drawn at most (default
 *   {@linkcode DEFAULT_PICTURE_LIMIT}); pairs without keypoints are skipped.
 * @returns The files written, in pair order.
 * @throws {DatasetError} When an image cannot be read.
 * @throws {ImageDecodeError} When an image does not decode.
 */
export async function writeMatchPictures(
  prepared: PreparedEvaluation,
  pool: WorkerPool,
  options: { dir: string; limit?: number },
): Promise<string[]> {
  const { request, model, resolution, pairs, queries } = prepared;
  const limit = options.limit ?? DEFAULT_PICTURE_LIMIT;
  const source = prepared.source;
  await Deno.mkdir(options.dir, { recursive: true });
  const files: string[] = [];
  for (const [i, pair] of pairs.slice(0, limit).entries()) {
    const points = queries[i];
    if (points.length === 0) continue;
    const [a, b] = await Promise.all([
      source.readBytes(pair.source, "image"),
      source.readBytes(pair.target, "image"),
    ]);
    const [sourceImage, targetImage] = await Promise.all([decodeImage(a), decodeImage(b)]);
    const result = await pool.run("match", {
      source: a,
      target: b,
      points,
      model,
      resolution,
      resize: request.resize,
      resample: request.resample,
      localizer: localizerOf(request),
    });
    const picture = matchPicture(sourceImage, targetImage, {
      points,
      matches: result.matches,
      truth: pair.target_kps,
    });
    const file = join(options.dir, pictureName(i, pair.pair_id));
    await Deno.writeFile(file, encodePng(picture));
    files.push(file);
  }
  return files;
}
