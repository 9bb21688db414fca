// This module is browser compatible.
/**
 * Standard normal samples from a seeded mulberry32 generator (Box-Muller),
 * for the weights of test graphs: the same seed gives the same weights on
 * every machine.
 *
 * @module
 */

/**
 * Makes a seeded generator of standard normal samples.
 *
 * @param seed An integer seed.
 * @returns A function returning the next sample.
 */
export function seededNormal(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = 1 - uniform(); // (0, 1]: log stays finite
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}
