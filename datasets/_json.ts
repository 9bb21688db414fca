// This module is browser compatible.
/**
 * Field checks for dataset JSON, each naming the file and field at fault.
 * Private to the readers.
 *
 * @module
 */

import { DatasetMalformedError } from "../errors/mod.ts";

/** Reads typed fields of one JSON object of a dataset file. */
export class JsonFields {
  #value: Record<string, unknown>;
  #path: string;
  #where: string;

  /**
   * Wraps a parsed JSON value that must be an object.
   *
   * @param value The parsed value.
   * @param path The file, for error messages.
   * @param where Where in the file the object is (e.g. "annotation 3"); empty for the root.
   * @throws {DatasetMalformedError} When the value is not an object.
   */
  constructor(value: unknown, path: string, where = "") {
    this.#path = path;
    this.#where = where;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw this.error("is not an object");
    }
    this.#value = value as Record<string, unknown>;
  }

  /**
   * An error naming the file and the place in it.
   *
   * @param what What is wrong.
   * @returns The error, to throw.
   */
  error(what: string): DatasetMalformedError {
    const at = this.#where === "" ? "" : ` ${this.#where}`;
    return new DatasetMalformedError(`Cannot read ${this.#path}:${at} ${what}`, {
      path: this.#path,
    });
  }

  /**
   * The raw value of a field.
   *
   * @param key The field.
   * @returns Its value, possibly `undefined`.
   */
  raw(key: string): unknown {
    return this.#value[key];
  }

  /**
   * A string field.
   *
   * @param key The field.
   * @returns The string.
   * @throws {DatasetMalformedError} When it is missing or not a string.
   */
  string(key: string): string {
    const v = this.#value[key];
    if (typeof v !== "string") throw this.error(`field "${key}" is not a string`);
    return v;
  }

  /**
   * A finite number field.
   *
   * @param key The field.
   * @returns The number.
   * @throws {DatasetMalformedError} When it is missing or not a finite number.
   */
  number(key: string): number {
    const v = this.#value[key];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw this.error(`field "${key}" is not a finite number`);
    }
    return v;
  }

  /**
   * An array of finite numbers.
   *
   * @param key The field.
   * @param length The required length, if any.
   * @returns The numbers.
   * @throws {DatasetMalformedError} When it is missing, has the wrong length
   * or holds something else than finite numbers.
   */
  numbers(key: string, length?: number): number[] {
    const v = this.#value[key];
    if (
      !Array.isArray(v) || (length !== undefined && v.length !== length) ||
      !v.every((x) => typeof x === "number" && Number.isFinite(x))
    ) {
      const n = length === undefined ? "" : ` ${length}`;
      throw this.error(`field "${key}" is not an array of${n} finite numbers`);
    }
    return v;
  }

  /**
   * An array field.
   *
   * @param key The field.
   * @returns The array.
   * @throws {DatasetMalformedError} When it is missing or not an array.
   */
  array(key: string): unknown[] {
    const v = this.#value[key];
    if (!Array.isArray(v)) throw this.error(`field "${key}" is not an array`);
    return v;
  }
}
