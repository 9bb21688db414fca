/**
 * Reads the two forms of a request that carries images (`/v1/match`,
 * `/v1/features`) into one shape, so validation and dispatch do not care how
 * the client sent it: `multipart/form-data` (image files, other fields as
 * text; what `curl -F` sends) or `application/json` (images as base64, a
 * `data:` URL prefix accepted, other fields as JSON values).
 *
 * @example Usage
 * ```ts
 * import { readImageRequest, readMatchRequest } from "./_image_body.ts";
 * import assert from "node:assert/strict";
 *
 * const form = new FormData();
 * form.set("source", new Blob([new Uint8Array([1, 2])]), "a.png");
 * form.set("target", new Blob([new Uint8Array([3])]), "b.png");
 * form.set("points", "[[1, 2]]");
 * form.set("localizer", "nn");
 * const body = await readMatchRequest(new Request("http://x/", { method: "POST", body: form }));
 * assert.deepEqual(body.points, [[1, 2]]);
 * assert.equal(body.options.localizer, "nn");
 * assert.equal(body.target.length, 1);
 *
 * const json = JSON.stringify({ image: btoa("\x01\x02"), model: "dsift" });
 * const req = new Request("http://x/", { method: "POST", body: json, headers: { "content-type": "application/json" } });
 * const one = await readImageRequest(req, ["image"]);
 * assert.deepEqual([...one.images.image], [1, 2]);
 * assert.equal(one.fields.model, "dsift");
 * ```
 *
 * @module
 */

import {
  InvalidRequestError,
  MalformedRequestError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from "../errors/mod.ts";

/**
 * Most bytes a request's fields other than its images may take: 1,000
 * points and every option fit many times over. The body limit is sized for
 * the images, so without this a small image padded with an unknown field
 * could fill it.
 */
export const MAX_FIELD_BYTES = 1024 * 1024;

function tooManyFieldBytes(bytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `Cannot read a request whose fields other than the images take ${bytes} bytes: the limit is ${MAX_FIELD_BYTES}`,
    { details: { limit: MAX_FIELD_BYTES, unit: "field_bytes" } },
  );
}

/** A request's images and its other fields, before validation. */
export interface RawImageRequest {
  /** The named images' bytes. */
  images: Record<string, Uint8Array>;
  /** Every other field: text for multipart, JSON values for JSON. */
  fields: Record<string, unknown>;
}

/** A match request before validation. */
export interface RawMatchRequest {
  source: Uint8Array;
  target: Uint8Array;
  points: unknown;
  options: Record<string, unknown>;
}

/**
 * Parses a multipart or JSON request carrying the named images.
 *
 * @param req The request.
 * @param names The image fields, each required.
 * @returns The images and the other fields.
 * @throws {UnsupportedMediaTypeError} For other content types.
 * @throws {MalformedRequestError} For unparsable bodies or base64.
 * @throws {InvalidRequestError} For a missing image, or one of the wrong kind.
 */
export async function readImageRequest(
  req: Request,
  names: readonly string[],
): Promise<RawImageRequest> {
  const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type === "multipart/form-data") return await readMultipart(req, names);
  if (type === "application/json") return await readJson(req, names);
  throw new UnsupportedMediaTypeError(
    `Cannot read a ${
      type || "body without Content-Type"
    }: send multipart/form-data or application/json`,
    { details: { accepted: ["multipart/form-data", "application/json"] } },
  );
}

/**
 * Parses a `/v1/match` request: images `source` and `target`, the `points`
 * (JSON text in multipart), and the other fields as options.
 *
 * @param req The request.
 * @returns Image bytes, points (unvalidated) and the other fields as options.
 * @throws {UnsupportedMediaTypeError} For other content types.
 * @throws {MalformedRequestError} For unparsable bodies, base64 or points.
 * @throws {InvalidRequestError} For missing images or points.
 */
export async function readMatchRequest(req: Request): Promise<RawMatchRequest> {
  const multipart = (req.headers.get("content-type") ?? "").toLowerCase().includes("multipart");
  const { images, fields } = await readImageRequest(req, ["source", "target"]);
  const { points: raw, ...options } = fields;
  if (raw === undefined) throw missing("points");
  let points = raw;
  if (multipart) {
    try {
      points = JSON.parse(String(raw));
    } catch {
      throw new MalformedRequestError("Field `points` is not JSON: send [[x, y], ...]");
    }
  }
  return { source: images.source, target: images.target, points, options };
}

async function readMultipart(req: Request, names: readonly string[]): Promise<RawImageRequest> {
  let form: FormData;
  try {
    form = await req.formData();
  } catch (e) {
    throw new MalformedRequestError(`Cannot parse multipart body: ${(e as Error).message}`);
  }
  const images: Record<string, Uint8Array> = {};
  for (const name of names) {
    const v = form.get(name);
    if (v === null) throw missing(name);
    if (typeof v === "string") {
      throw new InvalidRequestError(`Field \`${name}\` must be a file upload`, {
        details: { issues: [{ path: [name], message: "Expected a file", code: "invalid_type" }] },
      });
    }
    images[name] = new Uint8Array(await v.arrayBuffer());
  }
  const fields: Record<string, unknown> = {};
  let fieldBytes = 0;
  for (const [k, v] of form.entries()) {
    if (names.includes(k)) continue;
    fieldBytes += k.length + (typeof v === "string" ? v.length : v.size);
    if (typeof v === "string") fields[k] = v;
  }
  if (fieldBytes > MAX_FIELD_BYTES) throw tooManyFieldBytes(fieldBytes);
  return { images, fields };
}

async function readJson(req: Request, names: readonly string[]): Promise<RawImageRequest> {
  let body: unknown;
  let length = 0;
  try {
    const text = await req.text();
    length = text.length;
    body = JSON.parse(text);
  } catch (e) {
    throw new MalformedRequestError(`Cannot parse JSON body: ${(e as Error).message}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new MalformedRequestError("The JSON body must be an object");
  }
  const fields = { ...body as Record<string, unknown> };
  // What the body holds beside the image strings, in UTF-16 code units.
  let fieldBytes = length;
  for (const name of names) {
    if (typeof fields[name] === "string") fieldBytes -= (fields[name] as string).length;
  }
  if (fieldBytes > MAX_FIELD_BYTES) throw tooManyFieldBytes(fieldBytes);
  const images: Record<string, Uint8Array> = {};
  for (const name of names) {
    images[name] = base64(fields[name], name);
    delete fields[name];
  }
  return { images, fields };
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
