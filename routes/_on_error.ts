/**
 * Errors as HTTP, in one place: every failure becomes
 * `{ "error": { "code", "message", "details"? }, "request_id" }`. A
 * {@linkcode ServiceError} keeps its stable code and gets the status of its
 * class from {@linkcode ERROR_STATUS}; anything else is a bug: logged with
 * the request id and its stack, answered `500 internal_error` with a message
 * that says nothing about the cause.
 *
 * @example Usage
 * ```ts
 * import { Hono } from "hono";
 * import { onError } from "./_on_error.ts";
 * import { MalformedRequestError } from "../errors/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono();
 * app.get("/", () => {
 *   throw new MalformedRequestError("Cannot parse body");
 * });
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
  DatasetMalformedError,
  DatasetNotFoundError,
  DatasetUnavailableError,
  DatasetUnsafePathError,
  FeaturesNotResidentError,
  ImageDecodeError,
  ImageTooLargeError,
  InferenceTimeoutError,
  INTERNAL_ERROR,
  InvalidRequestError,
  JobNotDoneError,
  JobNotFoundError,
  MalformedRequestError,
  MethodNotAllowedError,
  ModelContractError,
  ModelLoadError,
  ModelNotFoundError,
  PayloadTooLargeError,
  PointOutOfBoundsError,
  PoolClosedError,
  PoolSaturatedError,
  type PublicError,
  publicError,
  RateLimitedError,
  ResolutionError,
  RouteNotFoundError,
  RunsQuotaError,
  ServiceError,
  TooManyPairsError,
  TooManyPointsError,
  UnauthorizedError,
  UnknownTableError,
  UnsupportedImageError,
  UnsupportedMediaTypeError,
  UnsupportedModelError,
  WorkerCrashedError,
  WorkersNotReadyError,
} from "../errors/mod.ts";

type ErrorClass = abstract new (...args: never[]) => ServiceError;

/** The HTTP status of each error class: the one mapping. */
export const ERROR_STATUS: ReadonlyArray<readonly [ErrorClass, ContentfulStatusCode]> = [
  [MalformedRequestError, 400],
  [ImageDecodeError, 400],
  [UnauthorizedError, 401],
  [RouteNotFoundError, 404],
  [ModelNotFoundError, 404],
  [DatasetNotFoundError, 404],
  [UnknownTableError, 404],
  [JobNotFoundError, 404],
  [MethodNotAllowedError, 405],
  [JobNotDoneError, 409],
  [PayloadTooLargeError, 413],
  [TooManyPointsError, 413],
  [TooManyPairsError, 413],
  [ImageTooLargeError, 413],
  [UnsupportedMediaTypeError, 415],
  [UnsupportedImageError, 415],
  [InvalidRequestError, 422],
  [RateLimitedError, 429],
  [PointOutOfBoundsError, 422],
  [ResolutionError, 422],
  [ModelContractError, 422],
  [UnsupportedModelError, 422],
  [ModelLoadError, 503],
  [PoolSaturatedError, 503],
  [PoolClosedError, 503],
  [WorkerCrashedError, 503],
  [WorkersNotReadyError, 503],
  [FeaturesNotResidentError, 503],
  [DatasetMalformedError, 503],
  [DatasetUnsafePathError, 503],
  [DatasetUnavailableError, 503],
  [InferenceTimeoutError, 504],
  [RunsQuotaError, 507],
];

/** Classes whose 503 a client should retry after a second. */
const RETRY_AFTER_ONE: readonly ErrorClass[] = [
  WorkerCrashedError,
  FeaturesNotResidentError,
  ModelLoadError,
];

/** The answer of a request cancelled before it finished (its client went away, or a drain). */
const CANCELLED: Readonly<PublicError> = Object.freeze({
  code: "cancelled",
  message: "The request was cancelled before it finished",
});

/** The code of Hono's own HTTP errors (a malformed request id, say). */
const HTTP_ERROR_CODE = "http_error";

/** One code an error answer can carry, with its HTTP status. */
export interface ErrorCode {
  status: ContentfulStatusCode;
  code: string;
}

/**
 * Every code an error answer can carry with its status: each class of
 * {@linkcode ERROR_STATUS}, then the answers no class makes (a cancelled
 * request, Hono's HTTP errors, a bug). The OpenAPI document lists these.
 *
 * @returns The codes, in the table's order.
 *
 * @example Usage
 * ```ts
 * import { errorCodes } from "./_on_error.ts";
 * import assert from "node:assert/strict";
 *
 * const codes = errorCodes();
 * assert.deepEqual(codes.find((c) => c.code === "unknown_model"), { status: 404, code: "unknown_model" });
 * assert.ok(codes.some((c) => c.code === "internal_error" && c.status === 500));
 * ```
 */
export function errorCodes(): ErrorCode[] {
  const out: ErrorCode[] = ERROR_STATUS.map(([cls, status]) => {
    // Codes are instance fields: one instance tells a class's code.
    const make = cls as unknown as new (m: string, o: { retryAfter: number }) => ServiceError;
    return { status, code: new make("", { retryAfter: 0 }).code };
  });
  out.push({ status: 503, code: CANCELLED.code });
  out.push({ status: 400, code: HTTP_ERROR_CODE });
  out.push({ status: 500, code: INTERNAL_ERROR.code });
  return out;
}

/** The JSON body of an error, as every route and every stream sends it. */
export type ErrorBody = PublicError;

/** What an error becomes on the wire: status, headers and body. */
export interface ErrorAnswer {
  status: ContentfulStatusCode;
  headers: Record<string, string>;
  error: ErrorBody;
}

/**
 * Maps anything thrown to its answer, logging bugs with the request id.
 * Streaming routes call this too, so an error after the stream has begun
 * carries the same code and message it would have as a plain response.
 *
 * @param err What was thrown.
 * @param requestId The request's id, for the log.
 * @returns Status, headers and the error body.
 */
export function errorAnswer(err: unknown, requestId: string | null): ErrorAnswer {
  if (err instanceof ServiceError) {
    const entry = ERROR_STATUS.find(([cls]) => err instanceof cls);
    if (entry) {
      const headers: Record<string, string> = {};
      if (
        err instanceof PoolSaturatedError || err instanceof RateLimitedError ||
        err instanceof WorkersNotReadyError
      ) {
        headers["Retry-After"] = String(err.retryAfter);
      }
      if (err instanceof UnauthorizedError) headers["WWW-Authenticate"] = 'Bearer realm="semcorr"';
      if (RETRY_AFTER_ONE.some((cls) => err instanceof cls)) headers["Retry-After"] = "1";
      return { status: entry[1], headers, error: publicError(err) };
    }
  }
  if (err instanceof DOMException && err.name === "AbortError") {
    // The client went away (or the server is draining): nobody is there to
    // read the answer, and it is no bug.
    return { status: 503, headers: {}, error: { ...CANCELLED } };
  }
  if (err instanceof HTTPException && err.status < 500) {
    // Hono's own middleware (e.g. a malformed request id) speaks HTTPException.
    return {
      status: err.status as ContentfulStatusCode,
      headers: {},
      error: { code: HTTP_ERROR_CODE, message: err.message || `HTTP ${err.status}` },
    };
  }
  console.error(`request ${requestId} failed:`, err);
  return { status: 500, headers: {}, error: publicError(err) };
}

/**
 * Hono error handler: maps an error to its JSON response.
 *
 * @param err What a handler or middleware threw.
 * @param c The request context.
 * @returns The error response.
 */
export function onError(err: Error, c: Context): Response {
  const requestId = (c.get("requestId" as never) as string | undefined) ?? null;
  const answer = errorAnswer(err, requestId);
  for (const [k, v] of Object.entries(answer.headers)) c.header(k, v);
  return c.json({ error: answer.error, request_id: requestId }, answer.status);
}
