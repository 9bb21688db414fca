// This module is browser compatible.
/**
 * A model as a worker needs it: its descriptor and the verified local files
 * of everything it runs, so a worker never downloads anything.
 * `ModelStore.resolve` makes one; the pool and the workers only read it.
 *
 * @example Usage
 * ```ts
 * import type { ModelRef } from "./model_ref.ts";
 * import { BUILTIN_MODELS } from "./registry.ts";
 * import assert from "node:assert/strict";
 *
 * const ref: ModelRef = { descriptor: BUILTIN_MODELS.dsift };
 * assert.equal(ref.file, undefined);
 * ```
 *
 * @module
 */

import type { ModelDescriptor } from "./descriptor.ts";

/** A resolved model. */
export interface ModelRef {
  descriptor: ModelDescriptor;
  /** Local path of the backbone's ONNX file; absent for `embedded:` models and composites. */
  file?: string;
  /** A composite's components, resolved, in the order of `descriptor.components`. */
  components?: ModelRef[];
  /** Local path of the feature head's ONNX file, when the descriptor has a `head`. */
  headFile?: string;
  /** Local path of the refiner's ONNX file, when the descriptor has a `refiner`. */
  refinerFile?: string;
}
