// This module is browser compatible.
/**
 * The embedded default backbone `dsift`: a dense SIFT-like descriptor written
 * as an ONNX graph, so it runs through the same worker and session path as any
 * learned backbone, with nothing to download and nothing opaque.
 *
 * Pipeline, all with graph-friendly operators:
 * 1. gray = 0.299 R + 0.587 G + 0.114 B (input pixels in [0, 1]);
 * 2. a light Gaussian blur (separable, edge-padded);
 * 3. central-difference gradients, magnitude and orientation (atan2 built
 *    from Atan and Where);
 * 4. 8 orientation bins with triangular (linear in angle) soft assignment;
 * 5. tent-shaped spatial pooling over cells of `cell` pixels, sampled every
 *    `patch` pixels (one feature per patch, centred on the patch);
 * 6. a 4x4 layout of cells around each patch (a dilated grouped Conv), each
 *    cell weighted by a Gaussian window of sigma = 2 cells, as in SIFT;
 * 7. SIFT normalization (L2, clip at 0.2, L2) then RootSIFT (L1, sqrt), so
 *    cosine similarity of two features is their Hellinger kernel.
 *
 * Output: `[1, 128, H/patch, W/patch]` (`chw` layout).
 *
 * @example Usage
 * ```ts
 * import { buildDsiftGraph } from "./dsift_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = buildDsiftGraph();
 * assert.ok(bytes.length > 1000);
 * ```
 *
 * @module
 */

import { OnnxGraph } from "../core/onnx_graph.ts";

/** Tunable shape of the descriptor. */
export interface DsiftOptions {
  /** Stride between features in input pixels (default 8). */
  patch?: number;
  /** Side of one of the 4x4 spatial cells in input pixels; a multiple of `patch` (default 32). */
  cell?: number;
  /** Sigma of the pre-blur in pixels (default 2). */
  blurSigma?: number;
}

/** Resolved defaults of {@linkcode buildDsiftGraph}. */
export const DSIFT_DEFAULTS: Readonly<Required<DsiftOptions>> = Object.freeze({
  patch: 8,
  cell: 32,
  blurSigma: 2,
});

function gaussianKernel(sigma: number): number[] {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k: number[] = [];
  for (let i = -r; i <= r; i++) k.push(Math.exp(-(i * i) / (2 * sigma * sigma)));
  const s = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / s);
}

/**
 * Builds the `dsift` ONNX model.
 *
 * @param options Descriptor shape; defaults in {@linkcode DSIFT_DEFAULTS}.
 * @returns ONNX model bytes with input `pixel_values` `[1, 3, H, W]` and output
 *   `features` `[1, 128, H/patch, W/patch]`.
 * @throws {RangeError} When `cell` is not a positive multiple of `patch`.
 */
export function buildDsiftGraph(options: DsiftOptions = {}): Uint8Array {
  const { patch, cell, blurSigma } = { ...DSIFT_DEFAULTS, ...options };
  if (!(patch > 0 && patch % 2 === 0 && cell % (2 * patch) === 0)) {
    throw new RangeError(
      `Cannot build dsift: cell (${cell}) must be an even multiple of an even patch (${patch})`,
    );
  }
  const g = new OnnxGraph("dsift");
  const x = g.input("pixel_values", [1, 3, "height", "width"]);

  const gray = g.node("Conv", [x, g.constFloat("to_gray", [1, 3, 1, 1], [0.299, 0.587, 0.114])]);

  // Edge padding keeps image borders from reading as strong gradients.
  const blur = gaussianKernel(blurSigma);
  const r = (blur.length - 1) / 2;
  const padded = g.node("Pad", [gray, g.constInt64("blur_pads", [0, 0, r, r, 0, 0, r, r])], {
    mode: "edge",
  });
  const bx = g.node("Conv", [padded, g.constFloat("blur_x", [1, 1, 1, blur.length], blur)]);
  const smooth = g.node("Conv", [bx, g.constFloat("blur_y", [1, 1, blur.length, 1], blur)]);

  const p1 = g.node("Pad", [smooth, g.constInt64("grad_pads", [0, 0, 1, 1, 0, 0, 1, 1])], {
    mode: "edge",
  });
  const dxFull = g.node("Conv", [p1, g.constFloat("grad_x", [1, 1, 1, 3], [-0.5, 0, 0.5])]);
  const dyFull = g.node("Conv", [p1, g.constFloat("grad_y", [1, 1, 3, 1], [-0.5, 0, 0.5])]);
  // The x kernel leaves the padded top and bottom rows (and y the columns): crop them.
  const one = g.constInt64("crop_start", [1]);
  const minusOne = g.constInt64("crop_end", [-1]);
  const dx = g.node("Slice", [dxFull, one, minusOne, g.constInt64("rows", [2])]);
  const dy = g.node("Slice", [dyFull, one, minusOne, g.constInt64("cols", [3])]);

  const eps = g.constFloat("eps", [], [1e-12]);
  const mag = g.node("Sqrt", [
    g.node("Add", [g.node("Add", [g.node("Mul", [dx, dx]), g.node("Mul", [dy, dy])]), eps]),
  ]);
  // atan2(dy, dx) in (-pi/2, 3pi/2): atan(dy/|dx|) mirrored for dx < 0.
  const t = g.node("Atan", [
    g.node("Div", [dy, g.node("Add", [g.node("Abs", [dx]), g.constFloat("tiny", [], [1e-10])])]),
  ]);
  const theta = g.node("Where", [
    g.node("Less", [dx, g.constFloat("zero", [], [0])]),
    g.node("Sub", [g.constFloat("pi", [], [Math.PI]), t]),
    t,
  ]);
  // Bin coordinate in [-2, 6); circular distance to each of the 8 bin centres.
  const b = g.node("Div", [theta, g.constFloat("bin_width", [], [Math.PI / 4])]);
  const d0 = g.node("Abs", [
    g.node("Sub", [b, g.constFloat("bins", [1, 8, 1, 1], [0, 1, 2, 3, 4, 5, 6, 7])]),
  ]);
  const d = g.node("Min", [
    d0,
    g.node("Abs", [g.node("Sub", [d0, g.constFloat("eight", [], [8])])]),
  ]);
  const w = g.node("Relu", [g.node("Sub", [g.constFloat("one", [], [1]), d])]);
  const hist = g.node("Mul", [w, mag]); // [1, 8, H, W]

  // Tent pooling of half-width `cell`, one output per patch centre (patch*g + patch/2 - 0.5).
  const tent: number[] = [];
  for (let i = 0; i < 2 * cell; i++) tent.push(Math.max(0, 1 - Math.abs(i - (cell - 0.5)) / cell));
  const tentW = Array.from({ length: 8 }, () => tent).flat();
  const pad = cell - patch / 2;
  const px = g.node("Conv", [hist, g.constFloat("tent_x", [8, 1, 1, 2 * cell], tentW)], {
    group: 8,
    strides: [1, patch],
    pads: [0, pad, 0, pad],
  });
  const pooled = g.node("Conv", [px, g.constFloat("tent_y", [8, 1, 2 * cell, 1], tentW)], {
    group: 8,
    strides: [patch, 1],
    pads: [pad, 0, pad, 0],
  });

  // 4x4 cells at offsets (-1.5..1.5) cells: a dilated 4x4 kernel, one-hot per output.
  const dil = cell / patch;
  const layout = new Float32Array(128 * 16);
  for (let bin = 0; bin < 8; bin++) {
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        const dy2 = (i - 1.5) ** 2;
        const dx2 = (j - 1.5) ** 2;
        const out = bin * 16 + i * 4 + j;
        layout[out * 16 + i * 4 + j] = Math.exp(-(dx2 + dy2) / (2 * 2 * 2));
      }
    }
  }
  const cells = g.node("Conv", [pooled, g.constFloat("cell_layout", [128, 1, 4, 4], layout)], {
    group: 8,
    dilations: [dil, dil],
    pads: [1.5 * dil, 1.5 * dil, 1.5 * dil, 1.5 * dil],
  });

  const epsNorm = g.constFloat("eps_norm", [], [1e-7]);
  const l2 = (x: string) =>
    g.node("Div", [
      x,
      g.node("Add", [g.node("ReduceL2", [x], { axes: [1], keepdims: 1 }), epsNorm]),
    ]);
  const n2 = l2(g.node("Min", [l2(cells), g.constFloat("clip", [], [0.2])]));
  const l1 = g.node("ReduceSum", [n2, g.constInt64("axis1", [1])], { keepdims: 1 });
  const root = g.node("Sqrt", [
    g.node("Div", [n2, g.node("Add", [l1, epsNorm])]),
  ]);
  g.output(root, [1, 128, "grid_h", "grid_w"], { as: "features" });
  return g.toBytes();
}
