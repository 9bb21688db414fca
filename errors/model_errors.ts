// This module is browser compatible.
/**
 * Errors of model lookup, loading and use.
 *
 * @example Usage
 * ```ts
 * import { ModelNotFoundError } from "./model_errors.ts";
 * import assert from "node:assert/strict";
 *
 * const e = new ModelNotFoundError("Cannot find model `x`", { details: { known: ["dsift"] } });
 * assert.equal(e.code, "unknown_model");
 * ```
 *
 * @module
 */

import { ServiceError } from "./service_error.ts";

/** No model of that id is registered. */
export class ModelNotFoundError extends ServiceError {
  override readonly code = "unknown_model";
}

/** The model exists but cannot be fetched, verified or opened. */
export class ModelLoadError extends ServiceError {
  override readonly code = "model_unavailable";
}

/** The model ran but its output does not fit its descriptor (names, token count). */
export class ModelContractError extends ServiceError {
  override readonly code = "model_contract_violation";
}

/**
 * The model's source cannot be turned into a graph the service runs: an
 * imported TF.js graph uses an op the importer does not know, or its taps do
 * not fit the descriptor. Not transient: the descriptor or the model must change.
 */
export class UnsupportedModelError extends ServiceError {
  override readonly code = "unsupported_model";
}

/** The requested input side is not one the model accepts. */
export class ResolutionError extends ServiceError {
  override readonly code = "invalid_resolution";
}
