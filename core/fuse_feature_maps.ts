// This module is browser compatible.
/**
 * Fusion of several backbones' feature maps into one grid (the survey's
 * SD + DINOv2 recipe).
 *
 * @module
 */

import type { FeatureDims } from "./sample_features.ts";
import {
  DEFAULT_FEATURE_RESIZE,
  type FeatureMapSize,
  resizeFeatureMap,
  type ResizeFeatureMapOptions,
} from "./resize_feature_map.ts";

/** One input of {@linkcode fuseFeatureMaps}: a CHW map and its weight. */
export interface WeightedFeatureMap extends FeatureDims {
  /** Feature map, CHW row-major: `channels * height * width` values. */
  data: Float32Array;
  /** Factor applied after per-cell L2 normalization (finite, >= 0). */
  weight: number;
}

/** A fused map, CHW. */
export interface FusedFeatureMap extends FeatureDims {
  /** `channels * height * width` values, CHW row-major. */
  data: Float32Array;
}

/** Smallest norm a cell's feature is divided by, as torch's `F.normalize` (`eps = 1e-12`). */
const NORM_EPSILON = 1e-12;

/**
 * Fuses feature maps: each map's features are L2-normalized per cell
 * (divided by `max(||f||, 1e-12)`, so a zero feature stays zero), multiplied
 * by the map's weight, resized bilinearly to `size` with
 * {@linkcode resizeFeatureMap}, and concatenated along channels in input
 * order. The output has `sum(channels)` channels.
 *
 * Normalizing first makes each map's share of a cosine similarity follow
 * its weight whatever the scale of its raw features: on cells that need no
 * resize a fused feature has squared norm `sum(weight^2)`, and a map of
 * weight 0 contributes zeros. Cells interpolated between two unit features
 * are slightly shorter than the weight.
 *
 * @param maps The maps and their weights (at least one).
 * @param size The common grid.
 * @param options `alignCorners` of the resize (default false, see {@linkcode DEFAULT_FEATURE_RESIZE}).
 * @returns A new fused CHW map on `size`.
 * @throws {RangeError} If there is no map, a weight is negative or not finite,
 *   or a size or length is invalid (see {@linkcode resizeFeatureMap}).
 *
 * @example Usage
 * ```ts
 * import { fuseFeatureMaps } from "./fuse_feature_maps.ts";
 * import assert from "node:assert/strict";
 *
 * // Two 1x1 maps: [3, 4] (norm 5) with weight 1 and [2] with weight 0.5.
 * const fused = fuseFeatureMaps([
 *   { data: Float32Array.of(3, 4), channels: 2, height: 1, width: 1, weight: 1 },
 *   { data: Float32Array.of(2), channels: 1, height: 1, width: 1, weight: 0.5 },
 * ], { height: 1, width: 1 });
 * assert.equal(fused.channels, 3);
 * assert.deepEqual([...fused.data], [0.6, 0.8, 0.5].map(Math.fround));
 * ```
 */
export function fuseFeatureMaps(
  maps: readonly WeightedFeatureMap[],
  size: FeatureMapSize,
  options: ResizeFeatureMapOptions = {},
): FusedFeatureMap {
  if (maps.length === 0) throw new RangeError("Cannot fuse feature maps: no map given");
  const alignCorners = options.alignCorners ?? DEFAULT_FEATURE_RESIZE.alignCorners;
  const resized: Float32Array[] = [];
  maps.forEach((m, i) => {
    if (!Number.isFinite(m.weight) || m.weight < 0) {
      throw new RangeError(
        `Cannot fuse feature maps: weight of map ${i} must be finite and >= 0, got ${m.weight}`,
      );
    }
    const dims = { channels: m.channels, height: m.height, width: m.width };
    if (m.data.length !== m.channels * m.height * m.width) {
      throw new RangeError(
        `Cannot fuse feature maps: map ${i} has ${m.data.length} values, expected ${
          m.channels * m.height * m.width
        } for ${m.channels}x${m.height}x${m.width}`,
      );
    }
    resized.push(resizeFeatureMap(normalizeCells(m.data, dims, m.weight), dims, size, {
      alignCorners,
    }));
  });
  const channels = maps.reduce((sum, m) => sum + m.channels, 0);
  const data = new Float32Array(channels * size.height * size.width);
  let offset = 0;
  for (const r of resized) {
    data.set(r, offset);
    offset += r.length;
  }
  return { data, channels, height: size.height, width: size.width };
}

/** `weight * f / max(||f||, eps)` for every cell's feature `f`, CHW. */
function normalizeCells(data: Float32Array, dims: FeatureDims, weight: number): Float32Array {
  const cells = dims.height * dims.width;
  const norms = new Float64Array(cells);
  for (let c = 0; c < dims.channels; c++) {
    const plane = c * cells;
    for (let i = 0; i < cells; i++) norms[i] += data[plane + i] * data[plane + i];
  }
  for (let i = 0; i < cells; i++) norms[i] = weight / Math.max(Math.sqrt(norms[i]), NORM_EPSILON);
  const out = new Float32Array(data.length);
  for (let c = 0; c < dims.channels; c++) {
    const plane = c * cells;
    for (let i = 0; i < cells; i++) out[plane + i] = data[plane + i] * norms[i];
  }
  return out;
}
