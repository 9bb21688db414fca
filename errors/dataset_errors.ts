// This module is browser compatible.
/**
 * Errors of the dataset readers. Each names the file (or folder) at fault in
 * `path`, so a benchmark run can report exactly which file to fix; `path`
 * is also the client's `details.path`, so the readers give it relative to
 * the dataset root (the root itself is the server's).
 *
 * @example Usage
 * ```ts
 * import { DatasetError, DatasetNotFoundError } from "./dataset_errors.ts";
 * import assert from "node:assert/strict";
 *
 * const e = new DatasetNotFoundError("Cannot read PF-WILLOW: no such folder", { path: "/x" });
 * assert.ok(e instanceof DatasetError);
 * assert.equal(e.code, "dataset_not_found");
 * assert.equal(e.path, "/x");
 * assert.deepEqual(e.details, { path: "/x" });
 * ```
 *
 * @module
 */

import { ServiceError } from "./service_error.ts";

/** Options of a {@linkcode DatasetError}. */
export interface DatasetErrorOptions {
  /** The file or folder at fault. */
  path?: string;
  /** The underlying error. */
  cause?: unknown;
}

/** Base class of the dataset readers' errors. */
export class DatasetError extends ServiceError {
  override readonly code: string = "dataset_error";
  /** The file or folder at fault, when there is one. */
  readonly path?: string;

  /**
   * @param message What went wrong, naming the file.
   * @param options The path at fault and the cause.
   */
  constructor(message: string, options: DatasetErrorOptions = {}) {
    super(message, {
      cause: options.cause,
      details: options.path === undefined ? undefined : { path: options.path },
    });
    this.path = options.path;
  }
}

/** A dataset folder or a file it needs does not exist. */
export class DatasetNotFoundError extends DatasetError {
  override readonly code = "dataset_not_found";
}

/** A dataset file exists but cannot be parsed or holds inconsistent values. */
export class DatasetMalformedError extends DatasetError {
  override readonly code = "dataset_malformed";
}

/** A dataset file names a path outside the dataset root (`..` or absolute). */
export class DatasetUnsafePathError extends DatasetError {
  override readonly code = "dataset_unsafe_path";
}

/** The dataset's root is not usable as configured (e.g. a disallowed URL). */
export class DatasetUnavailableError extends DatasetError {
  override readonly code = "dataset_unavailable";
}
