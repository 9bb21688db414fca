/**
 * Where the readers read a dataset from: a local folder or an `https://`
 * base URL (an object store serving the same tree). Every reader and the
 * evaluation's image reads go through one {@linkcode DataSource}, which
 * checks each relative path before use (no `..`, absolute path, drive
 * letter, NUL byte; for URLs no percent-encoded `..` or separator either),
 * bounds each file's size, the reads in flight and the time each read may
 * take, and names the file by its path relative to the root in every error
 * (never the server's absolute path or the root's URL, which may be internal).
 *
 * URL roots fetch each file with a timeout (body included); HTTP 404 and 410
 * are {@linkcode DatasetNotFoundError}, a read of either kind of root past
 * its timeout {@linkcode DatasetUnavailableError}, any other failure
 * {@linkcode DatasetMalformedError}. Folders cannot be listed from a URL, so
 * readers that list folders need their pair list file there.
 *
 * @example Usage
 * ```ts
 * import { openDataSource } from "./data_source.ts";
 * import assert from "node:assert/strict";
 *
 * const source = openDataSource("../shared/data/spair-71k/SPair-71k");
 * assert.equal(source.remote, false);
 * const layout = await source.readText("Layout/small/test.txt", "SPair-71k layout");
 * assert.equal(layout.trim().split("\n").length, 33);
 * assert.equal(await source.isFile("Layout/large/trn.txt"), false);
 * ```
 *
 * @module
 */

import { isUrlRoot } from "./_root_url.ts";
import { HttpDataSource } from "./_http_source.ts";
import { LocalDataSource } from "./_local_source.ts";
import type { DataSource, DataSourceOptions } from "./_source_base.ts";
import { type DatasetRoots, requireRoot } from "./roots.ts";
import type { DatasetId } from "./types.ts";

export type { DataEntry, DataSource, DataSourceOptions } from "./_source_base.ts";
export { DATA_SOURCE_DEFAULTS } from "./_source_base.ts";

/**
 * Opens a dataset root. A string starting with `scheme://` is a base URL
 * (`https://`, or `http://` on a loopback host: 127.0.0.0/8, `::1`,
 * `localhost`); any other string is a folder. A source passed in is
 * returned as is, so readers take either. Nothing is read yet.
 *
 * @param root The folder, the base URL, or an open source.
 * @param options Fetch, timeout per request (default 30 s), byte cap per
 * file (default 64 MiB) and reads in flight (default 8).
 * @returns The source.
 * @throws {RangeError} When the URL is not allowed (plain http to another
 * host, another scheme, credentials, a query) or an option is not valid.
 *
 * @example Usage
 * ```ts
 * import { openDataSource } from "./data_source.ts";
 * import assert from "node:assert/strict";
 *
 * const remote = openDataSource("https://data.example.com/pf-willow");
 * assert.equal(remote.remote, true);
 * assert.equal(remote.locate("PF-dataset//car(G)/./Cars_006a.png"), "PF-dataset/car(G)/Cars_006a.png");
 * assert.throws(() => remote.locate("../secret"), /`\.\.` segment/);
 * assert.throws(() => remote.locate("%2e%2e/secret"), /percent-encoded/);
 * assert.throws(() => openDataSource("http://data.example.com/pf-willow"), RangeError);
 * ```
 *
 * @example Limits
 * ```ts
 * import { DATA_SOURCE_DEFAULTS, openDataSource } from "./data_source.ts";
 * import { DatasetMalformedError } from "../errors/mod.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DATA_SOURCE_DEFAULTS.maxBytes, 64 * 1024 * 1024);
 * const source = openDataSource("../shared/data/pf-willow", { maxBytes: 100 });
 * await assert.rejects(
 *   () => source.readBytes("PF-dataset/car(G)/Cars_006a.png", "image"),
 *   DatasetMalformedError,
 * );
 * ```
 */
export function openDataSource(
  root: string | DataSource,
  options: DataSourceOptions = {},
): DataSource {
  if (typeof root !== "string") return root;
  return isUrlRoot(root) ? new HttpDataSource(root, options) : new LocalDataSource(root, options);
}

/**
 * Opens a configured dataset's root with the limits configured with it
 * (`DATA_TIMEOUT_MS`), so the service's readers all get them from the
 * settings instead of the defaults.
 *
 * @param roots The roots, from `datasetRoots()` (the service's `config.datasets`).
 * @param id The dataset.
 * @returns Its source.
 * @throws {DatasetUnavailableError} When its root setting cannot be used.
 *
 * @example Usage
 * ```ts
 * import { openRoot } from "./data_source.ts";
 * import { datasetRoots } from "./roots.ts";
 * import { DatasetUnavailableError } from "../errors/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const roots = datasetRoots({ DATA_ROOT: "../shared/data", DATA_SPAIR: "ftp://x" }, {
 *   timeoutMs: 300,
 * });
 * const willow = openRoot(roots, "pfwillow");
 * assert.equal(willow.root, "../shared/data/pf-willow");
 * assert.equal(await willow.isFile("PF-dataset/car(G)/Cars_006a.png"), true);
 * assert.throws(() => openRoot(roots, "spair"), DatasetUnavailableError);
 * ```
 */
export function openRoot(roots: DatasetRoots, id: DatasetId): DataSource {
  const root = requireRoot(roots, id);
  const { timeoutMs } = roots[id] as { timeoutMs?: number };
  return openDataSource(root, { timeoutMs });
}
