/**
 * A trained feature head (the survey's ResNet bottleneck or attention
 * enhancer): an ONNX that maps a model's `[1, C, h, w]` grid to
 * `[1, C', h, w]` on the same grid, applied after the backbone (or after a
 * composite's fusion) and before matching.
 *
 * @example Usage
 * ```ts
 * import { FeatureHead } from "./feature_head.ts";
 * import { buildBottleneckHeadGraph } from "../tests/fixtures/bottleneck_head_graph.ts";
 * import { BUILTIN_MODELS } from "../models/registry.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const headFile = `${dir}/head.onnx`;
 * await Deno.writeFile(headFile, buildBottleneckHeadGraph({ channels: 2, outChannels: 3 }));
 * const head = await FeatureHead.create({
 *   descriptor: {
 *     ...BUILTIN_MODELS.dsift,
 *     feature_dim: 2,
 *     head: { url: headFile, input: "features", output: "head_features", feature_dim: 3 },
 *   },
 *   headFile,
 * }, { backend: "wasm" });
 * const grid = { data: new Float32Array(2 * 2 * 2).fill(1), channels: 2, height: 2, width: 2 };
 * const out = await head.apply(grid);
 * assert.deepEqual([out.channels, out.height, out.width], [3, 2, 2]);
 * await head.release();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import type { FeatureHeadSpec } from "../models/descriptor.ts";
import { ModelContractError, ModelLoadError } from "../errors/mod.ts";
import type { FeatureGrid } from "../core/feature_grid.ts";
import type { ModelRef } from "../models/model_ref.ts";
import type { BackendName, InferenceSession } from "./session.ts";
import type { ExtractedFeatures, GridExtractor, InputOptions } from "./feature_extractor.ts";
import type { DecodedImage } from "./decode_image.ts";
import { openOnnxPart } from "./_onnx_part.ts";

/** One model's head session and the spec that says how to feed and read it. */
export class FeatureHead {
  #label: string;
  #spec: FeatureHeadSpec;
  #inputDim: number;
  #session: InferenceSession;

  private constructor(ref: ModelRef, spec: FeatureHeadSpec, session: InferenceSession) {
    this.#label = `the head of model \`${ref.descriptor.id}\``;
    this.#spec = spec;
    this.#inputDim = ref.descriptor.feature_dim;
    this.#session = session;
  }

  /**
   * Opens the head of a model.
   *
   * @param ref The model; its descriptor has a `head` and `headFile` is its local file.
   * @param options `backend` runs it.
   * @returns The head.
   * @throws {ModelLoadError} When the model has no head, the file is missing or rejected.
   * @throws {ModelContractError} When the graph lacks the named input or output.
   */
  static async create(ref: ModelRef, options: { backend: BackendName }): Promise<FeatureHead> {
    const spec = ref.descriptor.head;
    if (!spec) {
      throw new ModelLoadError(
        `Cannot load a head for model \`${ref.descriptor.id}\`: it has none`,
      );
    }
    const label = `the head of model \`${ref.descriptor.id}\``;
    const session = await openOnnxPart(ref.headFile, { label, spec, backend: options.backend });
    return new FeatureHead(ref, spec, session);
  }

  /**
   * Runs the head on a grid.
   *
   * @param grid The model's features, `[C, h, w]` with `C` its `feature_dim`.
   * @returns A new `[C', h, w]` grid, `C'` the head's `feature_dim`.
   * @throws {ModelContractError} When the grid has the wrong channel count, the
   *   runtime rejects the run, or the head's output is not `[1, C', h, w]`.
   */
  async apply(grid: FeatureGrid): Promise<FeatureGrid> {
    const { channels, height, width } = grid;
    if (channels !== this.#inputDim) {
      throw new ModelContractError(
        `Cannot run ${this.#label}: the features have ${channels} channels, the descriptor's feature_dim is ${this.#inputDim}`,
      );
    }
    let out;
    try {
      out = await this.#session.run({
        [this.#spec.input]: { data: grid.data, dims: [1, channels, height, width] },
      });
    } catch (e) {
      throw new ModelContractError((e as Error).message, { cause: e });
    }
    const raw = out[this.#spec.output];
    const want = [1, this.#spec.feature_dim, height, width];
    if (raw.dims.length !== 4 || raw.dims.some((d, i) => d !== want[i])) {
      throw new ModelContractError(
        `Cannot use ${this.#label}: it returned [${raw.dims}], expected [${want}] (head.feature_dim ${this.#spec.feature_dim} on the ${height}x${width} grid)`,
      );
    }
    // A copy owns its buffer, which the worker transfers to the pool.
    return { data: raw.data.slice(), channels: this.#spec.feature_dim, height, width };
  }

  /**
   * An extractor that runs `base`, then this head; the head's time counts as extraction.
   *
   * @param base The model's extractor without its head.
   * @returns The combined extractor.
   */
  on(base: GridExtractor): GridExtractor {
    const apply = (grid: FeatureGrid) => this.apply(grid);
    return {
      get backend() {
        return base.backend;
      },
      async extract(
        image: DecodedImage,
        options: InputOptions,
      ): Promise<ExtractedFeatures> {
        const f = await base.extract(image, options);
        const t0 = performance.now();
        const grid = await apply(f.grid);
        const head = performance.now() - t0;
        return { ...f, grid, timings: { ...f.timings, extract: f.timings.extract + head } };
      },
    };
  }

  /** Frees the session. */
  release(): Promise<void> {
    return this.#session.release();
  }
}
