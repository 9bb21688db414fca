// This module is browser compatible.
/**
 * A counting semaphore: at most `limit` tasks run at once, the others wait
 * in arrival order. Private to the readers.
 *
 * @module
 */

/** Runs async tasks with at most `limit` of them in flight. */
export class Limiter {
  #limit: number;
  #running = 0;
  #waiting: (() => void)[] = [];

  /**
   * Creates a limiter.
   *
   * @param limit The most tasks in flight, a positive integer.
   * @throws {RangeError} When `limit` is not a positive integer.
   */
  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`Cannot create limiter: limit must be a positive integer, got ${limit}`);
    }
    this.#limit = limit;
  }

  /**
   * Runs `task` once a place is free.
   *
   * @typeParam T The task's result.
   * @param task The task.
   * @returns What the task returns.
   */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#running--;
    }
  }
}
