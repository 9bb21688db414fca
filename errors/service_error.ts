// This module is browser compatible.
/**
 * The one base of every error a client can act on: a stable `code` and
 * optional structured `details`. Each named class (see `./mod.ts`) fixes its
 * code; `routes/_on_error.ts` maps classes to HTTP statuses in one table, and
 * anything that is not a `ServiceError` is a bug (a logged 500).
 *
 * @example Usage
 * ```ts
 * import { ServiceError } from "./service_error.ts";
 * import assert from "node:assert/strict";
 *
 * class TeapotError extends ServiceError {
 *   override readonly code = "teapot";
 * }
 * const e = new TeapotError("Cannot brew coffee", { details: { vessel: "teapot" } });
 * assert.equal(e.name, "TeapotError");
 * assert.equal(e.code, "teapot");
 * assert.deepEqual(e.details, { vessel: "teapot" });
 * ```
 *
 * @module
 */

/** Options of a {@linkcode ServiceError}. */
export interface ServiceErrorOptions {
  /** Structured details returned to the client (no secrets, no absolute paths). */
  details?: unknown;
  /** The underlying error, kept for logs. */
  cause?: unknown;
}

/** Base class: an error a client can act on, with a stable code. */
export class ServiceError extends Error {
  /** Stable, documented error code; each subclass fixes its own. */
  readonly code: string = "internal_error";
  /** Structured details returned to the client. */
  readonly details?: unknown;

  /**
   * @param message What went wrong, in the std style ("Cannot ...: reason").
   * @param options Details for the client and the cause for logs.
   */
  constructor(message: string, options: ServiceErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details;
  }
}
