// This module is browser compatible.
/**
 * Every named error of the service, on one base ({@linkcode ServiceError}):
 * request shape, images, the worker pool, models and datasets, plus the one
 * table that rebuilds them after a worker boundary. HTTP statuses are not
 * here: `routes/_on_error.ts` maps each class to one.
 *
 * @example Usage
 * ```ts
 * import { ModelNotFoundError, ServiceError } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(new ModelNotFoundError("Cannot find model `x`") instanceof ServiceError);
 * ```
 *
 * @module
 */

export * from "./service_error.ts";
export * from "./request_errors.ts";
export * from "./image_errors.ts";
export * from "./pool_errors.ts";
export * from "./model_errors.ts";
export * from "./dataset_errors.ts";
export * from "./error_data.ts";
export * from "./public_error.ts";
