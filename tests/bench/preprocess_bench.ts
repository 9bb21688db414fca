/**
 * The model-input preprocessing per resample mode on a real PF-WILLOW
 * image, in this thread: the fastest of many runs (the least disturbed by
 * other load on the machine), at the input sides the survey uses.
 *
 * @module
 */

import { decodeImage } from "../../workers/decode_image.ts";
import { makeFrame } from "../../core/frame.ts";
import { RESAMPLE_MODES, toModelInput } from "../../core/model_input.ts";

const IMAGE = new URL(
  "../../../shared/data/pf-willow/PF-dataset/car(G)/Cars_006a.png",
  import.meta.url,
);

function fastest(run: () => unknown, times: number): number {
  for (let i = 0; i < 5; i++) run();
  let best = Infinity;
  for (let i = 0; i < times; i++) {
    const s = performance.now();
    run();
    best = Math.min(best, performance.now() - s);
  }
  return best;
}

/** Prints the preprocessing times of each resample mode at 256, 448 and 840. */
export async function benchPreprocess(): Promise<void> {
  const image = await decodeImage(await Deno.readFile(IMAGE));
  const stats = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
  console.log(
    `\npreprocess (resize + normalize, toModelInput) of a ${image.width}x${image.height} PF-WILLOW image, stretch, fastest of 50 (ms):`,
  );
  for (const size of [256, 448, 840]) {
    const frame = makeFrame(image, { size, mode: "stretch" });
    const times = RESAMPLE_MODES.map((resample) =>
      `${resample} ${
        fastest(() => toModelInput(image, { frame, resample, ...stats }), 50).toFixed(2)
      }`
    );
    console.log(`  ${String(size).padStart(3)}: ${times.join(", ")}`);
  }
}
