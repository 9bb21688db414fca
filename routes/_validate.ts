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

import type { z } from "zod";
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

function issuesOf(error: IssueList): ValidationIssue[] {
  return error.issues.map((i) => ({
    path: i.path.map((p) => (typeof p === "number" ? p : String(p))),
    message: i.message,
    code: i.code,
  }));
}

function invalid(error: IssueList): InvalidRequestError {
  const issues = issuesOf(error);
  const first = issues[0];
  const where = first && first.path.length ? ` at \`${first.path.join(".")}\`` : "";
  return new InvalidRequestError(`Invalid request${where}: ${first?.message}`, {
    details: { issues },
  });
}

/**
 * Parses a value or throws the service's validation error.
 *
 * @param schema The zod schema.
 * @param value The input.
 * @returns The parsed value.
 * @throws {InvalidRequestError} 422 `invalid_request` with the issues.
 */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw invalid(r.error);
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
  return zValidator(target, schema, (result) => {
    if (!result.success) throw invalid(result.error as IssueList);
  });
}
