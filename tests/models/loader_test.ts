import assert from "node:assert/strict";
import { tinyVitDescriptor } from "../fixtures/models.ts";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { BackboneDescriptor } from "../../models/descriptor.ts";
import { ModelLoadError } from "../../errors/mod.ts";
import { loadModelFile } from "../../models/loader.ts";
import { buildTinyVitGraph } from "../fixtures/tiny_vit_graph.ts";

const MODEL = new Uint8Array(buildTinyVitGraph({ seed: 7 }));
const MODEL_SHA256 = createHash("sha256").update(MODEL).digest("hex");
const WRONG = MODEL.slice();
WRONG[WRONG.length - 1] ^= 0xff;

/** Waits until the signal aborts; no timer, so nothing leaks. */
function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Streams `body` in chunks, optionally stopping early or hanging. */
function stream(
  body: Uint8Array,
  options: { stopAt?: number; hangAt?: number; stop?: AbortSignal } = {},
) {
  const chunk = 16 * 1024;
  let offset = 0;
  let hang: (() => void) | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (options.hangAt !== undefined && offset >= options.hangAt) {
        await Promise.race([
          new Promise<void>((resolve) => (hang = resolve)),
          untilAborted(options.stop!),
        ]);
        return;
      }
      const end = Math.min(body.length, offset + chunk, options.stopAt ?? Infinity);
      if (offset >= end) return c.close();
      c.enqueue(body.slice(offset, end));
      offset = end;
    },
    cancel() {
      hang?.();
    },
  });
}

/** A real HTTP server on 127.0.0.1 that misbehaves on purpose, by path. */
function startServer() {
  const hits = new Map<string, number>();
  const authorization = new Map<string, string | null>();
  let flaky = 0;
  const stop = new AbortController(); // ends the handlers that hang on purpose
  const length = { "content-length": String(MODEL.length) };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      authorization.set(path, req.headers.get("authorization"));
      switch (path) {
        case "/model.onnx":
        case "/acme/tiny-vit/resolve/main/onnx/model.onnx":
        case "/acme/tiny-vit/resolve/v2/onnx/model.onnx":
          return new Response(MODEL, { headers: length });
        case "/slow.onnx":
          await sleep(100);
          return new Response(MODEL, { headers: length });
        case "/chunked.onnx":
          return new Response(stream(MODEL));
        case "/wrong.onnx":
          return new Response(WRONG, { headers: length });
        case "/truncated.onnx":
          return new Response(stream(MODEL, { stopAt: 40_000 }), { headers: length });
        case "/stall-headers.onnx":
          await untilAborted(stop.signal);
          return new Response(null, { status: 499 });
        case "/stall-body.onnx":
          return new Response(stream(MODEL, { hangAt: 32 * 1024, stop: stop.signal }), {
            headers: length,
          });
        case "/flaky.onnx":
          return ++flaky === 1
            ? new Response("try later", { status: 503, statusText: "Service Unavailable" })
            : new Response(MODEL, { headers: length });
        default:
          return new Response("no such file", { status: 404 });
      }
    },
  );
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    hits: (path: string) => hits.get(path) ?? 0,
    /** The Authorization header of the last request for `path`. */
    authorization: (path: string) => authorization.get(path),
    close: () => {
      stop.abort();
      return server.shutdown();
    },
  };
}

function descriptor(url: string, extra: Partial<BackboneDescriptor> = {}): BackboneDescriptor {
  return tinyVitDescriptor("tiny-vit", url, extra);
}

/** Every file under `dir`, relative to it. */
async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(join(dir, prefix))) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory) out.push(...await listFiles(dir, rel));
      else out.push(rel);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

const noNetwork = (() => {
  throw new Error("the network must not be used");
}) as typeof fetch;

Deno.test("loadModelFile() downloads, verifies and caches, then serves the cache with no network", async () => {
  const server = startServer();
  const cacheDir = await Deno.makeTempDir();
  try {
    const d = descriptor(`${server.base}/model.onnx`, {
      sha256: MODEL_SHA256.toUpperCase(),
      bytes: MODEL.length,
    });
    const path = await loadModelFile(d, { cacheDir });
    assert.equal(path, join(cacheDir, MODEL_SHA256, "model.onnx"));
    assert.deepEqual(await Deno.readFile(path), MODEL);
    const sidecar = JSON.parse(await Deno.readTextFile(`${path}.json`));
    assert.equal(sidecar.url, d.url);
    assert.equal(sidecar.sha256, MODEL_SHA256);
    assert.equal(sidecar.bytes, MODEL.length);
    assert.ok(!Number.isNaN(Date.parse(sidecar.fetched_at)));
    assert.deepEqual(await listFiles(cacheDir), [
      `${MODEL_SHA256}/model.onnx`,
      `${MODEL_SHA256}/model.onnx.json`,
    ]);
    assert.equal(server.hits("/model.onnx"), 1);

    await server.close();
    assert.equal(await loadModelFile(d, { cacheDir, fetch: noNetwork }), path);
    assert.equal(await loadModelFile(d, { cacheDir, offline: true, fetch: noNetwork }), path);
  } finally {
    await server.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("loadModelFile() without a sha256 caches by URL and re-downloads a damaged entry", async () => {
  const server = startServer();
  const cacheDir = await Deno.makeTempDir();
  try {
    const d = descriptor(`${server.base}/model.onnx`);
    const path = await loadModelFile(d, { cacheDir });
    const urlKey = createHash("sha256").update(d.url).digest("hex");
    assert.equal(path, join(cacheDir, urlKey, "model.onnx"));
    assert.equal(JSON.parse(await Deno.readTextFile(`${path}.json`)).sha256, MODEL_SHA256);
    assert.equal(await loadModelFile(d, { cacheDir }), path);
    assert.equal(server.hits("/model.onnx"), 1);

    await Deno.writeFile(path, MODEL.subarray(0, 100)); // size no longer matches the sidecar
    assert.equal(await loadModelFile(d, { cacheDir }), path);
    assert.equal(server.hits("/model.onnx"), 2);
    assert.deepEqual(await Deno.readFile(path), MODEL);
  } finally {
    await server.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("loadModelFile() does not cache a download that nothing proves whole", async () => {
  // A chunked body without a pinned sha256 or size looks the same whole or cut
  // short: the load that fetched it uses it, and every later load fetches it again.
  const server = startServer();
  const cacheDir = await Deno.makeTempDir();
  try {
    const d = descriptor(`${server.base}/chunked.onnx`);
    const path = await loadModelFile(d, { cacheDir });
    assert.deepEqual(await Deno.readFile(path), MODEL);
    await assert.rejects(() => Deno.stat(`${path}.json`), Deno.errors.NotFound);
    assert.equal(await loadModelFile(d, { cacheDir }), path);
    assert.equal(server.hits("/chunked.onnx"), 2);
    const pinned = descriptor(`${server.base}/chunked.onnx`, { sha256: MODEL_SHA256 });
    const verified = await loadModelFile(pinned, { cacheDir });
    assert.equal(JSON.parse(await Deno.readTextFile(`${verified}.json`)).sha256, MODEL_SHA256);
  } finally {
    await server.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("loadModelFile() in offline mode names MODEL_OFFLINE when the cache is empty", async () => {
  const cacheDir = await Deno.makeTempDir();
  try {
    const d = descriptor("https://example.com/model.onnx", { sha256: MODEL_SHA256 });
    await assert.rejects(
      loadModelFile(d, { cacheDir, offline: true, fetch: noNetwork }),
      (e) => {
        assert.ok(e instanceof ModelLoadError);
        assert.match(e.message, /^Cannot load model `tiny-vit`: .*MODEL_OFFLINE/);
        return true;
      },
    );
    assert.deepEqual(await listFiles(cacheDir), []);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("loadModelFile() fails clearly and leaves no file behind", async (t) => {
  const server = startServer();
  const cases: {
    name: string;
    path: string;
    extra?: Partial<BackboneDescriptor>;
    options?: { maxBytes?: number; timeoutMs?: number };
    error: RegExp;
    check?: (e: ModelLoadError) => void;
  }[] = [
    {
      name: "HTTP 404",
      path: "/missing.onnx",
      error:
        /^Cannot load model `tiny-vit`: not found \(HTTP 404\) at http:\/\/127\.0\.0\.1:\d+\/missing\.onnx$/,
    },
    {
      name: "HTTP 503",
      path: "/flaky.onnx",
      error: /HTTP 503 Service Unavailable from http:\/\/127\.0\.0\.1:\d+\/flaky\.onnx/,
    },
    {
      name: "truncated body (Content-Length larger than the body)",
      path: "/truncated.onnx",
      error: /download from .*truncated\.onnx is truncated: got 40000 of \d+ bytes/,
    },
    {
      name: "wrong bytes",
      path: "/wrong.onnx",
      extra: { sha256: MODEL_SHA256 },
      error: /sha256 mismatch/,
      check: (e) => {
        const details = e.details as { expected: string; actual: string };
        assert.equal(details.expected, MODEL_SHA256);
        assert.equal(details.actual, createHash("sha256").update(WRONG).digest("hex"));
      },
    },
    {
      name: "headers slower than timeoutMs",
      path: "/stall-headers.onnx",
      options: { timeoutMs: 150 },
      error: /timed out after 150 ms waiting for a response/,
    },
    {
      name: "body stalls longer than timeoutMs",
      path: "/stall-body.onnx",
      options: { timeoutMs: 150 },
      error: /timed out after 150 ms waiting for more data/,
    },
    {
      name: "Content-Length over maxBytes",
      path: "/model.onnx",
      options: { maxBytes: 1000 },
      error: /announces \d+ bytes, over the limit of 1000 bytes/,
    },
    {
      name: "chunked body over maxBytes",
      path: "/chunked.onnx",
      options: { maxBytes: 20_000 },
      error: /sent more than the limit of 20000 bytes/,
    },
    {
      name: "Content-Length disagrees with the descriptor's bytes",
      path: "/model.onnx",
      extra: { bytes: MODEL.length + 1 },
      error: /size mismatch: expected \d+ bytes, .* announces \d+/,
    },
    {
      name: "chunked body longer than the descriptor's bytes",
      path: "/chunked.onnx",
      extra: { bytes: 1000 },
      error: /size mismatch: expected 1000 bytes/,
    },
  ];
  try {
    for (const c of cases) {
      await t.step(c.name, async () => {
        const cacheDir = await Deno.makeTempDir();
        try {
          const d = descriptor(`${server.base}${c.path}`, c.extra);
          await assert.rejects(loadModelFile(d, { cacheDir, ...c.options }), (e) => {
            assert.ok(e instanceof ModelLoadError, String(e));
            assert.match(e.message, c.error);
            c.check?.(e);
            return true;
          });
          assert.deepEqual(await listFiles(cacheDir), []);
        } finally {
          await Deno.remove(cacheDir, { recursive: true });
        }
      });
    }
  } finally {
    await server.close();
  }
});

Deno.test("loadModelFile() retries after a failure", async () => {
  const server = startServer();
  const cacheDir = await Deno.makeTempDir();
  try {
    const d = descriptor(`${server.base}/flaky.onnx`, { sha256: MODEL_SHA256 });
    await assert.rejects(loadModelFile(d, { cacheDir }), /HTTP 503/);
    const path = await loadModelFile(d, { cacheDir });
    assert.deepEqual(await Deno.readFile(path), MODEL);
    assert.equal(server.hits("/flaky.onnx"), 2);
  } finally {
    await server.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("loadModelFile() shares one download between concurrent loads", async () => {
  const server = startServer();
  const cacheDir = await Deno.makeTempDir();
  try {
    const d = descriptor(`${server.base}/slow.onnx`, { sha256: MODEL_SHA256 });
    const paths = await Promise.all(
      Array.from({ length: 5 }, () => loadModelFile(d, { cacheDir })),
    );
    assert.equal(new Set(paths).size, 1);
    assert.equal(server.hits("/slow.onnx"), 1);
    assert.deepEqual(await Deno.readFile(paths[0]), MODEL);
  } finally {
    await server.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("loadModelFile() resolves hf:// URLs against hfEndpoint", async (t) => {
  const server = startServer();
  const cacheDir = await Deno.makeTempDir();
  try {
    await t.step("default revision main", async () => {
      const d = descriptor("hf://acme/tiny-vit/onnx/model.onnx", { sha256: MODEL_SHA256 });
      const path = await loadModelFile(d, { cacheDir, hfEndpoint: `${server.base}/` });
      assert.deepEqual(await Deno.readFile(path), MODEL);
      assert.equal(server.hits("/acme/tiny-vit/resolve/main/onnx/model.onnx"), 1);
      const sidecar = JSON.parse(await Deno.readTextFile(`${path}.json`));
      assert.equal(sidecar.url, d.url);
      assert.equal(
        sidecar.resolved_url,
        `${server.base}/acme/tiny-vit/resolve/main/onnx/model.onnx`,
      );
    });
    await t.step("pinned revision", async () => {
      const d = descriptor("hf://acme/tiny-vit@v2/onnx/model.onnx");
      const path = await loadModelFile(d, { cacheDir, hfEndpoint: server.base });
      assert.deepEqual(await Deno.readFile(path), MODEL);
      assert.equal(server.hits("/acme/tiny-vit/resolve/v2/onnx/model.onnx"), 1);
    });
    await t.step("HF_TOKEN goes to the hub as a bearer token, and to no other host", async () => {
      const dir = await Deno.makeTempDir();
      try {
        const hub = descriptor("hf://acme/tiny-vit@v2/onnx/model.onnx", { sha256: MODEL_SHA256 });
        await loadModelFile(hub, { cacheDir: dir, hfEndpoint: server.base, hfToken: "hf_secret" });
        assert.equal(
          server.authorization("/acme/tiny-vit/resolve/v2/onnx/model.onnx"),
          "Bearer hf_secret",
        );
        const other = descriptor(`${server.base}/model.onnx`);
        await loadModelFile(other, { cacheDir: dir, hfToken: "hf_secret" });
        assert.equal(server.authorization("/model.onnx"), null);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
    await t.step("missing file in the repo", async () => {
      const d = descriptor("hf://acme/tiny-vit/onnx/model_fp16.onnx");
      // The error names the model's own URL: the endpoint it resolves to stays in the server.
      await assert.rejects(loadModelFile(d, { cacheDir, hfEndpoint: server.base }), (e) => {
        assert.match(
          (e as Error).message,
          /not found \(HTTP 404\) at hf:\/\/acme\/tiny-vit\/onnx\/model_fp16\.onnx/,
        );
        assert.doesNotMatch(
          JSON.stringify([(e as Error).message, (e as ModelLoadError).details]),
          /127\.0\.0\.1/,
        );
        return true;
      });
    });
    await t.step("plain http to a non-loopback endpoint is refused", async () => {
      const d = descriptor("hf://acme/tiny-vit/onnx/model.onnx");
      await assert.rejects(
        loadModelFile(d, { cacheDir, hfEndpoint: "http://hub.example.com", fetch: noNetwork }),
        /plain http is allowed for loopback hosts only/,
      );
    });
  } finally {
    await server.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("loadModelFile() removes partial files left by a killed download", async () => {
  const server = startServer();
  const cacheDir = await Deno.makeTempDir();
  try {
    const dir = join(cacheDir, MODEL_SHA256);
    await Deno.mkdir(dir, { recursive: true });
    const stale = join(dir, "model.onnx.partial-0123456789ab");
    await Deno.writeFile(stale, MODEL.subarray(0, 10));
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await Deno.utime(stale, twoHoursAgo, twoHoursAgo);
    const d = descriptor(`${server.base}/model.onnx`, { sha256: MODEL_SHA256 });
    await loadModelFile(d, { cacheDir });
    assert.deepEqual(await listFiles(cacheDir), [
      `${MODEL_SHA256}/model.onnx`,
      `${MODEL_SHA256}/model.onnx.json`,
    ]);
  } finally {
    await server.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("loadModelFile() uses local files in place", async (t) => {
  const dir = await Deno.makeTempDir();
  const cacheDir = join(dir, "cache");
  const file = join(dir, "tiny vit.onnx");
  await Deno.writeFile(file, MODEL);
  const options = { cacheDir, offline: true, fetch: noNetwork };
  try {
    await t.step("plain path", async () => {
      assert.equal(await loadModelFile(descriptor(file), options), file);
    });
    await t.step("file:// URL with a checked sha256 and size", async () => {
      const url = new URL(`file://${file}`).href;
      const d = descriptor(url, { sha256: MODEL_SHA256, bytes: MODEL.length });
      assert.equal(await loadModelFile(d, options), file);
      assert.equal(await loadModelFile(d, options), file); // verified once, remembered
    });
    await t.step("sha256 mismatch", async () => {
      const d = descriptor(file, { sha256: "ab".repeat(32) });
      await assert.rejects(loadModelFile(d, options), (e) => {
        assert.ok(e instanceof ModelLoadError);
        assert.match(e.message, /^Cannot load model `tiny-vit`: sha256 mismatch/);
        assert.deepEqual(e.details, {
          url: file,
          expected: "ab".repeat(32),
          actual: MODEL_SHA256,
        });
        return true;
      });
    });
    await t.step("a changed file is hashed again", async () => {
      const d = descriptor(file, { sha256: MODEL_SHA256 });
      assert.equal(await loadModelFile(d, options), file);
      await Deno.writeFile(file, WRONG);
      const later = new Date(Date.now() + 5000);
      await Deno.utime(file, later, later);
      await assert.rejects(loadModelFile(d, options), /sha256 mismatch/);
      await Deno.writeFile(file, MODEL);
    });
    await t.step("size mismatch", async () => {
      await assert.rejects(
        loadModelFile(descriptor(file, { bytes: 5 }), options),
        /size mismatch: expected 5 bytes/,
      );
    });
    await t.step("missing file", async () => {
      await assert.rejects(
        loadModelFile(descriptor(join(dir, "nope.onnx")), options),
        /file not found: .*nope\.onnx/,
      );
    });
    await t.step("embedded models have no file", async () => {
      await assert.rejects(loadModelFile(descriptor("embedded:dsift"), options), TypeError);
    });
    assert.deepEqual(await listFiles(cacheDir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadModelFile() detects a short body even when the transport does not", async () => {
  const cacheDir = await Deno.makeTempDir();
  try {
    const short = (() =>
      Promise.resolve(
        new Response(MODEL.slice(0, 500), { headers: { "content-length": "1000" } }),
      )) as typeof fetch;
    await assert.rejects(
      loadModelFile(descriptor("https://example.com/m.onnx"), { cacheDir, fetch: short }),
      /is truncated: got 500 of 1000 bytes/,
    );
    assert.deepEqual(await listFiles(cacheDir), []);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("loadModelFile() reports a cache directory it cannot create", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cacheDir = join(dir, "cache");
    await Deno.writeTextFile(cacheDir, "a file where the cache directory should be");
    await assert.rejects(
      loadModelFile(descriptor("https://example.com/m.onnx"), { cacheDir, fetch: noNetwork }),
      (e) => {
        assert.ok(e instanceof ModelLoadError);
        assert.match(
          e.message,
          /^Cannot load model `tiny-vit`: cannot create the cache directory /,
        );
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
