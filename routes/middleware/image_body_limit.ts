/**
 * The body size limit of a route that takes images: `images` of at most
 * `MAX_IMAGE_BYTES` each, base64 in JSON (4/3, rounded up to 1.4), plus 1 MB
 * of other fields. Past it, `413 payload_too_large` before the body is read.
 *
 * @example Usage
 * ```ts ignore
 * app.post("/", imageBodyLimit(2), async (c) => { ... });
 * ```
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { limitBody } from "./body_limit.ts";

/**
 * The middleware for a route taking `images` images.
 *
 * @param images How many images the body carries.
 * @returns The middleware.
 */
export function imageBodyLimit(images: number): MiddlewareHandler<AppEnv> {
  return limitBody<AppEnv>((c) =>
    Math.ceil(c.var.services.config.limits.maxBytes * images * 1.4) + 1_000_000
  );
}
