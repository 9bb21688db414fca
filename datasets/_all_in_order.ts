// This module is browser compatible.
/**
 * Maps items with an async function, all started at once, and fails with the
 * error of the first item in order (not the first to fail in time), so a
 * reader's error does not depend on timing. Private to the readers.
 *
 * @module
 */

/**
 * Maps every item, waiting for all.
 *
 * @typeParam T The items.
 * @typeParam R The results.
 * @param items The items.
 * @param fn The mapping; its calls run concurrently (the data source bounds I/O).
 * @returns The results, in item order.
 * @throws The error of the first item, in order, whose mapping failed.
 */
export async function allInOrder<T, R>(
  items: readonly T[],
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const settled = await Promise.allSettled(items.map(async (item, i) => await fn(item, i)));
  return settled.map((s) => {
    if (s.status === "rejected") throw s.reason;
    return s.value;
  });
}
