// This module is browser compatible.
/**
 * numpy's legacy `np.random.seed(s); np.random.choice(n, size)`, bit for
 * bit: the sampling the survey's official AP-10K loader uses for
 * `--val_sample`.
 *
 * @module
 */

/** MT19937 state size. */
const N = 624;
/** MT19937 shift. */
const M = 397;

/** The Mersenne Twister as numpy's `RandomState` seeds and draws it. */
class Mt19937 {
  #key = new Uint32Array(N);
  #pos = N;

  /** numpy's `mt19937_seed` (Matsumoto and Nishimura's `init_genrand`). */
  constructor(seed: number) {
    let s = seed >>> 0;
    for (let i = 0; i < N; i++) {
      this.#key[i] = s;
      // 1812433253 * (s ^ (s >>> 30)) + i + 1, modulo 2^32.
      s = (Math.imul(1812433253, s ^ (s >>> 30)) + i + 1) >>> 0;
    }
  }

  /** The next 32-bit output (`genrand_int32`). */
  next(): number {
    const key = this.#key;
    if (this.#pos >= N) {
      for (let i = 0; i < N; i++) {
        const y = (key[i] & 0x80000000) | (key[(i + 1) % N] & 0x7fffffff);
        key[i] = key[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.#pos = 0;
    }
    let y = key[this.#pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}

/** Options of {@linkcode numpyChoice}. */
export interface NumpyChoiceOptions {
  /** The seed given to `np.random.seed` (an integer in [0, 2^32)). */
  seed: number;
}

/**
 * The indices `np.random.seed(seed); np.random.choice(n, size)` draws in
 * numpy's legacy `RandomState`: `size` uniform integers in `[0, n)`, with
 * replacement, in draw order.
 *
 * numpy draws them as `randint(0, n, size)`: each is the next 32-bit
 * Mersenne Twister output masked to the smallest `2^k - 1 >= n - 1`,
 * redrawn while it exceeds `n - 1` (checked against numpy 1.24, Debian's
 * python3-numpy).
 *
 * @param n The population size (a positive integer below 2^32).
 * @param size How many to draw (a non-negative integer).
 * @param options The seed.
 * @returns The drawn indices.
 * @throws {RangeError} When `n`, `size` or the seed is out of range.
 *
 * @example Usage
 * ```ts
 * import { numpyChoice } from "./numpy_choice.ts";
 * import assert from "node:assert/strict";
 *
 * // python3 -c "import numpy as np; np.random.seed(42); print(np.random.choice(10, 5))"
 * assert.deepEqual([...numpyChoice(10, 5, { seed: 42 })], [6, 3, 7, 4, 6]);
 * ```
 */
export function numpyChoice(n: number, size: number, options: NumpyChoiceOptions): Uint32Array {
  if (!Number.isInteger(n) || n < 1 || n >= 2 ** 32) {
    throw new RangeError(`Cannot draw from ${n} items: need a positive integer below 2^32`);
  }
  if (!Number.isInteger(size) || size < 0) {
    throw new RangeError(`Cannot draw ${size} items: need a non-negative integer`);
  }
  const { seed } = options;
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new RangeError(`Cannot seed with ${seed}: need an integer in [0, 2^32)`);
  }
  const out = new Uint32Array(size);
  const max = n - 1;
  if (max === 0) return out;
  let mask = max;
  for (const shift of [1, 2, 4, 8, 16]) mask |= mask >>> shift;
  const rng = new Mt19937(seed);
  for (let i = 0; i < size; i++) {
    let v;
    do v = (rng.next() & mask) >>> 0; while (v > max);
    out[i] = v;
  }
  return out;
}
