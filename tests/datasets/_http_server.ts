/**
 * A small read-only HTTP server on 127.0.0.1 for the remote-root tests: it
 * serves folders in place (never copied) under URL prefixes, answers `HEAD`
 * and `Range: bytes=a-b`, can add synthesized files, and lets a test hook
 * any path (errors, stalls, redirects). It counts requests in flight.
 *
 * @module
 */

/** Options of {@linkcode serveFolders}. */
export interface ServeOptions {
  /** URL prefix (e.g. `/shared/`) to folder. */
  folders: Record<string, string>;
  /** Extra files by URL path (decoded), served before the folders. */
  files?: Record<string, string | Uint8Array>;
  /** Answers a request itself when it returns a response. */
  hook?: (path: string, req: Request) => Response | Promise<Response> | undefined;
  /** Ignore `Range` headers (as some servers do). */
  ignoreRange?: boolean;
  /** Delay in ms before each answer. */
  delayMs?: number;
}

/** A running server. */
export interface TestServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  origin: string;
  /** Decoded paths requested, with the method, e.g. `GET /shared/x`. */
  requests: string[];
  /** The most requests that were in flight at once. */
  maxInFlight: number;
  /** Stops the server. */
  close(): Promise<void>;
}

/**
 * Starts a server.
 *
 * @param options Folders, extra files and hooks.
 * @returns The running server.
 */
export function serveFolders(options: ServeOptions): TestServer {
  let inFlight = 0;
  const state: TestServer = {
    origin: "",
    requests: [],
    maxInFlight: 0,
    close: async () => {},
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, inFlight);
      try {
        const path = decodeURIComponent(new URL(req.url).pathname);
        state.requests.push(`${req.method} ${path}`);
        if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
        const hooked = await options.hook?.(path, req);
        if (hooked !== undefined) return hooked;
        const bytes = await lookup(options, path);
        if (bytes === null) return new Response("not found", { status: 404 });
        return answer(req, bytes, options.ignoreRange ?? false);
      } finally {
        inFlight--;
      }
    },
  );
  state.origin = `http://127.0.0.1:${server.addr.port}`;
  state.close = () => server.shutdown();
  return state;
}

async function lookup(options: ServeOptions, path: string): Promise<Uint8Array | null> {
  const extra = options.files?.[path];
  if (extra !== undefined) {
    return typeof extra === "string" ? new TextEncoder().encode(extra) : extra;
  }
  const segments = path.split("/");
  if (segments.includes("..") || path.includes("\0")) return null;
  for (const [prefix, folder] of Object.entries(options.folders)) {
    if (!path.startsWith(prefix)) continue;
    try {
      return await Deno.readFile(`${folder}/${path.slice(prefix.length)}`);
    } catch {
      return null; // missing, or a folder
    }
  }
  return null;
}

function answer(req: Request, bytes: Uint8Array, ignoreRange: boolean): Response {
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.get("range") ?? "");
  let status = 200;
  let body = bytes;
  const headers: Record<string, string> = {};
  if (range && !ignoreRange) {
    const start = Number(range[1]);
    const end = range[2] === "" ? bytes.length - 1 : Math.min(Number(range[2]), bytes.length - 1);
    if (start >= bytes.length) {
      return new Response(null, {
        status: 416,
        headers: { "content-range": `bytes */${bytes.length}` },
      });
    }
    status = 206;
    body = bytes.subarray(start, end + 1);
    headers["content-range"] = `bytes ${start}-${end}/${bytes.length}`;
  }
  headers["content-length"] = String(body.length);
  return new Response(req.method === "HEAD" ? null : body.slice(), { status, headers });
}
