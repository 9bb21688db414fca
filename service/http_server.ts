/**
 * The HTTP server: HTTP/1.1 over connections this module accepts itself, so
 * that no client behaviour can take the process down or keep it from
 * stopping.
 *
 * - **Descriptors.** Accepting is a loop of our own: when the OS runs out of
 *   descriptors (`EMFILE`), the oldest idle connections are closed and
 *   accepting resumes, where `Deno.serve` would end the process. Beyond
 *   `maxConnections`, a new connection first displaces the oldest idle one;
 *   when every connection is busy it is answered `503` and closed.
 * - **Timeouts.** A connection must deliver its first request's headers
 *   within `headerTimeoutMs`, a request body within `bodyTimeoutMs` (else the
 *   connection is cut), and a kept-alive connection is closed after
 *   `idleTimeoutMs` without a request.
 * - **Disconnects.** When a client goes away while its request runs, the
 *   request's `signal` aborts, so long work can stop and free the workers.
 * - **Drain.** {@linkcode HttpServer.shutdown} stops accepting, closes idle
 *   connections, waits for requests in flight up to the drain time, then
 *   cuts what is left (aborting those requests).
 *
 * It serves each connection with `Deno.serveHttp` (hyper underneath, as
 * `Deno.serve`): the one runtime API that serves HTTP on a connection
 * accepted by the program itself, and reports a client's disconnect as the
 * end of the connection's request stream. Deno 2 keeps it at run time but
 * no longer declares its types, so they are declared here; the project pins
 * Deno 2.9.6 and `tests/service/http_server_test.ts` fails loudly if it goes.
 *
 * @example Usage
 * ```ts
 * import { HttpServer } from "./http_server.ts";
 * import assert from "node:assert/strict";
 *
 * const server = HttpServer.listen(() => new Response("ok"), {
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   maxConnections: 8,
 *   headerTimeoutMs: 1000,
 *   bodyTimeoutMs: 1000,
 *   idleTimeoutMs: 1000,
 * });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * assert.equal(await res.text(), "ok");
 * const { cut } = await server.shutdown(1000);
 * assert.equal(cut, 0);
 * ```
 *
 * @module
 */

/** One request on a connection served by `Deno.serveHttp`. */
interface RequestEvent {
  readonly request: Request;
  respondWith(response: Response | PromiseLike<Response>): Promise<void>;
}

/** A connection served by `Deno.serveHttp`. */
interface HttpConn {
  /** The next request, or null once the connection has ended. */
  nextRequest(): Promise<RequestEvent | null>;
  close(): void;
}

const serveHttp = (Deno as unknown as { serveHttp(conn: Deno.Conn): HttpConn }).serveHttp;

/** Limits and timeouts of an {@linkcode HttpServer}. */
export interface HttpServerOptions {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  /** Most connections open at once. */
  maxConnections: number;
  /** Longest wait for a new connection's first request headers. */
  headerTimeoutMs: number;
  /** Longest a request body may take to arrive. */
  bodyTimeoutMs: number;
  /** Longest a kept-alive connection may wait for its next request. */
  idleTimeoutMs: number;
  /** Called with problems the server survived (out of descriptors, refused connections). */
  onWarning?: (message: string) => void;
}

/** What a handler learns about the connection (as `Deno.serve` gives it). */
export interface ConnInfo {
  remoteAddr: Deno.NetAddr;
}

/** Answers one request; its `signal` aborts when the client goes away. */
export type Handler = (request: Request, info: ConnInfo) => Response | Promise<Response>;

/** What {@linkcode HttpServer.shutdown} found. */
export interface ShutdownReport {
  /** Requests that finished within the drain time. */
  finished: number;
  /** Connections cut at the end of the drain (their requests aborted). */
  cut: number;
}

interface Connection {
  http: HttpConn;
  remoteAddr: Deno.NetAddr;
  /** A request is running on it. */
  busy: boolean;
  /** When it last became idle (ms, monotonic). */
  idleSince: number;
  /** Aborts the running request. */
  abort?: AbortController;
  closed: boolean;
}

const TIMED_OUT = Symbol("timed out");

const OVERLOADED_BODY = JSON.stringify({
  error: { code: "overloaded", message: "Cannot accept the connection: every connection is busy" },
  request_id: null,
});
const OVERLOADED = new TextEncoder().encode(
  "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n" +
    `connection: close\r\ncontent-length: ${OVERLOADED_BODY.length}\r\n\r\n${OVERLOADED_BODY}`,
);

function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A listening server. */
export class HttpServer {
  #listener: Deno.TcpListener;
  #handler: Handler;
  #options: HttpServerOptions;
  #connections = new Set<Connection>();
  #draining = false;
  #finishedInDrain = 0;
  #idleWaiters = new Set<() => void>();
  #lastWarning = 0;

  private constructor(handler: Handler, options: HttpServerOptions) {
    this.#handler = handler;
    this.#options = options;
    this.#listener = Deno.listen({ hostname: options.hostname, port: options.port });
    this.#acceptLoop();
  }

  /**
   * Starts listening.
   *
   * @param handler Answers each request.
   * @param options Address, connection cap and timeouts.
   * @returns The server.
   * @throws {Deno.errors.AddrInUse} When the port is taken.
   */
  static listen(handler: Handler, options: HttpServerOptions): HttpServer {
    return new HttpServer(handler, options);
  }

  /** The address it listens on. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** Connections open now. */
  get connections(): number {
    return this.#connections.size;
  }

  /**
   * Stops accepting, closes idle connections, lets requests in flight finish
   * for at most `drainMs`, then cuts the rest.
   *
   * @param drainMs The drain time.
   * @returns How many requests finished and how many connections were cut.
   */
  async shutdown(drainMs: number): Promise<ShutdownReport> {
    this.#draining = true;
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    for (const c of this.#connections) if (!c.busy) this.#close(c);
    const deadline = Date.now() + drainMs;
    while ([...this.#connections].some((c) => c.busy) && Date.now() < deadline) {
      await within(new Promise<void>((r) => this.#idleWaiters.add(r)), deadline - Date.now());
    }
    let cut = 0;
    for (const c of this.#connections) {
      if (c.busy) cut++;
      this.#close(c);
    }
    return { finished: this.#finishedInDrain, cut };
  }

  #warn(message: string): void {
    // At most one line a second: an attack must not flood the log too.
    const now = Date.now();
    if (now - this.#lastWarning < 1000) return;
    this.#lastWarning = now;
    this.#options.onWarning?.(message);
  }

  /** Closes up to `n` idle connections, oldest first; returns how many. */
  #evictIdle(n: number): number {
    const idle = [...this.#connections].filter((c) => !c.busy)
      .sort((a, b) => a.idleSince - b.idleSince);
    for (const c of idle.slice(0, n)) this.#close(c);
    return Math.min(n, idle.length);
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#draining) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (this.#draining || e instanceof Deno.errors.BadResource) return;
        // Out of descriptors (EMFILE) or a transient accept failure: free
        // some, wait a moment, go on.
        const freed = this.#evictIdle(Math.max(1, Math.ceil(this.#connections.size / 10)));
        this.#warn(
          `Cannot accept a connection (${
            (e as Error).message
          }); closed ${freed} idle connection(s)`,
        );
        await new Promise((r) => setTimeout(r, freed > 0 ? 10 : 100));
        continue;
      }
      if (this.#draining) {
        conn.close();
        return;
      }
      if (this.#connections.size >= this.#options.maxConnections && this.#evictIdle(1) === 0) {
        this.#warn(`Refused a connection: all ${this.#connections.size} connections are busy`);
        conn.write(OVERLOADED).catch(() => {}).finally(() => {
          try {
            conn.close();
          } catch {
            // the client left first
          }
        });
        continue;
      }
      this.#serve(conn);
    }
  }

  #close(c: Connection): void {
    if (c.closed) return;
    c.closed = true;
    c.abort?.abort(new DOMException("The connection closed", "AbortError"));
    try {
      c.http.close();
    } catch {
      // already closed by the peer
    }
    this.#connections.delete(c);
    this.#notifyIdle();
  }

  #notifyIdle(): void {
    for (const w of this.#idleWaiters) w();
    this.#idleWaiters.clear();
  }

  async #serve(conn: Deno.TcpConn): Promise<void> {
    const c: Connection = {
      http: serveHttp(conn),
      remoteAddr: conn.remoteAddr,
      busy: false,
      idleSince: performance.now(),
      closed: false,
    };
    this.#connections.add(c);
    const { headerTimeoutMs, idleTimeoutMs } = this.#options;
    let next = c.http.nextRequest();
    let first = true;
    try {
      while (!c.closed && !this.#draining) {
        const event = await within(next, first ? headerTimeoutMs : idleTimeoutMs);
        if (event === TIMED_OUT || event === null) break;
        first = false;
        c.busy = true;
        c.abort = new AbortController();
        // Waiting for the next request while this one runs is how a
        // disconnect shows: the stream ends (null) and the request aborts.
        next = c.http.nextRequest();
        const abort = c.abort;
        next.then((e) => {
          if (e === null) abort.abort(new DOMException("The client went away", "AbortError"));
        }, () => abort.abort(new DOMException("The connection failed", "AbortError")));
        const ok = await this.#answer(c, event);
        c.busy = false;
        c.abort = undefined;
        c.idleSince = performance.now();
        if (this.#draining) this.#finishedInDrain++;
        this.#notifyIdle();
        if (!ok) break;
      }
    } catch {
      // The connection failed under us: nothing to answer.
    } finally {
      this.#close(c);
    }
  }

  /** Runs the handler for one request and sends its response; false when the connection is gone. */
  async #answer(c: Connection, event: RequestEvent): Promise<boolean> {
    const original = event.request;
    let bodyTimer: ReturnType<typeof setTimeout> | undefined;
    let body: ReadableStream<Uint8Array> | null = null;
    if (original.body) {
      // A body that has not arrived in time is cut with its connection.
      bodyTimer = setTimeout(() => this.#close(c), this.#options.bodyTimeoutMs);
      body = original.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          flush: () => clearTimeout(bodyTimer),
        }),
      );
    }
    const request = new Request(original.url, {
      method: original.method,
      headers: original.headers,
      body,
      signal: c.abort!.signal,
      // @ts-ignore: `duplex` is required for stream bodies but not yet in the lib types.
      duplex: "half",
    });
    try {
      let response: Response;
      try {
        response = await this.#handler(request, { remoteAddr: c.remoteAddr });
      } catch (e) {
        // The app maps its own errors; this is the last line of defence
        // (a request whose connection was cut under it fails as expected).
        if (c.closed) return false;
        console.error("The HTTP handler failed:", e);
        response = new Response(
          '{"error":{"code":"internal_error","message":"Internal error; it has been logged"},"request_id":null}',
          { status: 500, headers: { "content-type": "application/json" } },
        );
      }
      if (c.closed) return false;
      await event.respondWith(response);
      return !c.closed;
    } catch {
      return false;
    } finally {
      clearTimeout(bodyTimer);
    }
  }
}
