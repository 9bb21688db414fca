// This module is browser compatible.
/**
 * Errors as data, for crossing a `postMessage` boundary: a worker sends
 * `{ name, message, details }` and the pool rebuilds the same class from
 * the one table of revivable classes below. A name not in the table (a
 * `TypeError` from a bug, an engine error) comes back as a plain `Error`
 * with that name: not a `ServiceError`, so the client sees a 500 and the
 * message stays in the log.
 *
 * @example Usage
 * ```ts
 * import { reviveError, serializeError } from "./error_data.ts";
 * import { ImageDecodeError } from "./image_errors.ts";
 * import { ServiceError } from "./service_error.ts";
 * import assert from "node:assert/strict";
 *
 * const back = reviveError(serializeError(new ImageDecodeError("Cannot decode image: truncated")));
 * assert.ok(back instanceof ImageDecodeError);
 * assert.equal(back.code, "invalid_image");
 *
 * const bug = reviveError(serializeError(new TypeError("Cannot read properties of undefined")));
 * assert.ok(!(bug instanceof ServiceError));
 * assert.equal(bug.name, "TypeError");
 * ```
 *
 * @module
 */

import type { ServiceErrorOptions } from "./service_error.ts";
import {
  InvalidRequestError,
  MalformedRequestError,
  PayloadTooLargeError,
  PointOutOfBoundsError,
  TooManyPointsError,
  UnsupportedMediaTypeError,
} from "./request_errors.ts";
import { ImageDecodeError, ImageTooLargeError, UnsupportedImageError } from "./image_errors.ts";
import { FeaturesNotResidentError, InferenceTimeoutError } from "./pool_errors.ts";
import {
  ModelContractError,
  ModelLoadError,
  ModelNotFoundError,
  ResolutionError,
} from "./model_errors.ts";

/** An error as it travels between worker and pool. */
export interface SerializedError {
  name: string;
  message: string;
  details?: unknown;
}

type Revivable = new (message: string, options?: ServiceErrorOptions) => Error;

/** Every class a worker may throw on purpose, by name: the one revival table. */
const REVIVABLE: ReadonlyMap<string, Revivable> = new Map(
  ([
    MalformedRequestError,
    InvalidRequestError,
    UnsupportedMediaTypeError,
    PayloadTooLargeError,
    TooManyPointsError,
    PointOutOfBoundsError,
    ImageDecodeError,
    UnsupportedImageError,
    ImageTooLargeError,
    InferenceTimeoutError,
    FeaturesNotResidentError,
    ModelNotFoundError,
    ModelLoadError,
    ModelContractError,
    ResolutionError,
  ] as Revivable[]).map((c) => [c.name, c]),
);

/**
 * Turns an error into plain data that survives `postMessage`.
 *
 * @param error Anything thrown.
 * @returns Its name, message and details.
 */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const details = (error as { details?: unknown }).details;
    return details === undefined
      ? { name: error.name, message: error.message }
      : { name: error.name, message: error.message, details };
  }
  return { name: "Error", message: String(error) };
}

/**
 * Rebuilds a serialized error as an instance of its class when the class is
 * in the revival table; any other name becomes a plain `Error` of that name.
 *
 * @param data The serialized error.
 * @returns An `Error` instance.
 */
export function reviveError(data: SerializedError): Error {
  const Ctor = REVIVABLE.get(data.name);
  if (Ctor) return new Ctor(data.message, { details: data.details });
  const e = new Error(data.message);
  e.name = data.name;
  return e;
}
