/**
 * A cost-volume refiner (neighbourhood consensus, mutual matching): an ONNX
 * that maps the dense cosine correlation `[1, source cells, target cells]`
 * of two feature grids to refined scores of the same shape.
 *
 * @example Usage
 * ```ts
 * import { CostVolumeRefiner } from "./cost_volume_refiner.ts";
 * import { buildIdentityRefinerGraph } from "../tests/fixtures/identity_refiner_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const file = `${dir}/identity.onnx`;
 * await Deno.writeFile(file, buildIdentityRefinerGraph());
 * const refiner = await CostVolumeRefiner.create(
 *   { model: "m", file, input: "correlation", output: "refined" },
 *   { backend: "wasm" },
 * );
 * const volume = Float32Array.of(1, 0.5, 0.25, 0, 0.5, 1);
 * assert.deepEqual(await refiner.refine(volume, { source: 2, target: 3 }), volume);
 * await refiner.release();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { ModelContractError } from "../errors/mod.ts";
import type { RefinerRef } from "./protocol.ts";
import type { BackendName, InferenceSession } from "./session.ts";
import { openOnnxPart } from "./_onnx_part.ts";

/** One refiner session. */
export class CostVolumeRefiner {
  #ref: RefinerRef;
  #label: string;
  #session: InferenceSession;

  private constructor(ref: RefinerRef, session: InferenceSession) {
    this.#ref = ref;
    this.#label = `the refiner of model \`${ref.model}\``;
    this.#session = session;
  }

  /**
   * Opens a refiner.
   *
   * @param ref Its file and input and output names.
   * @param options `backend` runs it.
   * @returns The refiner.
   * @throws {ModelLoadError} When the file is missing or the runtime rejects it.
   * @throws {ModelContractError} When the graph lacks the named input or output.
   */
  static async create(
    ref: RefinerRef,
    options: { backend: BackendName },
  ): Promise<CostVolumeRefiner> {
    const label = `the refiner of model \`${ref.model}\``;
    const session = await openOnnxPart(ref.file, { label, spec: ref, backend: options.backend });
    return new CostVolumeRefiner(ref, session);
  }

  /**
   * Refines a dense cost volume.
   *
   * @param volume `[source cells, target cells]` row-major scores.
   * @param cells Source and target cell counts.
   * @returns A new `[source cells, target cells]` array of refined scores.
   * @throws {ModelContractError} When the runtime rejects the run or the
   *   output is not `[1, source, target]`.
   */
  async refine(
    volume: Float32Array,
    cells: { source: number; target: number },
  ): Promise<Float32Array> {
    const dims = [1, cells.source, cells.target];
    let out;
    try {
      out = await this.#session.run({ [this.#ref.input]: { data: volume, dims } });
    } catch (e) {
      throw new ModelContractError((e as Error).message, { cause: e });
    }
    const raw = out[this.#ref.output];
    if (raw.dims.length !== 3 || raw.dims.some((d, i) => d !== dims[i])) {
      throw new ModelContractError(
        `Cannot use ${this.#label}: it returned [${raw.dims}], expected [${dims}]`,
      );
    }
    return raw.data;
  }

  /** Frees the session. */
  release(): Promise<void> {
    return this.#session.release();
  }
}
