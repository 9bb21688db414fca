// This module is browser compatible.
/**
 * A tiny random ViT with the exact input/output contract of the Hugging Face
 * DINOv2 ONNX exports, for tests: no download, a few hundred kilobytes,
 * built from readable code.
 *
 * Contract (as `onnx-community/dinov2-*` and `Xenova/dinov2-*`):
 * - input `pixel_values` `[B, 3, H, W]` float32, H and W dynamic;
 * - output `last_hidden_state` `[B, prefix + (H/patch)*(W/patch), dim]`:
 *   CLS, then registers, then the patch tokens in row-major order;
 * - output `pooler_output` `[B, dim]`: the CLS token after the final LayerNorm.
 *
 * Architecture, DINOv2-shaped:
 * 1. patch embedding: a Conv with kernel = stride = `patch`;
 * 2. position embeddings stored for a `trainedGrid` x `trainedGrid` patch grid
 *    and resized at run time to the input's grid with ONNX `Resize`
 *    (mode `cubic`, a = -0.75, `pytorch_half_pixel`, i.e. PyTorch's bicubic
 *    without antialias), the target size computed from the input shape with
 *    `Shape`/`Gather`/`Div`: the path that misbehaves at non-224 sizes in some
 *    hub exports, so tests exercise it;
 * 3. the CLS token (plus its position embedding), then `prefixTokens - 1`
 *    register tokens (no position embedding), then the patch tokens;
 * 4. `depth` pre-norm blocks: LayerNormalization (opset 17), multi-head
 *    attention from MatMul and Softmax, LayerScale, an MLP of ratio 4 with
 *    the exact (erf) GELU written as `0.5 x (1 + erf(x / sqrt 2))`, since the
 *    `Gelu` operator needs opset 20;
 * 5. a final LayerNorm.
 *
 * Weights are random but deterministic in `seed` (a mulberry32 generator),
 * scaled by 1/sqrt(fan-in) so activations stay near unit variance.
 *
 * @example Usage
 * ```ts
 * import { buildTinyVitGraph } from "./tiny_vit_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const a = buildTinyVitGraph({ seed: 1 });
 * assert.deepEqual(a, buildTinyVitGraph({ seed: 1 }));
 * assert.notDeepEqual(a, buildTinyVitGraph({ seed: 2 }));
 * assert.throws(() => buildTinyVitGraph({ dim: 30, heads: 4 }), RangeError);
 * ```
 *
 * @module
 */

import { OnnxGraph } from "../core/onnx_graph.ts";
import { seededNormal } from "./_seeded_normal.ts";

/** Shape and seed of the tiny ViT. */
export interface TinyVitOptions {
  /** Embedding width (default 32). */
  dim?: number;
  /** Attention heads; must divide `dim` (default 2). */
  heads?: number;
  /** Transformer blocks (default 2). */
  depth?: number;
  /** Patch side in pixels (default 14, as DINOv2). */
  patch?: number;
  /** CLS plus register tokens (default 1; 5 for the `with-registers` models). */
  prefixTokens?: number;
  /** Seed of the weights (default 0). */
  seed?: number;
  /** Side of the patch grid the position embeddings are stored for (default 16 = 224/14). */
  trainedGrid?: number;
}

/** Resolved defaults of {@linkcode buildTinyVitGraph}. */
export const TINY_VIT_DEFAULTS: Readonly<Required<TinyVitOptions>> = Object.freeze({
  dim: 32,
  heads: 2,
  depth: 2,
  patch: 14,
  prefixTokens: 1,
  seed: 0,
  trainedGrid: 16,
});

/**
 * Builds the tiny ViT as ONNX bytes (opset 17).
 *
 * @param options Width, heads, depth, patch, prefix tokens, seed and trained
 *   grid; defaults in {@linkcode TINY_VIT_DEFAULTS}.
 * @returns ONNX model bytes with input `pixel_values` and outputs
 *   `last_hidden_state` and `pooler_output`.
 * @throws {RangeError} When a size is not a positive integer, `heads` does not
 *   divide `dim`, or `seed` is not an integer.
 */
export function buildTinyVitGraph(options: TinyVitOptions = {}): Uint8Array {
  const o = { ...TINY_VIT_DEFAULTS, ...options };
  const { dim, heads, depth, patch, prefixTokens, trainedGrid } = o;
  for (const [name, v] of Object.entries({ dim, heads, depth, patch, prefixTokens, trainedGrid })) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`Cannot build tiny ViT: ${name} must be a positive integer, got ${v}`);
    }
  }
  if (dim % heads !== 0) {
    throw new RangeError(`Cannot build tiny ViT: heads (${heads}) must divide dim (${dim})`);
  }
  if (!Number.isInteger(o.seed)) {
    throw new RangeError(`Cannot build tiny ViT: seed must be an integer, got ${o.seed}`);
  }
  const normal = seededNormal(o.seed);
  const randn = (n: number, std: number, mean = 0) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = mean + std * normal();
    return a;
  };
  const headDim = dim / heads;
  const g = new OnnxGraph("tiny_vit");
  const x = g.input("pixel_values", ["batch", 3, "height", "width"]);

  // 1. Patch embedding: [B, 3, H, W] -> [B, dim, h, w] -> [B, h*w, dim].
  const conv = g.node("Conv", [
    x,
    g.constFloat(
      "patch_embed.weight",
      [dim, 3, patch, patch],
      randn(dim * 3 * patch * patch, 1 / Math.sqrt(3 * patch * patch)),
    ),
    g.constFloat("patch_embed.bias", [dim], randn(dim, 0.02)),
  ], { kernel_shape: [patch, patch], strides: [patch, patch] });
  const patches = g.node("Transpose", [
    g.node("Reshape", [conv, g.constInt64("patch_flat_shape", [0, dim, -1])]),
  ], { perm: [0, 2, 1] });

  // 2. Position grid [1, dim, G, G] resized bicubically to (H/patch, W/patch).
  const shape = g.node("Shape", [x]);
  const hw = g.node("Div", [
    g.node("Gather", [shape, g.constInt64("hw_axes", [2, 3])], { axis: 0 }),
    g.constInt64("patch_size", [patch]),
  ]);
  const sizes = g.node("Concat", [g.constInt64("pos_lead_dims", [1, dim]), hw], { axis: 0 });
  const posGrid = g.constFloat(
    "pos_embed.grid",
    [1, dim, trainedGrid, trainedGrid],
    randn(dim * trainedGrid * trainedGrid, 0.2),
  );
  const posResized = g.node("Resize", [posGrid, "", "", sizes], {
    mode: "cubic",
    cubic_coeff_a: { float: -0.75 },
    coordinate_transformation_mode: "pytorch_half_pixel",
  });
  const posTokens = g.node("Transpose", [
    g.node("Reshape", [posResized, g.constInt64("pos_flat_shape", [1, dim, -1])]),
  ], { perm: [0, 2, 1] });
  const patchTokens = g.node("Add", [patches, posTokens]);

  // 3. CLS (with its position embedding) and registers, broadcast over the batch.
  const cls = randn(dim, 1);
  const posCls = randn(dim, 0.2);
  const prefix = new Float32Array(prefixTokens * dim);
  for (let c = 0; c < dim; c++) prefix[c] = cls[c] + posCls[c];
  prefix.set(randn((prefixTokens - 1) * dim, 1), dim);
  const batch = g.node("Gather", [shape, g.constInt64("batch_axis", [0])], { axis: 0 });
  const prefixShape = g.node("Concat", [batch, g.constInt64("prefix_dims", [prefixTokens, dim])], {
    axis: 0,
  });
  const prefixTokensB = g.node("Expand", [
    g.constFloat("prefix_tokens", [1, prefixTokens, dim], prefix),
    prefixShape,
  ]);
  let h = g.node("Concat", [prefixTokensB, patchTokens], { axis: 1 });

  // 4. Pre-norm transformer blocks.
  const layerNorm = (input: string, name: string) =>
    g.node("LayerNormalization", [
      input,
      g.constFloat(`${name}.weight`, [dim], randn(dim, 0.1, 1)),
      g.constFloat(`${name}.bias`, [dim], randn(dim, 0.05)),
    ], { axis: -1, epsilon: { float: 1e-6 } });
  const linear = (input: string, name: string, inDim: number, outDim: number) =>
    g.node("Add", [
      g.node("MatMul", [
        input,
        g.constFloat(
          `${name}.weight`,
          [inDim, outDim],
          randn(inDim * outDim, 1 / Math.sqrt(inDim)),
        ),
      ]),
      g.constFloat(`${name}.bias`, [outDim], randn(outDim, 0.02)),
    ]);
  const headShape = g.constInt64("head_shape", [0, -1, heads, headDim]);
  const mergeShape = g.constInt64("merge_shape", [0, -1, dim]);
  const scale = g.constFloat("attn_scale", [], [1 / Math.sqrt(headDim)]);
  const half = g.constFloat("half", [], [0.5]);
  const one = g.constFloat("one", [], [1]);
  const invSqrt2 = g.constFloat("inv_sqrt2", [], [Math.SQRT1_2]);
  for (let i = 0; i < depth; i++) {
    const p = `blocks.${i}`;
    const y = layerNorm(h, `${p}.norm1`);
    const split = (name: string, perm: number[]) =>
      g.node("Transpose", [
        g.node("Reshape", [linear(y, `${p}.attn.${name}`, dim, dim), headShape]),
      ], {
        perm,
      });
    const q = split("query", [0, 2, 1, 3]); // [B, heads, N, hd]
    const kT = split("key", [0, 2, 3, 1]); // [B, heads, hd, N]
    const v = split("value", [0, 2, 1, 3]); // [B, heads, N, hd]
    const attn = g.node("Softmax", [g.node("Mul", [g.node("MatMul", [q, kT]), scale])], {
      axis: -1,
    });
    const context = g.node("Reshape", [
      g.node("Transpose", [g.node("MatMul", [attn, v])], { perm: [0, 2, 1, 3] }),
      mergeShape,
    ]);
    const attnOut = g.node("Mul", [
      linear(context, `${p}.attn.output`, dim, dim),
      g.constFloat(`${p}.layer_scale1`, [dim], randn(dim, 0.1, 0.5)),
    ]);
    h = g.node("Add", [h, attnOut]);
    const hidden = linear(layerNorm(h, `${p}.norm2`), `${p}.mlp.fc1`, dim, 4 * dim);
    const gelu = g.node("Mul", [
      g.node("Mul", [hidden, half]),
      g.node("Add", [one, g.node("Erf", [g.node("Mul", [hidden, invSqrt2])])]),
    ]);
    const mlpOut = g.node("Mul", [
      linear(gelu, `${p}.mlp.fc2`, 4 * dim, dim),
      g.constFloat(`${p}.layer_scale2`, [dim], randn(dim, 0.1, 0.5)),
    ]);
    h = g.node("Add", [h, mlpOut]);
  }

  // 5. Final LayerNorm; the pooler output is the normalized CLS token.
  const last = layerNorm(h, "layernorm");
  g.output(last, ["batch", "tokens", dim], { as: "last_hidden_state" });
  const pooled = g.node("Gather", [last, g.constInt64("cls_index", [0], [])], { axis: 1 });
  g.output(pooled, ["batch", dim], { as: "pooler_output" });
  return g.toBytes();
}
