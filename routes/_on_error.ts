/**
 * Errors as HTTP, in one place: every failure becomes
 * `{ "error": { "code", "message", "details"? }, "request_id" }` with a stable
 * code and status. Only bugs become 500, and those are logged with their stack
 * (which never reaches the client).
 *
 * @example Usage
 * ```ts
 * import { Hono } from "hono";
 * import { ApiError, onError } from "./_on_error.ts";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono();
 * app.get("/", () => { throw new ApiError(400, "malformed_request", "Cannot parse body"); });
 * app.onError(onError);
 * const res = await app.request("/");
 * assert.equal(res.status, 400);
 * assert.equal((await res.json()).error.code, "malformed_request");
 * ```
 *
 * @module
 */

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  ImageDecodeError,
  ImageTooLargeError,
  InferenceTimeoutError,
  PointOutOfBoundsError,
  PoolClosedError,
  PoolSaturatedError,
  ServiceError,
  UnsupportedImageError,
  WorkerCrashedError,
} from "../workers/errors.ts";
import {
  ModelContractError,
  ModelLoadError,
  ModelNotFoundError,
  ResolutionError,
} from "../models/errors.ts";
import {
  DatasetError,
  DatasetMalformedError,
  DatasetNotFoundError,
  DatasetUnsafePathError,
} from "../datasets/errors.ts";

/** An error raised by a route itself, with its status and code. */
export class ApiError extends HTTPException {
  /** Stable error code. */
  readonly code: string;
  /** Structured details for the client. */
  readonly details?: unknown;

  /**
   * @param status HTTP status.
   * @param code Stable code, e.g. `invalid_request`.
   * @param message Human-readable message.
   * @param details Structured details.
   */
  constructor(status: ContentfulStatusCode, code: string, message: string, details?: unknown) {
    super(status, { message });
    this.code = code;
    this.details = details;
  }
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** Status of each named error class; the first match wins. */
export const ERROR_STATUS: ReadonlyArray<readonly [ErrorClass, ContentfulStatusCode]> = [
  [ImageDecodeError, 400],
  [UnsupportedImageError, 415],
  [ImageTooLargeError, 413],
  [PointOutOfBoundsError, 422],
  [ResolutionError, 422],
  [ModelContractError, 422],
  [ModelNotFoundError, 404],
  [ModelLoadError, 503],
  [PoolSaturatedError, 503],
  [PoolClosedError, 503],
  [WorkerCrashedError, 503],
  [InferenceTimeoutError, 504],
  [DatasetNotFoundError, 404],
  [DatasetMalformedError, 503],
  [DatasetUnsafePathError, 503],
];

const STATUS_CODE: Record<number, string> = {
  400: "malformed_request",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "invalid_request",
  503: "unavailable",
  504: "deadline_exceeded",
};

/**
 * Hono error handler: maps an error to its JSON response.
 *
 * @param err What a handler or middleware threw.
 * @param c The request context.
 * @returns The error response.
 */
export function onError(err: Error, c: Context): Response {
  const requestId = (c.get("requestId" as never) as string | undefined) ?? null;
  const body = (status: ContentfulStatusCode, code: string, message: string, details?: unknown) =>
    c.json({
      error: { code, message, ...(details === undefined ? {} : { details }) },
      request_id: requestId,
    }, status);

  if (err instanceof ApiError) {
    return body(err.status as ContentfulStatusCode, err.code, err.message, err.details);
  }
  for (const [cls, status] of ERROR_STATUS) {
    if (err instanceof cls) {
      const e = err as ServiceError | DatasetError;
      if (e instanceof PoolSaturatedError) c.header("Retry-After", String(e.retryAfter));
      if (e instanceof WorkerCrashedError || e instanceof ModelLoadError) {
        c.header("Retry-After", "1");
      }
      const details = e instanceof DatasetError
        ? (e.path ? { path: e.path } : undefined)
        : e.details;
      return body(status, e.code, e.message, details);
    }
  }
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    return body(status, STATUS_CODE[status] ?? "http_error", err.message || `HTTP ${status}`);
  }
  if (err instanceof RangeError || err instanceof TypeError) {
    return body(400, "invalid_input", err.message);
  }
  console.error(`request ${requestId} failed:`, err);
  return body(500, "internal_error", "Internal error; it has been logged");
}
