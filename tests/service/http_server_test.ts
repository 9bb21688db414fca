import assert from "node:assert/strict";
import { HttpServer, type HttpServerOptions } from "../../service/http_server.ts";
import { raiseFdLimit } from "../../service/fd_limit.ts";
import { startChildService } from "./_child_service.ts";

const OPTIONS: HttpServerOptions = {
  hostname: "127.0.0.1",
  port: 0,
  maxConnections: 4,
  headerTimeoutMs: 400,
  bodyTimeoutMs: 400,
  idleTimeoutMs: 300,
};

const encoder = new TextEncoder();

/** Resolves with the ms until the peer closes `conn` (reading and dropping what comes). */
async function closedAfter(conn: Deno.Conn): Promise<number> {
  const t0 = performance.now();
  const buf = new Uint8Array(4096);
  try {
    while ((await conn.read(buf)) !== null) { /* drain */ }
  } catch {
    // reset by the peer: closed too
  }
  try {
    conn.close();
  } catch {
    // already closed
  }
  return performance.now() - t0;
}

async function withServer(
  handler: (req: Request) => Response | Promise<Response>,
  options: Partial<HttpServerOptions>,
  fn: (server: HttpServer, port: number) => Promise<void>,
): Promise<void> {
  const server = HttpServer.listen(handler, { ...OPTIONS, ...options });
  try {
    await fn(server, server.addr.port);
  } finally {
    await server.shutdown(100);
  }
}

Deno.test("HttpServer cuts connections that send no headers, dribble a body or idle", async (t) => {
  await withServer(
    async (req) => new Response(`read ${(await req.text()).length}`),
    {},
    async (_s, port) => {
      await t.step("no request headers: closed after the header timeout", async () => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        const ms = await closedAfter(conn);
        assert.ok(ms >= 300 && ms < 2000, `closed after ${ms} ms`);
      });
      await t.step("a dribbled body: cut after the body timeout", async () => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        await conn.write(
          encoder.encode("POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\nab"),
        );
        const ms = await closedAfter(conn);
        assert.ok(ms >= 300 && ms < 2000, `cut after ${ms} ms`);
      });
      await t.step("a kept-alive connection: closed after the idle timeout", async () => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        await conn.write(encoder.encode("GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
        const buf = new Uint8Array(4096);
        const n = await conn.read(buf);
        assert.match(new TextDecoder().decode(buf.subarray(0, n ?? 0)), /^HTTP\/1.1 200/);
        const ms = await closedAfter(conn);
        assert.ok(ms >= 200 && ms < 2000, `closed after ${ms} ms`);
      });
    },
  );
});

Deno.test("HttpServer aborts a request's signal when its client goes away", async () => {
  let aborted: (ms: number) => void;
  const abortedAfter = new Promise<number>((r) => (aborted = r));
  await withServer(
    (req) => {
      const t0 = performance.now();
      return new Promise<Response>((resolve) => {
        req.signal.addEventListener("abort", () => {
          aborted(performance.now() - t0);
          resolve(new Response("gone"));
        });
      });
    },
    { idleTimeoutMs: 10_000 },
    async (_s, port) => {
      const client = new AbortController();
      const request = fetch(`http://127.0.0.1:${port}/`, { signal: client.signal }).catch(() =>
        null
      );
      await new Promise((r) => setTimeout(r, 200));
      const t0 = performance.now();
      client.abort();
      await abortedAfter;
      assert.ok(performance.now() - t0 < 1000);
      await request;
    },
  );
});

Deno.test("HttpServer over its connection cap closes the oldest idle connection, or answers 503", async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  await withServer(
    async (req) => {
      if (new URL(req.url).pathname === "/hold") await gate;
      return new Response("ok");
    },
    { maxConnections: 2, headerTimeoutMs: 10_000, idleTimeoutMs: 10_000 },
    async (server, port) => {
      const idle = await Deno.connect({ hostname: "127.0.0.1", port });
      await new Promise((r) => setTimeout(r, 100));
      const busy = fetch(`http://127.0.0.1:${port}/hold`);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(server.connections, 2);
      await t.step("a new connection displaces the idle one", async () => {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        assert.equal(await res.text(), "ok");
        assert.ok(await closedAfter(idle) < 1000);
      });
      await t.step("with every connection busy, a new one gets 503 overloaded", async () => {
        const second = fetch(`http://127.0.0.1:${port}/hold`);
        await new Promise((r) => setTimeout(r, 100));
        const res = await fetch(`http://127.0.0.1:${port}/`);
        assert.equal(res.status, 503);
        assert.equal(res.headers.get("retry-after"), "1");
        assert.equal((await res.json()).error.code, "overloaded");
        release();
        assert.equal(await (await second).text(), "ok");
      });
      assert.equal(await (await busy).text(), "ok");
    },
  );
});

Deno.test("HttpServer.shutdown() lets requests finish within the drain time and cuts the rest", async (t) => {
  const server = HttpServer.listen(async (req) => {
    const ms = Number(new URL(req.url).searchParams.get("ms"));
    await new Promise((r) => setTimeout(r, ms));
    return new Response(`slept ${ms}`);
  }, { ...OPTIONS, idleTimeoutMs: 10_000 });
  const port = server.addr.port;
  const quick = fetch(`http://127.0.0.1:${port}/?ms=200`).then((r) => r.text());
  const slow = fetch(`http://127.0.0.1:${port}/?ms=60000`).then((r) => r.text(), () => "cut");
  await new Promise((r) => setTimeout(r, 100));
  const t0 = performance.now();
  const report = await server.shutdown(1000);
  const ms = performance.now() - t0;
  await t.step("the quick request finished, the slow one was cut at the drain time", async () => {
    assert.deepEqual(report, { finished: 1, cut: 1 });
    assert.ok(ms >= 900 && ms < 3000, `drained in ${ms} ms`);
    assert.equal(await quick, "slept 200");
    assert.equal(await slow, "cut");
  });
  await t.step("no new connection is accepted", async () => {
    await assert.rejects(() => Deno.connect({ hostname: "127.0.0.1", port }));
  });
});

Deno.test("the service survives 1,100 idle connections under a 1,024 descriptor limit and drains on SIGTERM", async (t) => {
  const own = (await raiseFdLimit()).limit;
  if (own && own.soft < 1400) {
    console.log(`skipped: this test process may open only ${own.soft} files, it needs 1400`);
    return;
  }
  const child = await startChildService({
    env: { WORKERS: "1", DRAIN_MS: "2000", RATE_LIMIT: "0", KV_PATH: ":memory:" },
    fdLimit: { soft: 1024, hard: 1024 },
  });
  const conns: Deno.Conn[] = [];
  try {
    // Ready first: this is about idle connections, not about loading a model under a flood.
    const url = await child.ready();
    const port = Number(new URL(url).port);
    await t.step("1,100 idle connections: the process lives and /healthz answers 200", async () => {
      for (let i = 0; i < 1100; i++) {
        conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      }
      const res = await fetch(`${url}/healthz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: "ok" });
    });
    await t.step(
      "SIGTERM with a client dribbling a body: exits 0 within the drain time",
      async () => {
        const dribbler = await Deno.connect({ hostname: "127.0.0.1", port });
        await dribbler.write(
          encoder.encode(
            "POST /v1/match HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{",
          ),
        );
        const timer = setInterval(() => dribbler.write(encoder.encode(" ")).catch(() => {}), 100);
        try {
          await new Promise((r) => setTimeout(r, 300));
          const t0 = performance.now();
          const status = await child.kill("SIGTERM");
          const ms = performance.now() - t0;
          assert.equal(status.code, 0);
          assert.ok(ms < 2000 + 1500, `exited after ${ms} ms`);
          await child.exited;
          assert.match(child.stdout, /SIGTERM: draining for up to 2000 ms/);
        } finally {
          clearInterval(timer);
          try {
            dribbler.close();
          } catch {
            // closed by the server
          }
        }
      },
    );
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // closed by the server
      }
    }
    await child.close();
  }
});

Deno.test("under deno task start's permissions (no --allow-all) the open-file limit is read and raised", async () => {
  const hard = (await raiseFdLimit()).limit?.hard ?? 0;
  if (hard <= 1024) {
    console.log(`skipped: the hard open-file limit here is ${hard}, nothing to raise from 1024`);
    return;
  }
  const child = await startChildService({
    env: { WORKERS: "1", KV_PATH: ":memory:", ACCESS_LOG: "0" },
    fdLimit: { soft: 1024 },
  });
  let out: string;
  try {
    out = (await child.waitFor(/^.*\n/))[0];
  } finally {
    await child.close();
  }
  assert.match(out, /^Listening on /);
  const limit = hard === Infinity ? "Infinity" : String(hard);
  assert.ok(out.includes(`(open-file limit ${limit})`), out);
});
