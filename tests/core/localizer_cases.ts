/**
 * The shared localizer suite: score maps with hand-computed results for every
 * localizer, run through `localize()` by `localize_test.ts`.
 *
 * Unless a case overrides them, options are `DEFAULT_LOCALIZER`'s:
 * T = 0.03, sigma = 7 cells, window = 7 cells. `z = exp(-1 / 0.03) =
 * 3.34e-15` is the softmax weight of a 0 cell against a peak of 1.
 * Scores are float32, so 0.99 is 0.99000001 and 0.97 is 0.97000003; the
 * expected numbers below were evaluated with those values.
 *
 * When a case's `scoreMap` ignores the probe, `bilinear` sees the same map at
 * all four corners and therefore gives the `nn` result.
 */

import type { GridSize } from "../../core/frame_to_grid.ts";
import type { LocalizerName, LocalizerOptions } from "../../core/localizer_options.ts";

/** An expected localization, in grid coordinates. */
export interface Expected {
  x: number;
  y: number;
  score: number;
}

/** An expectation, or the reason a localizer does not run this case. */
export type Expectation = Expected | { skip: string };

/** One score-map scenario with its expected result per localizer. */
export interface LocalizerCase {
  name: string;
  grid: GridSize;
  /** The query point on the source grid, in grid coordinates. */
  query: [number, number];
  /** Overrides of `DEFAULT_LOCALIZER` (all but the method). */
  options?: Partial<Omit<LocalizerOptions, "method">>;
  /** The score map the cost volume returns for a probe at grid point (x, y). */
  scoreMap(probeX: number, probeY: number): Float32Array;
  expected: Record<LocalizerName, Expectation>;
}

/** Absolute tolerance on x, y and score (results are float32). */
export const TOLERANCE = 1e-5;

/** A score map that is 0 except at the listed cells. */
function sparse(grid: GridSize, cells: [number, number, number][]): Float32Array {
  const out = new Float32Array(grid.width * grid.height);
  for (const [x, y, v] of cells) out[y * grid.width + x] = v;
  return out;
}

export const LOCALIZER_CASES: LocalizerCase[] = [
  {
    name: "one-hot map",
    // 5x4 grid, 1 at (3, 1). 19 zero cells with x sum 37 and y sum 29:
    // softargmax x = (3 + 37z) / (1 + 19z) = 3 - 1e-13, y = (1 + 29z) / (1 + 19z) = 1.
    // The kernel leaves 0 cells at 0, and the window (7) covers the grid: same result.
    grid: { width: 5, height: 4 },
    query: [1, 1],
    scoreMap: () => sparse({ width: 5, height: 4 }, [[3, 1, 1]]),
    expected: {
      nn: { x: 3, y: 1, score: 1 },
      bilinear: { x: 3, y: 1, score: 1 },
      softargmax: { x: 3, y: 1, score: 1 },
      "kernel-softargmax": { x: 3, y: 1, score: 1 },
      "window-softargmax": { x: 3, y: 1, score: 1 },
    },
  },
  {
    name: "symmetric two-peak map",
    // 7x3 grid, 1 at (1, 1) and (5, 1); window 2.
    // nn: first max in row-major order, (1, 1).
    // softargmax: both peaks weigh 1, zero cells are symmetric about (3, 1): x = 3, y = 1.
    // kernel: centred on (1, 1); the other peak becomes exp(-16 / 98) = 0.849366, weight
    //   r = exp((0.849366 - 1) / 0.03) = 0.006597: x = (1 + 5r) / (1 + r) = 1.026215, y = 1.
    // window 2 around (1, 1): columns 0..3, so (5, 1) is masked to 0:
    //   x = (1 + 62z) / (1 + 20z) = 1, y = 1.
    grid: { width: 7, height: 3 },
    query: [3, 1],
    options: { window: 2 },
    scoreMap: () => sparse({ width: 7, height: 3 }, [[1, 1, 1], [5, 1, 1]]),
    expected: {
      nn: { x: 1, y: 1, score: 1 },
      bilinear: { x: 1, y: 1, score: 1 },
      softargmax: { x: 3, y: 1, score: 1 },
      "kernel-softargmax": { x: 1.0262150809, y: 1, score: 1 },
      "window-softargmax": { x: 1, y: 1, score: 1 },
    },
  },
  {
    name: "the kernel suppresses a far second peak",
    // 40x1 grid, 1 at x = 2, 0.99 at x = 37.
    // softargmax: r = exp((0.99 - 1) / 0.03) = 0.716531: x = (2 + 37r) / (1 + r) = 16.610045.
    // kernel: 0.99 * exp(-35^2 / 98) = 0.99 * 3.73e-6 = 3.69e-6, weight ~z: x = 2.
    // window 7 around x = 2: columns 0..9, x = 37 is masked to 0: x = 2.
    grid: { width: 40, height: 1 },
    query: [20, 0],
    scoreMap: () => sparse({ width: 40, height: 1 }, [[2, 0, 1], [37, 0, 0.99]]),
    expected: {
      nn: { x: 2, y: 0, score: 1 },
      bilinear: { x: 2, y: 0, score: 1 },
      softargmax: { x: 16.6100454795, y: 0, score: 1 },
      "kernel-softargmax": { x: 2, y: 0, score: 1 },
      "window-softargmax": { x: 2, y: 0, score: 1 },
    },
  },
  {
    name: "the window is clipped at the border",
    // 6x2 grid: 1 at (0, 0), 0.97 at (2, 0) and (3, 0); window 2.
    // A 0.97 cell weighs r = exp((0.97 - 1) / 0.03) = exp(-1) = 0.367880.
    // softargmax: x = (2r + 3r) / (1 + 2r) = 1.059708, y = 6z / (...) ~ 0.
    // kernel: 0.97 * exp(-4 / 98) = 0.931205 -> weight 0.100947; 0.97 * exp(-9 / 98) =
    //   0.884886 -> weight 0.021556: x = (2 * 0.100947 + 3 * 0.021556) / 1.122503 = 0.237471.
    // window 2 around (0, 0) clipped to columns 0..2 (no padding cells): (3, 0) is masked
    //   to 0, so x = 2r / (1 + r) = 0.537883.
    grid: { width: 6, height: 2 },
    query: [0, 0],
    options: { window: 2 },
    scoreMap: () => sparse({ width: 6, height: 2 }, [[0, 0, 1], [2, 0, 0.97], [3, 0, 0.97]]),
    expected: {
      nn: { x: 0, y: 0, score: 1 },
      bilinear: { x: 0, y: 0, score: 1 },
      softargmax: { x: 1.0597083703, y: 0, score: 1 },
      "kernel-softargmax": { x: 0.2374707214, y: 0, score: 1 },
      "window-softargmax": { x: 0.5378832177, y: 0, score: 1 },
    },
  },
  {
    name: "ties take the first cell in row-major order",
    // 3x3 grid, 0.5 at (2, 0) (index 2) and (0, 2) (index 6): nn picks (2, 0).
    // softargmax: the peaks weigh 1 each, the 7 zero cells ze = exp(-0.5 / 0.03) = 5.8e-8 each
    //   with x sum 7 and y sum 7: x = (2 + 7ze) / (2 + 7ze) = 1, y = 1.
    // kernel centred on (2, 0): (0, 2) becomes 0.5 * exp(-8 / 98) = 0.460805, weight
    //   rk = exp((0.460805 - 0.5) / 0.03) = 0.270768: x = 2 / (1 + rk) = 1.573851,
    //   y = 2rk / (1 + rk) = 0.426149.
    // window 7 covers the grid: same as softargmax.
    grid: { width: 3, height: 3 },
    query: [1, 1],
    scoreMap: () => sparse({ width: 3, height: 3 }, [[2, 0, 0.5], [0, 2, 0.5]]),
    expected: {
      nn: { x: 2, y: 0, score: 0.5 },
      bilinear: { x: 2, y: 0, score: 0.5 },
      softargmax: { x: 1, y: 1, score: 0.5 },
      "kernel-softargmax": { x: 1.5738510971, y: 0.4261489029, score: 0.5 },
      "window-softargmax": { x: 1, y: 1, score: 0.5 },
    },
  },
  {
    name: "all-negative map: GeoAware-SC's masked zeros win",
    // 4x1 grid: -0.2, -0.1, -0.9, -0.5; window 0.
    // softargmax: weights exp((s + 0.1) / 0.03) = 0.035674, 1, 2.6e-12, 1.62e-6:
    //   x = (0.035674 * 0 + 1 + 3 * 1.62e-6) / 1.035676 = 0.965558.
    // kernel centred on x = 1: s' = -0.2 * exp(-1 / 98) = -0.197970, -0.1,
    //   -0.9 * exp(-1 / 98) = -0.890863, -0.5 * exp(-4 / 98) = -0.480003; weights
    //   0.038172, 1, 3.6e-12, 3.15e-6: x = (1 + 3 * 3.15e-6) / 1.038175 = 0.963238.
    // window 0 keeps x = 1 only; the other cells become 0 > -0.1, so they dominate:
    //   weights 1, exp(-0.1 / 0.03) = 0.035674, 1, 1: x = (0.035674 + 2 + 3) / 3.035674 = 1.658832.
    grid: { width: 4, height: 1 },
    query: [0, 0],
    options: { window: 0 },
    scoreMap: () => Float32Array.of(-0.2, -0.1, -0.9, -0.5),
    expected: {
      nn: { x: 1, y: 0, score: Math.fround(-0.1) },
      bilinear: { x: 1, y: 0, score: Math.fround(-0.1) },
      softargmax: { x: 0.9655579875, y: 0, score: Math.fround(-0.1) },
      "kernel-softargmax": { x: 0.963237681, y: 0, score: Math.fround(-0.1) },
      "window-softargmax": { x: 1.6588322743, y: 0, score: Math.fround(-0.1) },
    },
  },
  {
    name: "a 1x1 grid",
    // Every localizer returns the only cell; bilinear uses cell 0 for all four corners.
    grid: { width: 1, height: 1 },
    query: [0, 0],
    scoreMap: () => Float32Array.of(0.3),
    expected: {
      nn: { x: 0, y: 0, score: Math.fround(0.3) },
      bilinear: { x: 0, y: 0, score: Math.fround(0.3) },
      softargmax: { x: 0, y: 0, score: Math.fround(0.3) },
      "kernel-softargmax": { x: 0, y: 0, score: Math.fround(0.3) },
      "window-softargmax": { x: 0, y: 0, score: Math.fround(0.3) },
    },
  },
  {
    name: "bilinear blends four corner matches",
    // 4x3 grid, query (1.25, 0.5): corners (1, 0), (2, 0), (1, 1), (2, 1) with weights
    // 0.75 * 0.5 = 0.375, 0.25 * 0.5 = 0.125, 0.375, 0.125. Their maps peak at (2, 1) 0.8,
    // (3, 1) 0.6, (2, 2) 0.4, (3, 2) 0.2:
    //   x = 0.375 * 2 + 0.125 * 3 + 0.375 * 2 + 0.125 * 3 = 2.25,
    //   y = 0.375 * 1 + 0.125 * 1 + 0.375 * 2 + 0.125 * 2 = 1.5,
    //   score = 0.3 + 0.075 + 0.15 + 0.025 = 0.55.
    grid: { width: 4, height: 3 },
    query: [1.25, 0.5],
    scoreMap: (x, y) => {
      const peaks: Record<string, [number, number, number]> = {
        "1,0": [2, 1, 0.8],
        "2,0": [3, 1, 0.6],
        "1,1": [2, 2, 0.4],
        "2,1": [3, 2, 0.2],
      };
      const peak = peaks[`${x},${y}`];
      if (!peak) throw new Error(`unexpected probe (${x}, ${y})`);
      return sparse({ width: 4, height: 3 }, [peak]);
    },
    expected: {
      nn: { skip: "the maps are defined for the 4 corner probes only, not the query point" },
      bilinear: { x: 2.25, y: 1.5, score: 0.55 },
      softargmax: { skip: "the maps are defined for the 4 corner probes only" },
      "kernel-softargmax": { skip: "the maps are defined for the 4 corner probes only" },
      "window-softargmax": { skip: "the maps are defined for the 4 corner probes only" },
    },
  },
  {
    name: "bilinear clamps a query on the last cell inside the grid",
    // 4x3 grid, query (3, 2) is clamped to (3 - 1e-5, 2 - 1e-5): corners (2, 1), (3, 1),
    // (2, 2), (3, 2) with fx = fy = 0.99999, so (3, 2) weighs 0.99999^2 = 0.99998 and the
    // other three 2e-5 together. The probe at (3, 2) sees 0.9 at (0, 0); the others see 0.1
    // at (3, 2): x = 0.99998 * 0 + 2e-5 * 3 = 6e-5, y = 4e-5, score = 0.9 - 0.8 * 2e-5 = 0.899984.
    // Single-probe localizers sample (3, 2) itself: a one-hot map at (0, 0).
    grid: { width: 4, height: 3 },
    query: [3, 2],
    scoreMap: (x, y) =>
      x === 3 && y === 2
        ? sparse({ width: 4, height: 3 }, [[0, 0, 0.9]])
        : sparse({ width: 4, height: 3 }, [[3, 2, 0.1]]),
    expected: {
      nn: { x: 0, y: 0, score: Math.fround(0.9) },
      bilinear: { x: 6e-5, y: 4e-5, score: 0.899984 },
      softargmax: { x: 0, y: 0, score: Math.fround(0.9) },
      "kernel-softargmax": { x: 0, y: 0, score: Math.fround(0.9) },
      "window-softargmax": { x: 0, y: 0, score: Math.fround(0.9) },
    },
  },
];
