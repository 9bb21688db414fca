// This module is browser compatible.
/**
 * Errors of the worker pool: full, late, crashed or closed. Each is the
 * service's state, not the request's fault, so a client may retry.
 *
 * @example Usage
 * ```ts
 * import { PoolSaturatedError } from "./pool_errors.ts";
 * import assert from "node:assert/strict";
 *
 * const e = new PoolSaturatedError("Cannot accept the request: 32 requests are waiting");
 * assert.equal(e.code, "overloaded");
 * assert.equal(e.retryAfter, 1);
 * ```
 *
 * @module
 */

import { ServiceError } from "./service_error.ts";

/** The worker pool's queue is full; the client should retry later. */
export class PoolSaturatedError extends ServiceError {
  override readonly code = "overloaded";
  /** Seconds the client should wait before retrying. */
  retryAfter = 1;
}

/** A request ran past its deadline. */
export class InferenceTimeoutError extends ServiceError {
  override readonly code = "deadline_exceeded";
}

/** The worker running a request died; the pool replaced it. */
export class WorkerCrashedError extends ServiceError {
  override readonly code = "worker_crashed";
}

/** The pool was disposed while the request waited. */
export class PoolClosedError extends ServiceError {
  override readonly code = "unavailable";
}

/**
 * A job named features its worker no longer holds: the worker was replaced,
 * or its bounded feature cache evicted them. The caller extracts them again.
 */
export class FeaturesNotResidentError extends ServiceError {
  override readonly code = "features_not_resident";
}

/**
 * No worker is ready and none is loading: every model load failed and waits
 * for its retry (or the pool has not started). Failing at once beats a task
 * waiting for its deadline; the client retries after `retryAfter` seconds.
 */
export class WorkersNotReadyError extends ServiceError {
  override readonly code = "workers_not_ready";
  /** Seconds until the next load attempt. */
  readonly retryAfter: number;

  /**
   * @param message What is not ready.
   * @param options Seconds to wait, and details.
   */
  constructor(message: string, options: { retryAfter: number; details?: unknown }) {
    super(message, { details: options.details });
    this.retryAfter = options.retryAfter;
  }
}
