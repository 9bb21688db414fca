/**
 * A backbone ready to turn decoded images into feature grids: it owns one
 * onnxruntime session and applies the model's resize, normalization and
 * output layout from its descriptor.
 *
 * @example Usage
 * ```ts
 * import { FeatureExtractor } from "./feature_extractor.ts";
 * import { BUILTIN_MODELS } from "../models/registry.ts";
 * import assert from "node:assert/strict";
 *
 * const fx = await FeatureExtractor.create({ descriptor: BUILTIN_MODELS.dsift });
 * const image = { width: 20, height: 10, data: new Uint8Array(20 * 10 * 3).fill(128) };
 * const { grid } = await fx.extract(image, { resolution: 64, resize: "stretch", resample: "torch" });
 * assert.deepEqual([grid.channels, grid.height, grid.width], [128, 8, 8]);
 * await fx.release();
 * ```
 *
 * @module
 */

import type { ModelRef } from "../models/model_ref.ts";
import type { DecodedImage } from "./decode_image.ts";
import type { ResizeMode } from "../core/frame.ts";
import { type Frame, makeFrame } from "../core/frame.ts";
import { type ResampleMode, toModelInput } from "../core/model_input.ts";
import { type FeatureGrid, toFeatureGrid } from "../core/feature_grid.ts";
import { embeddedModelBytes } from "../models/embedded.ts";
import { ModelContractError, ModelLoadError } from "../errors/mod.ts";
import type { BackboneDescriptor } from "../models/descriptor.ts";
import { createSession } from "./backend.ts";
import type { BackendName, InferenceSession } from "./session.ts";

/** Features of one image, with the frame that maps its pixels to the grid. */
export interface ExtractedFeatures {
  grid: FeatureGrid;
  frame: Frame;
  timings: { preprocess: number; extract: number };
}

/** How an image becomes a model input: the side `S`, the fit and the resampling. */
export interface InputOptions {
  /** Side `S` of the square model input. */
  resolution: number;
  /** How the image fits the `S x S` frame. */
  resize: ResizeMode;
  /** How the image is resampled to it. */
  resample: ResampleMode;
}

/**
 * Anything that turns a decoded image into a feature grid and its frame:
 * a backbone ({@linkcode FeatureExtractor}), a composite, a model with its head.
 */
export interface GridExtractor {
  /** The backend that runs its sessions. */
  readonly backend: BackendName;
  /**
   * Extracts one image's features.
   *
   * @param image Decoded RGB image.
   * @param options Input side, resize and resample modes.
   * @returns The grid, the frame that maps image pixels to it, and timings.
   */
  extract(image: DecodedImage, options: InputOptions): Promise<ExtractedFeatures>;
}

/** One backbone's session plus the descriptor that says how to feed and read it. */
export class FeatureExtractor implements GridExtractor {
  #descriptor: BackboneDescriptor;
  #session: InferenceSession;

  private constructor(descriptor: BackboneDescriptor, session: InferenceSession) {
    this.#descriptor = descriptor;
    this.#session = session;
  }

  /**
   * Loads the model bytes (embedded or from the cached file) and opens a session.
   *
   * @param ref The model.
   * @param options `backend` runs it (default `wasm`).
   * @returns An extractor.
   * @throws {ModelLoadError} When the file is missing or onnxruntime rejects it.
   * @throws {ModelContractError} When the descriptor's input or output names are not the model's.
   * @throws {TypeError} When the model is a composite, which has no session of its own.
   */
  static async create(
    ref: ModelRef,
    options: { backend?: BackendName } = {},
  ): Promise<FeatureExtractor> {
    const d = ref.descriptor;
    if (d.components !== undefined) {
      throw new TypeError(
        `Cannot open composite model \`${d.id}\` as one session: open its components`,
      );
    }
    let bytes: Uint8Array;
    let session: InferenceSession;
    try {
      bytes = d.url.startsWith("embedded:")
        ? embeddedModelBytes(d.url)
        : await Deno.readFile(ref.file ?? d.url);
      session = await createSession(bytes, {
        label: `model \`${d.id}\``,
        backend: options.backend ?? "wasm",
      });
    } catch (e) {
      // A read error names the local path: a server path, kept out of the answer.
      const reason = (e as Error).message.replaceAll(ref.file ?? d.url, "its file");
      throw new ModelLoadError(`Cannot load model \`${d.id}\`: ${reason}`);
    }
    if (!session.inputNames.includes(d.input) || !session.outputNames.includes(d.output)) {
      await session.release();
      throw new ModelContractError(
        `Cannot use model \`${d.id}\`: it takes [${session.inputNames}] and returns [${session.outputNames}], the descriptor says input \`${d.input}\` and output \`${d.output}\``,
      );
    }
    return new FeatureExtractor(d, session);
  }

  /** The backend that runs the session, e.g. `wasm`. */
  get backend(): BackendName {
    return this.#session.backend;
  }

  /**
   * Resizes, normalizes and runs one image.
   *
   * @param image Decoded RGB image.
   * @param options Input side, resize and resample modes (see `toModelInput`).
   * @returns The feature grid and the frame of this image.
   * @throws {ModelContractError} When the output does not match the expected grid.
   */
  async extract(image: DecodedImage, options: InputOptions): Promise<ExtractedFeatures> {
    const d = this.#descriptor;
    const t0 = performance.now();
    const size = options.resolution;
    const frame = makeFrame(image, { size, mode: options.resize });
    const pixels = toModelInput(image, {
      frame,
      resample: options.resample,
      mean: d.mean,
      std: d.std,
    });
    const t1 = performance.now();
    const out = await this.#session.run({ [d.input]: { data: pixels, dims: [1, 3, size, size] } });
    const t2 = performance.now();
    const raw = out[d.output];
    const cells = size / d.patch_size;
    let grid: FeatureGrid;
    try {
      grid = toFeatureGrid(raw.data, {
        dims: raw.dims,
        layout: d.layout,
        prefixTokens: d.prefix_tokens,
        grid: { height: cells, width: cells },
      });
    } catch (e) {
      throw new ModelContractError(`Model \`${d.id}\` at ${size} px: ${(e as Error).message}`);
    }
    return { grid, frame, timings: { preprocess: t1 - t0, extract: t2 - t1 } };
  }

  /** Frees the session. */
  release(): Promise<void> {
    return this.#session.release();
  }
}
