/**
 * Validation at the edge: every route checks its input with a zod schema
 * through these helpers, so every failure reads the same way: HTTP 422,
 * code `invalid_request`, and the zod issues as `details`.
 *
 * @example Usage
 * ```ts
 * import { z } from "zod";
 * import { parseInput } from "./_validate.ts";
 * import assert from "node:assert/strict";
 *
 * const schema = z.object({ n: z.number() });
 * assert.deepEqual(parseInput(schema, { n: 1 }), { n: 1 });
 * assert.throws(() => parseInput(schema, { n: "x" }));
 * ```
 *
 * @module
 */

import { z } from "zod";
import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import { InvalidRequestError } from "../errors/mod.ts";

/** One validation problem, as clients see it. */
export interface ValidationIssue {
  path: (string | number)[];
  message: string;
  code: string;
}

interface IssueList {
  issues: readonly { path: readonly PropertyKey[]; message: string; code: string }[];
}

/** Issues listed in an error body at most; `details.issue_count` tells how many there were. */
export const MAX_ISSUES = 20;

/** Shape bounds checked before validation, so no input can make validation itself costly. */
export const JSON_BOUNDS = Object.freeze({ maxDepth: 32, maxArray: 100_000 });

/**
 * A path as clients read it: `points[0]`, `frames.official`.
 *
 * @param path Keys and indices.
 * @returns The path, `[i]` for indices and `.` between keys.
 */
export function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`).join("");
}

function issuesOf(error: IssueList, prefix: (string | number)[]): ValidationIssue[] {
  return error.issues.slice(0, MAX_ISSUES).map((i) => ({
    path: [...prefix, ...i.path.map((p) => (typeof p === "number" ? p : String(p)))],
    message: i.message.slice(0, 300),
    code: i.code,
  }));
}

function invalid(error: IssueList, prefix: (string | number)[] = []): InvalidRequestError {
  const issues = issuesOf(error, prefix);
  const first = issues[0];
  const where = first && first.path.length ? ` at \`${formatPath(first.path)}\`` : "";
  return new InvalidRequestError(`Invalid request${where}: ${first?.message}`, {
    details: { issues, issue_count: error.issues.length },
  });
}

/**
 * Checks the shape of parsed JSON before a schema sees it: nesting depth and
 * array lengths are bounded, iteratively, so a deeply nested or huge input
 * is refused with one short issue instead of costing stack or memory.
 *
 * @param value Parsed JSON.
 * @param prefix Where the value sits in the request (for the issue's path).
 * @throws {InvalidRequestError} 422 naming the first place over a bound.
 */
export function checkJsonBounds(value: unknown, prefix: (string | number)[] = []): void {
  const stack: [unknown, (string | number)[]][] = [[value, prefix]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (path.length - prefix.length >= JSON_BOUNDS.maxDepth) {
      throw bound(path, `nested deeper than ${JSON_BOUNDS.maxDepth} levels`);
    }
    if (Array.isArray(v)) {
      if (v.length > JSON_BOUNDS.maxArray) {
        throw bound(
          path,
          `an array of ${v.length} items, over the limit of ${JSON_BOUNDS.maxArray}`,
        );
      }
      for (let i = 0; i < v.length; i++) {
        if (typeof v[i] === "object" && v[i] !== null) stack.push([v[i], [...path, i]]);
      }
    } else {
      for (const [k, x] of Object.entries(v)) {
        if (typeof x === "object" && x !== null) stack.push([x, [...path, k]]);
      }
    }
  }
}

function bound(path: (string | number)[], what: string): InvalidRequestError {
  const at = path.length ? ` at \`${formatPath(path)}\`` : "";
  return new InvalidRequestError(`Invalid request${at}: ${what}`, {
    details: { issues: [{ path, message: what, code: "too_big" }], issue_count: 1 },
  });
}

/**
 * Parses a value or throws the service's validation error.
 *
 * @param schema The zod schema.
 * @param value The input.
 * @param options `path`: where the value sits in the request (`["points"]`), for issue paths.
 * @returns The parsed value.
 * @throws {InvalidRequestError} 422 `invalid_request` with the issues.
 */
export function parseInput<T extends z.ZodType>(
  schema: T,
  value: unknown,
  options: { path?: (string | number)[] } = {},
): z.output<T> {
  checkJsonBounds(value, options.path);
  const r = schema.safeParse(value);
  if (!r.success) throw invalid(r.error, options.path);
  return r.data;
}

/**
 * `zValidator` with the service's error format; use it instead of `zValidator`.
 *
 * @param target What to validate (`json`, `query`, `param`...).
 * @param schema The zod schema.
 * @returns A validator middleware.
 */
export function validate<T extends z.ZodType, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T,
) {
  // The bounds run before the schema: a thrown error leaves zod at once.
  const bounded = z.preprocess((value) => {
    checkJsonBounds(value);
    return value;
  }, schema);
  return zValidator(target, bounded, (result) => {
    if (!result.success) throw invalid(result.error as IssueList);
  });
}
