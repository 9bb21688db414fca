// This module is browser compatible.
/**
 * Errors of a request's shape: what the client sent cannot be read, or is
 * read but not valid. Raised by routes and by the pipeline (a query point
 * outside its image is only known once the image is decoded).
 *
 * @example Usage
 * ```ts
 * import { InvalidRequestError, MalformedRequestError } from "./request_errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new MalformedRequestError("Cannot parse JSON body").code, "malformed_request");
 * const e = new InvalidRequestError("Invalid request at `points`", {
 *   details: { issues: [{ path: ["points"], message: "Required", code: "invalid_type" }] },
 * });
 * assert.equal(e.code, "invalid_request");
 * ```
 *
 * @module
 */

import { ServiceError } from "./service_error.ts";

/** The body cannot be parsed (JSON, multipart or base64). */
export class MalformedRequestError extends ServiceError {
  override readonly code = "malformed_request";
}

/** The body parses but fails validation; `details.issues` lists the problems. */
export class InvalidRequestError extends ServiceError {
  override readonly code = "invalid_request";
}

/** The body's content type is not one the route reads. */
export class UnsupportedMediaTypeError extends ServiceError {
  override readonly code = "unsupported_media_type";
}

/** The body is larger than the route accepts. */
export class PayloadTooLargeError extends ServiceError {
  override readonly code = "payload_too_large";
}

/** More query points than `MAX_POINTS`. */
export class TooManyPointsError extends ServiceError {
  override readonly code = "too_many_points";
}

/** No route has that path. */
export class RouteNotFoundError extends ServiceError {
  override readonly code = "not_found";
}

/** The path exists, but not for that method; `details.allow` lists the methods. */
export class MethodNotAllowedError extends ServiceError {
  override readonly code = "method_not_allowed";
}

/** A leaderboard table id that the survey does not have. */
export class UnknownTableError extends ServiceError {
  override readonly code = "unknown_table";
}

/** A `/v1` route was called without a valid API key (`API_KEYS` is set). */
export class UnauthorizedError extends ServiceError {
  override readonly code = "unauthorized";
}

/** The caller sent more requests than its rate limit allows. */
export class RateLimitedError extends ServiceError {
  override readonly code = "rate_limited";
  /** Seconds until the next request would be accepted. */
  readonly retryAfter: number;

  /**
   * @param message What was refused.
   * @param options Seconds to wait, and details.
   */
  constructor(message: string, options: { retryAfter: number; details?: unknown }) {
    super(message, { details: options.details });
    this.retryAfter = options.retryAfter;
  }
}

/** Saving a run would pass the runs folder's caps (`RUNS_MAX`, `RUNS_MAX_BYTES`). */
export class RunsQuotaError extends ServiceError {
  override readonly code = "runs_quota_exceeded";
}

/** A synchronous evaluation of more pairs than `EVALUATE_MAX_PAIRS`: it belongs in a job. */
export class TooManyPairsError extends ServiceError {
  override readonly code = "too_many_pairs";
}

/** A job id that no job has. */
export class JobNotFoundError extends ServiceError {
  override readonly code = "job_not_found";
}

/** The job has not finished (yet), or not well: its result does not exist. */
export class JobNotDoneError extends ServiceError {
  override readonly code = "job_not_done";
}

/** A query point lies outside the source image. */
export class PointOutOfBoundsError extends ServiceError {
  override readonly code = "point_out_of_bounds";
}
