// This module is browser compatible.
/**
 * Turns a backbone's raw output into a `[C, h, w]` feature grid, checking
 * that its size matches the grid the input resolution implies. A hub export
 * whose position-embedding interpolation misbehaves at some size shows up here
 * as a clear error instead of silently shifted features.
 *
 * @example Usage
 * ```ts
 * import { toFeatureGrid } from "./feature_grid.ts";
 * import assert from "node:assert/strict";
 *
 * // One CLS token then 2x1 patches with 2 channels: [[9, 9], [1, 2], [3, 4]].
 * const grid = toFeatureGrid(new Float32Array([9, 9, 1, 2, 3, 4]), {
 *   dims: [1, 3, 2],
 *   layout: "tokens",
 *   prefixTokens: 1,
 *   grid: { height: 2, width: 1 },
 * });
 * assert.deepEqual(Array.from(grid.data), [1, 3, 2, 4]);
 * assert.equal(grid.channels, 2);
 * ```
 *
 * @module
 */

/** A feature grid, channel-planar: `data[c * height * width + y * width + x]`. */
export interface FeatureGrid {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** How to read the output. */
export interface FeatureGridOptions {
  /** Dims of the output tensor. */
  dims: readonly number[];
  /** `tokens` for `[1, prefix + h*w, C]`, `chw` for `[1, C, h, w]`. */
  layout: "tokens" | "chw";
  /** Tokens to drop before the patch tokens (tokens layout only). */
  prefixTokens: number;
  /** Grid the input resolution implies (input side / patch size). */
  grid: { height: number; width: number };
}

/**
 * Converts a backbone output to a channel-planar feature grid.
 *
 * @param output The output tensor's data.
 * @param options Its dims, layout, prefix tokens and expected grid.
 * @returns A new `[C, h, w]` grid.
 * @throws {RangeError} When the output's size does not match the expected grid.
 */
export function toFeatureGrid(output: Float32Array, options: FeatureGridOptions): FeatureGrid {
  const { dims, layout, prefixTokens, grid } = options;
  const cells = grid.height * grid.width;
  if (layout === "chw") {
    if (dims.length !== 4 || dims[0] !== 1 || dims[2] !== grid.height || dims[3] !== grid.width) {
      throw new RangeError(
        `Cannot read features: output dims [${dims}] do not match the expected grid [1, C, ${grid.height}, ${grid.width}]`,
      );
    }
    return { data: output.slice(0, dims[1] * cells), channels: dims[1], ...grid };
  }
  if (dims.length !== 3 || dims[0] !== 1) {
    throw new RangeError(`Cannot read features: token output dims [${dims}] are not [1, N, C]`);
  }
  const [, tokens, channels] = dims;
  if (tokens !== prefixTokens + cells) {
    throw new RangeError(
      `Cannot read features: the model returned ${tokens} tokens, expected ${prefixTokens} prefix + ${grid.height}x${grid.width} patches = ${
        prefixTokens + cells
      }`,
    );
  }
  const data = new Float32Array(channels * cells);
  const base = prefixTokens * channels;
  for (let i = 0; i < cells; i++) {
    const row = base + i * channels;
    for (let c = 0; c < channels; c++) data[c * cells + i] = output[row + c];
  }
  return { data, channels, ...grid };
}
