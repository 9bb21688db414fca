/**
 * Reads the two forms of a `/v1/match` body into one shape, so validation
 * and dispatch do not care how the client sent it.
 *
 * @example Usage
 * ```ts
 * import { readMatchRequest } from "./_match_body.ts";
 * import assert from "node:assert/strict";
 *
 * const form = new FormData();
 * form.set("source", new Blob([new Uint8Array([1, 2])]), "a.png");
 * form.set("target", new Blob([new Uint8Array([3])]), "b.png");
 * form.set("points", "[[1, 2]]");
 * form.set("localizer", "nn");
 * const req = new Request("http://x/", { method: "POST", body: form });
 * const body = await readMatchRequest(req);
 * assert.deepEqual(body.points, [[1, 2]]);
 * assert.equal(body.options.localizer, "nn");
 * assert.equal(body.target.length, 1);
 * ```
 *
 * @module
 */

import {
  InvalidRequestError,
  MalformedRequestError,
  UnsupportedMediaTypeError,
} from "../errors/mod.ts";

/** A match request before validation. */
export interface RawMatchRequest {
  source: Uint8Array;
  target: Uint8Array;
  points: unknown;
  options: Record<string, unknown>;
}

/**
 * Parses a multipart or JSON match request.
 *
 * @param req The request.
 * @returns Image bytes, points (unvalidated) and the other fields as options.
 * @throws {UnsupportedMediaTypeError} For other content types.
 * @throws {MalformedRequestError} For unparsable bodies.
 * @throws {InvalidRequestError} For missing images.
 */
export async function readMatchRequest(req: Request): Promise<RawMatchRequest> {
  const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type === "multipart/form-data") return await readMultipart(req);
  if (type === "application/json") return await readJson(req);
  throw new UnsupportedMediaTypeError(
    `Cannot read a ${
      type || "body without Content-Type"
    }: send multipart/form-data or application/json`,
    { details: { accepted: ["multipart/form-data", "application/json"] } },
  );
}

async function readMultipart(req: Request): Promise<RawMatchRequest> {
  let form: FormData;
  try {
    form = await req.formData();
  } catch (e) {
    throw new MalformedRequestError(`Cannot parse multipart body: ${(e as Error).message}`);
  }
  const file = async (name: string) => {
    const v = form.get(name);
    if (v === null) throw missing(name);
    if (typeof v === "string") {
      throw new InvalidRequestError(`Field \`${name}\` must be a file upload`, {
        details: { issues: [{ path: [name], message: "Expected a file", code: "invalid_type" }] },
      });
    }
    return new Uint8Array(await v.arrayBuffer());
  };
  const source = await file("source");
  const target = await file("target");
  const rawPoints = form.get("points");
  if (rawPoints === null) throw missing("points");
  let points: unknown;
  try {
    points = JSON.parse(String(rawPoints));
  } catch {
    throw new MalformedRequestError("Field `points` is not JSON: send [[x, y], ...]");
  }
  const options: Record<string, unknown> = {};
  for (const [k, v] of form.entries()) {
    if (k !== "source" && k !== "target" && k !== "points" && typeof v === "string") options[k] = v;
  }
  return { source, target, points, options };
}

async function readJson(req: Request): Promise<RawMatchRequest> {
  let body: unknown;
  try {
    body = await req.json();
  } catch (e) {
    throw new MalformedRequestError(`Cannot parse JSON body: ${(e as Error).message}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new MalformedRequestError("The JSON body must be an object");
  }
  const { source, target, points, ...options } = body as Record<string, unknown>;
  return { source: base64(source, "source"), target: base64(target, "target"), points, options };
}

function base64(value: unknown, name: string): Uint8Array {
  if (value === undefined) throw missing(name);
  if (typeof value !== "string") {
    throw new InvalidRequestError(`Field \`${name}\` must be a base64 string`, {
      details: {
        issues: [{ path: [name], message: "Expected a base64 string", code: "invalid_type" }],
      },
    });
  }
  // Accept data URLs as browsers produce them.
  const b64 = value.replace(/^data:[^,]*;base64,/, "").replace(/\s+/g, "");
  try {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    throw new MalformedRequestError(`Field \`${name}\` is not valid base64`);
  }
}

function missing(name: string): InvalidRequestError {
  return new InvalidRequestError(`Missing \`${name}\``, {
    details: { issues: [{ path: [name], message: "Required", code: "invalid_type" }] },
  });
}
