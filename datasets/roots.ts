// This module is browser compatible.
/**
 * Where each benchmark dataset lives, from the environment.
 *
 * @example Usage
 * ```ts
 * import { datasetRoot } from "./roots.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(datasetRoot("pfwillow", {}), "./data/pf-willow");
 * assert.equal(datasetRoot("spair", { DATA_ROOT: "/d" }), "/d/SPair-71k");
 * assert.equal(datasetRoot("ap10k", { DATA_AP10K: "/x/ap" }), "/x/ap");
 * assert.equal(
 *   datasetRoot("spair", { DATA_ROOT: "https://bucket.example.com/data/" }),
 *   "https://bucket.example.com/data/SPair-71k",
 * );
 * ```
 *
 * @module
 */

import { DATASET_IDS, type DatasetId } from "./types.ts";
import { DatasetUnavailableError } from "../errors/mod.ts";
import { checkRootUrl, isUrlRoot } from "./_root_url.ts";

/** Per dataset: the variable that names its root, and its folder under `DATA_ROOT`. */
export const DATASET_ROOTS = Object.freeze(
  {
    spair: { env: "DATA_SPAIR", folder: "SPair-71k" },
    pfpascal: { env: "DATA_PFPASCAL", folder: "pf-pascal" },
    pfwillow: { env: "DATA_PFWILLOW", folder: "pf-willow" },
    ap10k: { env: "DATA_AP10K", folder: "ap-10k" },
  } as const satisfies Record<DatasetId, { env: string; folder: string }>,
);

/**
 * Where one dataset is read from: its root and the longest one read of it
 * may take (`DATA_TIMEOUT_MS`; unset: the data source's default), or why it
 * cannot be read (a misconfigured root makes that dataset unavailable, not
 * the service). The deadline travels with the root so that every reader of
 * a configured dataset opens it with the same limits.
 */
export type DatasetRootSetting =
  | { root: string; timeoutMs?: number }
  | { root: null; reason: string };

/** Every dataset's root setting. */
export type DatasetRoots = Readonly<Record<DatasetId, DatasetRootSetting>>;

/** The default of `DATA_ROOT`. */
export const DEFAULT_DATA_ROOT = "./data";

/**
 * Resolves the root folder of a dataset: the dataset's own variable
 * (`DATA_SPAIR`, `DATA_PFPASCAL`, `DATA_PFWILLOW`, `DATA_AP10K`) when set and
 * not empty, else its folder (`SPair-71k`, `pf-pascal`, `pf-willow`,
 * `ap-10k`) under `DATA_ROOT` (default `./data`). Nothing is read.
 *
 * Either variable may be a base URL instead of a folder: `https://...` (an
 * object store serving the same tree), or `http://...` on a loopback host
 * only (127.0.0.0/8, `::1`, `localhost`). The readers then fetch each file;
 * see `openDataSource()`.
 *
 * @param id The dataset.
 * @param env The environment, e.g. `Deno.env.toObject()`.
 * @returns The root folder or base URL, as given (relative paths stay relative).
 * @throws {RangeError} When `id` is not a known dataset, or the variable
 * used is a URL that is not allowed: plain `http://` to a host other than
 * loopback, another scheme, credentials, a query or a fragment.
 *
 * @example Usage
 * ```ts
 * import { datasetRoot } from "./roots.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(datasetRoot("pfpascal", { DATA_ROOT: "/data/" }), "/data/pf-pascal");
 * assert.equal(datasetRoot("pfwillow", { DATA_PFWILLOW: "", DATA_ROOT: "/d" }), "/d/pf-willow");
 * assert.equal(
 *   datasetRoot("pfwillow", { DATA_PFWILLOW: "http://127.0.0.1:8080/pf-willow" }),
 *   "http://127.0.0.1:8080/pf-willow",
 * );
 * assert.throws(() => datasetRoot("pfwillow", { DATA_ROOT: "http://example.com/d" }), RangeError);
 * ```
 */
export function datasetRoot(id: DatasetId, env: Record<string, string | undefined>): string {
  const entry = Object.hasOwn(DATASET_ROOTS, id) ? DATASET_ROOTS[id] : undefined;
  if (entry === undefined) {
    throw new RangeError(
      `Cannot resolve dataset root: unknown dataset "${id}" (known: ${
        Object.keys(DATASET_ROOTS).join(", ")
      })`,
    );
  }
  const own = env[entry.env];
  if (own !== undefined && own !== "") {
    if (isUrlRoot(own)) checkRootUrl(own, entry.env);
    return own;
  }
  const base = env.DATA_ROOT === undefined || env.DATA_ROOT === ""
    ? DEFAULT_DATA_ROOT
    : env.DATA_ROOT;
  if (isUrlRoot(base)) checkRootUrl(base, "DATA_ROOT");
  return `${base.replace(/[/\\]+$/, "")}/${entry.folder}`;
}

/**
 * Resolves every dataset's root with {@linkcode datasetRoot}, keeping the
 * reason where one cannot be used instead of failing.
 *
 * @param env The variables (`DATA_ROOT`, `DATA_SPAIR`...).
 * @param options `timeoutMs`: the longest one read may take, kept with each
 * usable root (unset: the data source's default, 30 s).
 * @returns Each dataset's root or the reason it has none.
 *
 * @example Usage
 * ```ts
 * import { datasetRoots } from "./roots.ts";
 * import assert from "node:assert/strict";
 *
 * const roots = datasetRoots({ DATA_ROOT: "/d", DATA_AP10K: "http://example.com/ap" });
 * assert.deepEqual(roots.pfwillow, { root: "/d/pf-willow" });
 * assert.equal(roots.ap10k.root, null);
 * assert.deepEqual(
 *   datasetRoots({ DATA_ROOT: "/d" }, { timeoutMs: 300 }).spair,
 *   { root: "/d/SPair-71k", timeoutMs: 300 },
 * );
 * ```
 */
export function datasetRoots(
  env: Record<string, string | undefined>,
  options: { timeoutMs?: number } = {},
): DatasetRoots {
  const roots = {} as Record<DatasetId, DatasetRootSetting>;
  for (const id of DATASET_IDS) {
    try {
      const root = datasetRoot(id, env);
      roots[id] = options.timeoutMs === undefined
        ? { root }
        : { root, timeoutMs: options.timeoutMs };
    } catch (e) {
      roots[id] = { root: null, reason: (e as Error).message };
    }
  }
  return Object.freeze(roots);
}

/**
 * The root of a dataset that must be usable now.
 *
 * @param roots The roots, from {@linkcode datasetRoots}.
 * @param id The dataset.
 * @returns Its root.
 * @throws {DatasetUnavailableError} When its root setting cannot be used.
 *
 * @example Usage
 * ```ts
 * import { datasetRoots, requireRoot } from "./roots.ts";
 * import assert from "node:assert/strict";
 *
 * const roots = datasetRoots({ DATA_SPAIR: "ftp://x/spair" });
 * assert.equal(requireRoot(roots, "pfwillow"), "./data/pf-willow");
 * assert.throws(() => requireRoot(roots, "spair"), /DATA_SPAIR/);
 * ```
 */
export function requireRoot(roots: DatasetRoots, id: DatasetId): string {
  const r = roots[id];
  if (r.root === null) {
    throw new DatasetUnavailableError(`Cannot read dataset ${id}: ${r.reason}`);
  }
  return r.root;
}
