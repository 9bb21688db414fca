// This module is browser compatible.
/**
 * What a client may see of an error: a {@linkcode ServiceError}'s code,
 * message and details; for anything else (a bug) a fixed message that says
 * nothing about the cause. HTTP responses, streamed error events and failed
 * jobs all tell errors this way.
 *
 * @example Usage
 * ```ts
 * import { publicError } from "./public_error.ts";
 * import { ModelNotFoundError } from "./model_errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(publicError(new ModelNotFoundError("Cannot find model `x`")), {
 *   code: "unknown_model",
 *   message: "Cannot find model `x`",
 * });
 * assert.equal(publicError(new TypeError("secret at /srv/a.ts")).code, "internal_error");
 * ```
 *
 * @module
 */

import { ServiceError } from "./service_error.ts";

/** An error as clients see it. */
export interface PublicError {
  code: string;
  message: string;
  details?: unknown;
}

/** The message of every bug: the cause stays in the log. */
export const INTERNAL_ERROR: Readonly<PublicError> = Object.freeze({
  code: "internal_error",
  message: "Internal error; it has been logged",
});

/**
 * The client's view of an error.
 *
 * @param error Anything thrown.
 * @returns Its code, message and details, or {@linkcode INTERNAL_ERROR}'s.
 */
export function publicError(error: unknown): PublicError {
  if (!(error instanceof ServiceError)) return { ...INTERNAL_ERROR };
  const out: PublicError = { code: error.code, message: error.message };
  if (error.details !== undefined) out.details = error.details;
  return out;
}
