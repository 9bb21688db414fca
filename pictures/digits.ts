/**
 * A 3 x 5 pixel font of the ten digits, so pictures can number their points
 * without a font file: each glyph is five rows of three bits, the high bit
 * the left column.
 *
 * @example Usage
 * ```ts
 * import { DIGIT_HEIGHT, DIGIT_WIDTH, digitPixels } from "./digits.ts";
 * import assert from "node:assert/strict";
 *
 * // "1" is a vertical stroke in the middle column with a foot.
 * const one = digitPixels("1");
 * assert.equal(one.length, DIGIT_WIDTH * DIGIT_HEIGHT);
 * assert.deepEqual([...one.subarray(0, 3)], [0, 1, 0]);
 * assert.deepEqual([...one.subarray(12, 15)], [1, 1, 1]);
 * assert.throws(() => digitPixels("x"), RangeError);
 * ```
 *
 * @module
 */

/** Columns of a glyph. */
export const DIGIT_WIDTH = 3;

/** Rows of a glyph. */
export const DIGIT_HEIGHT = 5;

/** Rows of each digit, top to bottom, 3 bits each. */
const GLYPHS: Readonly<Record<string, readonly number[]>> = {
  "0": [0b111, 0b101, 0b101, 0b101, 0b111],
  "1": [0b010, 0b110, 0b010, 0b010, 0b111],
  "2": [0b111, 0b001, 0b111, 0b100, 0b111],
  "3": [0b111, 0b001, 0b011, 0b001, 0b111],
  "4": [0b101, 0b101, 0b111, 0b001, 0b001],
  "5": [0b111, 0b100, 0b111, 0b001, 0b111],
  "6": [0b111, 0b100, 0b111, 0b101, 0b111],
  "7": [0b111, 0b001, 0b010, 0b010, 0b010],
  "8": [0b111, 0b101, 0b111, 0b101, 0b111],
  "9": [0b111, 0b101, 0b111, 0b001, 0b111],
};

/**
 * The pixels of one digit.
 *
 * @param digit One character, `0` to `9`.
 * @returns `DIGIT_HEIGHT x DIGIT_WIDTH` values, row-major: 1 where the glyph is inked.
 * @throws {RangeError} For any other character.
 */
export function digitPixels(digit: string): Uint8Array {
  const rows = GLYPHS[digit];
  if (!rows) throw new RangeError(`Cannot draw \`${digit}\`: only the digits 0-9 have glyphs`);
  const out = new Uint8Array(DIGIT_WIDTH * DIGIT_HEIGHT);
  for (let y = 0; y < DIGIT_HEIGHT; y++) {
    for (let x = 0; x < DIGIT_WIDTH; x++) {
      out[y * DIGIT_WIDTH + x] = (rows[y] >> (DIGIT_WIDTH - 1 - x)) & 1;
    }
  }
  return out;
}
