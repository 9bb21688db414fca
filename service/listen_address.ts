/**
 * How the start-up line names the address the server is bound to. A
 * wildcard bind (`0.0.0.0`, `::`) is printed as it is, so the log says the
 * service is reachable from other machines, with a loopback URL beside it
 * for a browser on this one; a specific address is its own URL.
 *
 * @example Usage
 * ```ts
 * import { listenAddress } from "./listen_address.ts";
 * import assert from "node:assert/strict";
 *
 * const any = listenAddress({ hostname: "0.0.0.0", port: 8000 });
 * assert.equal(any.bound, "0.0.0.0:8000");
 * assert.equal(any.url, "http://127.0.0.1:8000");
 * assert.equal(any.line, "0.0.0.0:8000 (every interface; on this machine http://127.0.0.1:8000)");
 * assert.equal(listenAddress({ hostname: "::", port: 80 }).url, "http://[::1]:80");
 * const local = listenAddress({ hostname: "127.0.0.1", port: 9000 });
 * assert.equal(local.line, "http://127.0.0.1:9000");
 * assert.equal(listenAddress({ hostname: "::1", port: 1 }).url, "http://[::1]:1");
 * ```
 *
 * @module
 */

/** The start-up line's address, and the URL to reach it from this machine. */
export interface ListenAddress {
  /** `host:port` as bound, e.g. `0.0.0.0:8000`. */
  bound: string;
  /** A URL that reaches it from this machine: loopback for a wildcard bind. */
  url: string;
  /** What the start-up line prints after "Listening on". */
  line: string;
}

const WILDCARD: Record<string, string> = { "0.0.0.0": "127.0.0.1", "::": "::1" };

/**
 * Names a listener's address.
 *
 * @param addr The bound address (`hostname`, `port`).
 * @returns The bound address, a URL for this machine and the log text.
 */
export function listenAddress(addr: { hostname: string; port: number }): ListenAddress {
  const hostPort = (host: string) => `${host.includes(":") ? `[${host}]` : host}:${addr.port}`;
  const bound = hostPort(addr.hostname);
  const local = WILDCARD[addr.hostname];
  const url = `http://${hostPort(local ?? addr.hostname)}`;
  return {
    bound,
    url,
    line: local ? `${bound} (every interface; on this machine ${url})` : url,
  };
}
