/**
 * A fused model (`url: "composite:"`): runs each component at its own side,
 * then fuses their grids with `fuseFeatureMaps` (per-cell L2 normalization,
 * weight, bilinear resize to the common grid, concatenation).
 *
 * Resolution semantics: a request's side `S` (or the composite's
 * `default_resolution`) sets only the common grid, `S / patch_size` cells per
 * side, and the frame that maps points; each component runs at the side its
 * entry fixes (`resolution`, else the component's `default_resolution`).
 * The SD + DINOv2 recipe is written this way: SD at 960, DINOv2 at 840,
 * fused on DINOv2's 60 x 60 grid.
 *
 * @example Usage
 * ```ts
 * import { CompositeExtractor } from "./composite_extractor.ts";
 * import { FeatureExtractor } from "./feature_extractor.ts";
 * import { BUILTIN_MODELS } from "../models/registry.ts";
 * import assert from "node:assert/strict";
 *
 * const dsift = await FeatureExtractor.create({ descriptor: BUILTIN_MODELS.dsift });
 * const fused = new CompositeExtractor({
 *   id: "two-scales",
 *   url: "composite:",
 *   components: [{ model: "dsift", weight: 1, resolution: 64 }, { model: "dsift", weight: 1, resolution: 128 }],
 *   patch_size: 8,
 *   feature_dim: 256,
 *   default_resolution: 96,
 *   resolutions: { min: 64, max: 256 },
 * }, [
 *   { model: "dsift", extractor: dsift, weight: 1, resolution: 64, channels: 128 },
 *   { model: "dsift", extractor: dsift, weight: 1, resolution: 128, channels: 128 },
 * ]);
 * const image = { width: 20, height: 10, data: new Uint8Array(20 * 10 * 3).fill(128) };
 * const { grid, frame } = await fused.extract(image, { resolution: 96, resize: "stretch", resample: "torch" });
 * assert.deepEqual([grid.channels, grid.height, grid.width, frame.size], [256, 12, 12, 96]);
 * await dsift.release();
 * ```
 *
 * @module
 */

import type { CompositeDescriptor } from "../models/descriptor.ts";
import { ModelContractError } from "../errors/mod.ts";
import { makeFrame } from "../core/frame.ts";
import { fuseFeatureMaps, type WeightedFeatureMap } from "../core/fuse_feature_maps.ts";
import { DEFAULT_FEATURE_RESIZE } from "../core/resize_feature_map.ts";
import type { DecodedImage } from "./decode_image.ts";
import type { ExtractedFeatures, GridExtractor, InputOptions } from "./feature_extractor.ts";
import type { BackendName } from "./session.ts";

/** One component, opened. */
export interface CompositePart {
  /** Id of the component model (for messages). */
  model: string;
  /** Its extractor (with its own head, if it has one). */
  extractor: GridExtractor;
  /** Its weight in the fusion. */
  weight: number;
  /** The side it runs at. */
  resolution: number;
  /** Channels its features must have (its head's `feature_dim`, else its `feature_dim`). */
  channels: number;
}

/*
 * Point mapping: why the composite's frame is consistent with every component.
 *
 * The pipeline maps a query from image pixels to the common grid (`G` cells)
 * through the composite's frame of side `S` and the align-corners rule
 * `g = x' (G - 1) / (S - 1)`, and maps located points back the same way.
 * - `stretch`: `x' = x (S - 1) / (W - 1)`, so `g = x (G - 1) / (W - 1)`: `S`
 *   cancels, and so does each component's own side `r_i`: on its own grid
 *   (`g_i` cells) a component puts the same image point at
 *   `x (g_i - 1) / (W - 1)`, the same relative position `u = x / (W - 1)`.
 *   Every grid, component or common, reads position `u` the same way.
 * - `letterbox`: the content fills the same fraction of every square frame,
 *   except that its short side is rounded to whole pixels of each frame, so
 *   the components agree to within one pixel of their own frames.
 * - The resize: with `align_corners: true`, common cell `k` reads component
 *   coordinate `k (g_i - 1) / (G - 1)`, exactly position `u = k / (G - 1)`
 *   that the rule above gives cell `k`. With `align_corners: false` (the
 *   default, what the SD + DINOv2 code passes to `F.interpolate`) cell
 *   centres are matched as areas, `(k + 0.5) / G` of the frame reading the
 *   component where `(j + 0.5) / g_i` is: patch `j` covers pixels
 *   `[j p, (j + 1) p)`, so this keeps each feature where its patch is. The
 *   two readings coincide at the centre and when `g_i = G` (the resize is
 *   then the identity, and a component on the common grid gives exactly the
 *   features it gives alone); elsewhere they differ by less than half a cell
 *   of the coarser grid, the same size as the gap between the align-corners
 *   point rule and patch geometry that every single backbone already has.
 */

/** A composite model's extractor. */
export class CompositeExtractor implements GridExtractor {
  #descriptor: CompositeDescriptor;
  #parts: CompositePart[];

  /**
   * @param descriptor The composite.
   * @param parts Its components, opened, in descriptor order.
   * @throws {RangeError} When `parts` is empty.
   */
  constructor(descriptor: CompositeDescriptor, parts: CompositePart[]) {
    if (parts.length === 0) {
      throw new RangeError(
        `Cannot build composite model \`${descriptor.id}\`: it has no component`,
      );
    }
    this.#descriptor = descriptor;
    this.#parts = parts;
  }

  /** The backend of the components' sessions. */
  get backend(): BackendName {
    return this.#parts[0].extractor.backend;
  }

  /**
   * Extracts and fuses every component's features (one component at a time:
   * a worker's sessions do not run concurrently).
   *
   * @param image Decoded RGB image.
   * @param options `resolution`: the side `S` that sets the common grid
   *   (`S / patch_size`) and the frame; `resize` and `resample`: how every
   *   component and the frame fit the image.
   * @returns The fused `[sum C_i, S/p, S/p]` grid and the composite's frame.
   * @throws {RangeError} When `S` is not a multiple of the composite's patch size.
   * @throws {ModelContractError} When a component's features do not have the
   *   channels its descriptor declares.
   */
  async extract(
    image: DecodedImage,
    options: InputOptions,
  ): Promise<ExtractedFeatures> {
    const d = this.#descriptor;
    const { resolution, resize, resample } = options;
    const cells = resolution / d.patch_size;
    if (!Number.isInteger(cells)) {
      throw new RangeError(
        `Cannot extract with composite model \`${d.id}\`: resolution ${resolution} is not a multiple of its patch_size ${d.patch_size}`,
      );
    }
    // The composite's frame maps points for every component (see "Point mapping" above).
    const frame = makeFrame(image, { size: resolution, mode: resize });
    const maps: WeightedFeatureMap[] = [];
    let preprocess = 0;
    let extract = 0;
    for (const part of this.#parts) {
      const f = await part.extractor.extract(image, {
        resolution: part.resolution,
        resize,
        resample,
      });
      if (f.grid.channels !== part.channels) {
        throw new ModelContractError(
          `Cannot fuse composite model \`${d.id}\`: component \`${part.model}\` returned ${f.grid.channels} channels, its descriptor declares ${part.channels}`,
        );
      }
      maps.push({ ...f.grid, weight: part.weight });
      preprocess += f.timings.preprocess;
      extract += f.timings.extract;
    }
    const t0 = performance.now();
    const fused = fuseFeatureMaps(maps, { height: cells, width: cells }, {
      alignCorners: d.align_corners ?? DEFAULT_FEATURE_RESIZE.alignCorners,
    });
    extract += performance.now() - t0;
    return { grid: fused, frame, timings: { preprocess, extract } };
  }
}
