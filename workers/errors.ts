/**
 * Named errors of the request pipeline (images, pool, inference).
 *
 * Each class carries a stable `code`; `routes/_on_error.ts` maps classes to
 * HTTP statuses in one place. Errors cross the worker boundary as
 * `{ name, message, code, details }` and are rebuilt by {@linkcode reviveError}.
 *
 * @example Usage
 * ```ts
 * import { ImageDecodeError, reviveError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const e = reviveError({ name: "ImageDecodeError", message: "Cannot decode image: truncated" });
 * assert.ok(e instanceof ImageDecodeError);
 * assert.equal(e.code, "invalid_image");
 * ```
 *
 * @module
 */

/** Base class: an error a client can act on, with a stable code. */
export class ServiceError extends Error {
  /** Stable, documented error code. */
  readonly code: string = "internal_error";
  /** Optional structured details returned to the client. */
  details?: unknown;
  constructor(message: string, options?: { details?: unknown; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = new.target.name;
    this.details = options?.details;
  }
}

/** The bytes are an image of a supported format but cannot be decoded. */
export class ImageDecodeError extends ServiceError {
  override readonly code = "invalid_image";
}

/** The bytes are not a supported image format (JPEG or PNG). */
export class UnsupportedImageError extends ServiceError {
  override readonly code = "unsupported_image_format";
}

/** An image exceeds the configured byte or pixel limit. */
export class ImageTooLargeError extends ServiceError {
  override readonly code = "image_too_large";
}

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

/** An error as it travels between worker and pool. */
export interface SerializedError {
  name: string;
  message: string;
  details?: unknown;
}

const REVIVERS: Record<string, new (message: string, o?: { details?: unknown }) => Error> = {
  ImageDecodeError,
  UnsupportedImageError,
  ImageTooLargeError,
  InferenceTimeoutError,
  RangeError,
  TypeError,
};

/**
 * Turns an error into plain data that survives `postMessage`.
 *
 * @param error Anything thrown.
 * @returns Its name, message and details.
 */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const details = error instanceof ServiceError ? error.details : undefined;
    return { name: error.name, message: error.message, details };
  }
  return { name: "Error", message: String(error) };
}

/**
 * Rebuilds a serialized error as an instance of its class, when the class is
 * one clients see; any other name becomes a plain `Error` (a bug: HTTP 500).
 *
 * @param data The serialized error.
 * @returns An `Error` instance.
 */
export function reviveError(data: SerializedError): Error {
  const Ctor = REVIVERS[data.name];
  if (Ctor) {
    const e = new Ctor(data.message, { details: data.details });
    return e;
  }
  const extra = lookupExtra(data.name);
  if (extra) return new extra(data.message, { details: data.details });
  const e = new Error(data.message);
  e.name = data.name;
  return e;
}

const EXTRA = new Map<string, new (message: string, o?: { details?: unknown }) => Error>();

/**
 * Registers another error class that may cross the worker boundary (e.g. model
 * errors), so {@linkcode reviveError} rebuilds it.
 *
 * @param ctor The class; its `name` is the key.
 */
export function registerError(
  ctor: new (message: string, o?: { details?: unknown }) => Error,
): void {
  EXTRA.set(ctor.name, ctor);
}

function lookupExtra(name: string) {
  return EXTRA.get(name);
}

/** A query point lies outside the source image. */
export class PointOutOfBoundsError extends ServiceError {
  override readonly code = "point_out_of_bounds";
}

registerError(PointOutOfBoundsError);
