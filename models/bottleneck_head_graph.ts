// This module is browser compatible.
/**
 * A small residual feature head as an ONNX graph, shaped like the survey's
 * ResNet-bottleneck enhancer: `y = shortcut(x) + W2 relu(W1 x + b1) + b2`
 * with 1x1 convolutions, so it maps `[1, C, h, w]` to `[1, C', h, w]` on any
 * grid. The shortcut is the identity when `C' = C`, else a 1x1 projection.
 * Weights are random but deterministic in `seed`, for tests of the `head`
 * descriptor field; a trained head exported from PyTorch has the same
 * contract.
 *
 * @example Usage
 * ```ts
 * import { buildBottleneckHeadGraph } from "./bottleneck_head_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const a = buildBottleneckHeadGraph({ channels: 128, outChannels: 64, seed: 1 });
 * assert.deepEqual(a, buildBottleneckHeadGraph({ channels: 128, outChannels: 64, seed: 1 }));
 * assert.throws(() => buildBottleneckHeadGraph({ channels: 0 }), RangeError);
 * ```
 *
 * @module
 */

import { OnnxGraph } from "../core/onnx_graph.ts";
import { seededNormal } from "./_seeded_normal.ts";

/** Names of the head's input and output. */
export const BOTTLENECK_HEAD_IO = Object.freeze({
  /** `[1, channels, h, w]` features. */
  input: "features",
  /** `[1, outChannels, h, w]` enhanced features. */
  output: "head_features",
});

/** Shape and seed of the head. */
export interface BottleneckHeadOptions {
  /** Input channels `C`. */
  channels: number;
  /** Bottleneck width (default `max(1, C / 4)` rounded down). */
  hidden?: number;
  /** Output channels `C'` (default `C`). */
  outChannels?: number;
  /** Seed of the weights (default 0). */
  seed?: number;
  /** Scale of the residual branch (default 0.5). */
  residualScale?: number;
}

/**
 * Builds the head as ONNX bytes (opset 17).
 *
 * @param options Channels, bottleneck width, output channels, seed.
 * @returns ONNX model bytes; input and output names in {@linkcode BOTTLENECK_HEAD_IO}.
 * @throws {RangeError} When a size is not a positive integer or `seed` is not an integer.
 */
export function buildBottleneckHeadGraph(options: BottleneckHeadOptions): Uint8Array {
  const c = options.channels;
  const hidden = options.hidden ?? Math.max(1, Math.floor(c / 4));
  const out = options.outChannels ?? c;
  const seed = options.seed ?? 0;
  for (const [name, v] of Object.entries({ channels: c, hidden, outChannels: out })) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(
        `Cannot build bottleneck head: ${name} must be a positive integer, got ${v}`,
      );
    }
  }
  if (!Number.isInteger(seed)) {
    throw new RangeError(`Cannot build bottleneck head: seed must be an integer, got ${seed}`);
  }
  const normal = seededNormal(seed);
  const randn = (n: number, std: number) => Float32Array.from({ length: n }, () => std * normal());
  const g = new OnnxGraph("bottleneck_head");
  const x = g.input(BOTTLENECK_HEAD_IO.input, [1, c, "height", "width"]);
  const conv = (input: string, name: string, inC: number, outC: number, std: number) =>
    g.node("Conv", [
      input,
      g.constFloat(`${name}.weight`, [outC, inC, 1, 1], randn(outC * inC, std)),
      g.constFloat(`${name}.bias`, [outC], randn(outC, 0.02)),
    ], { kernel_shape: [1, 1] });
  const scale = options.residualScale ?? 0.5;
  const hiddenAct = g.node("Relu", [conv(x, "conv1", c, hidden, 1 / Math.sqrt(c))]);
  const branch = conv(hiddenAct, "conv2", hidden, out, scale / Math.sqrt(hidden));
  const shortcut = out === c ? x : conv(x, "shortcut", c, out, 1 / Math.sqrt(c));
  g.output(g.node("Add", [shortcut, branch]), [1, out, "height", "width"], {
    as: BOTTLENECK_HEAD_IO.output,
  });
  return g.toBytes();
}
