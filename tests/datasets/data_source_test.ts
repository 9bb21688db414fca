import assert from "node:assert/strict";
import { join } from "node:path";
import { openDataSource } from "../../datasets/data_source.ts";
import {
  DatasetMalformedError,
  DatasetNotFoundError,
  DatasetUnavailableError,
  DatasetUnsafePathError,
} from "../../errors/mod.ts";
import { PF_WILLOW_ROOT, SHARED_DATA, SPAIR_ROOT } from "./_data.ts";
import { serveFolders, type TestServer } from "./_http_server.ts";

const LAYOUT = "Layout/small/test.txt";
const PNG = "PF-dataset/car(G)/Cars_006a.png";
const ESCAPES = [
  "",
  "../x",
  "a/../../x",
  "a\\..\\x",
  "/etc/passwd",
  "\\\\server\\x",
  "C:\\x",
  "c:x",
  "a\0b",
];

/** Runs `fn` with a server on 127.0.0.1 serving the shared data under `/shared/`. */
async function withServer(
  options: Omit<Parameters<typeof serveFolders>[0], "folders">,
  fn: (server: TestServer, base: string) => Promise<void>,
): Promise<void> {
  const server = serveFolders({ folders: { "/shared/": SHARED_DATA }, ...options });
  try {
    await fn(server, `${server.origin}/shared`);
  } finally {
    await server.close();
  }
}

Deno.test("openDataSource() reads a local folder, bounded and checked", async (t) => {
  const source = openDataSource(SPAIR_ROOT);
  await t.step("text, JSON, existence", async () => {
    assert.equal(source.remote, false);
    assert.equal(source.root, SPAIR_ROOT);
    const text = await source.readText(LAYOUT, "layout");
    assert.equal(text, await Deno.readTextFile(join(SPAIR_ROOT, LAYOUT)));
    const id = text.split("\n")[0];
    const pair = await source.readJson(`PairAnnotation/test/${id}.json`, "pair") as {
      category: string;
    };
    assert.equal(pair.category, "aeroplane");
    assert.equal(await source.isFile(LAYOUT), true);
    assert.equal(await source.isFile("Layout/small/none.txt"), false);
    await assert.rejects(() => source.isFile("Layout"), DatasetMalformedError);
  });
  await t.step("listing", async () => {
    const names = (await source.listDir("ImageAnnotation", "images")).map((e) => e.name);
    assert.deepEqual(names, ["aeroplane", "bicycle"]);
    await assert.rejects(() => source.listDir("none", "folder"), DatasetNotFoundError);
  });
  await t.step("missing file, named by path", async () => {
    await assert.rejects(() => source.readBytes("Layout/none.txt", "layout"), (e: Error) => {
      assert.ok(e instanceof DatasetNotFoundError);
      assert.equal(e.path, "Layout/none.txt");
      assert.ok(!e.message.includes(SPAIR_ROOT), e.message);
      assert.match(e.message, /Cannot read layout .*none\.txt: no such file/);
      return true;
    });
  });
  await t.step("maxBytes", async () => {
    const small = openDataSource(PF_WILLOW_ROOT, { maxBytes: 1000 });
    await assert.rejects(() => small.readBytes(PNG, "image"), (e: Error) => {
      assert.ok(e instanceof DatasetMalformedError);
      assert.match(e.message, /Cars_006a\.png: it is \d+ bytes, more than the 1000-byte limit/);
      return true;
    });
  });
  await t.step("readHead", async () => {
    const pf = openDataSource(PF_WILLOW_ROOT);
    const head = await pf.readHead(PNG, 8);
    assert.deepEqual(Array.from(head!), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(await pf.readHead("PF-dataset/none.png", 8), null);
  });
  for (const bad of ESCAPES) {
    await t.step(`refuses ${JSON.stringify(bad)}`, async () => {
      await assert.rejects(() => source.readBytes(bad, "file"), DatasetUnsafePathError);
      assert.throws(() => source.locate(bad, "list.csv"), (e: Error) => {
        assert.ok(e instanceof DatasetUnsafePathError);
        assert.equal(e.path, "list.csv");
        return true;
      });
    });
  }
  await t.step("invalid options", () => {
    assert.throws(() => openDataSource(SPAIR_ROOT, { maxBytes: 0 }), RangeError);
    assert.throws(() => openDataSource(SPAIR_ROOT, { maxConcurrent: 1.5 }), RangeError);
    assert.throws(() => openDataSource("https://x.example", { timeoutMs: -1 }), RangeError);
  });
});

Deno.test("openDataSource() allows https:// and loopback http:// roots only", async (t) => {
  for (
    const ok of [
      "https://bucket.example.com/data",
      "http://127.0.0.1:8080/data/",
      "http://127.1/data",
      "http://localhost/data",
      "http://[::1]:9000/data",
    ]
  ) {
    await t.step(ok, () => assert.equal(openDataSource(ok).remote, true));
  }
  const refused: [string, RegExp][] = [
    ["http://example.com/data", /plain http:\/\/ is allowed only for loopback hosts/],
    ["http://10.0.0.1/data", /loopback/],
    ["http://127.0.0.1.example.com/data", /loopback/],
    ["ftp://example.com/data", /scheme ftp: is not supported/],
    ["s3://bucket/data", /scheme s3: is not supported/],
    ["https://user:secret@example.com/data", /credentials/],
    ["https://example.com/data?sig=1", /query or a fragment/],
    ["https://example.com/data#x", /query or a fragment/],
    ["https://exa mple.com/", /not a valid URL/],
  ];
  for (const [root, message] of refused) {
    await t.step(root, () => {
      assert.throws(() => openDataSource(root), (e: Error) => {
        assert.ok(e instanceof RangeError);
        assert.match(e.message, message);
        assert.ok(!e.message.includes("secret"));
        return true;
      });
    });
  }
});

Deno.test("openDataSource() fetches files under a base URL", async (t) => {
  await withServer({
    files: { "/shared/odd/a?b#c:d %.txt": "odd" },
    hook: (path, req) => {
      if (path === "/shared/boom") return new Response("no", { status: 500 });
      if (path === "/shared/gone") return new Response(null, { status: 410 });
      if (path.startsWith("/shared/nohead/") && req.method === "HEAD") {
        return new Response(null, { status: 405 });
      }
      if (path === "/shared/nohead/x.txt") return new Response("x");
      return undefined;
    },
  }, async (server, base) => {
    const spair = openDataSource(`${base}/spair-71k/SPair-71k`);
    const willow = openDataSource(`${base}/pf-willow/`);
    await t.step("text and bytes equal the local files", async () => {
      assert.equal(spair.remote, true);
      assert.equal(
        await spair.readText(LAYOUT, "layout"),
        await Deno.readTextFile(join(SPAIR_ROOT, LAYOUT)),
      );
      const bytes = await willow.readBytes(PNG, "image");
      assert.deepEqual(bytes, await Deno.readFile(join(PF_WILLOW_ROOT, PNG)));
      assert.equal(bytes.byteOffset, 0);
      assert.equal(bytes.buffer.byteLength, bytes.length);
    });
    await t.step("names with ?, #, : and % are encoded, not interpreted", async () => {
      const shared = openDataSource(base);
      // Errors name the file as given; the request found it under its encoded name.
      assert.equal(shared.locate("odd/a?b#c:d %.txt"), "odd/a?b#c:d %.txt");
      assert.equal(await shared.readText("odd/a?b#c:d %.txt", "file"), "odd");
    });
    await t.step("404 and 410 are DatasetNotFoundError naming the file, not the URL", async () => {
      await assert.rejects(() => spair.readText("Layout/large/trn.txt", "layout"), (e: Error) => {
        assert.ok(e instanceof DatasetNotFoundError);
        assert.equal(e.path, "Layout/large/trn.txt");
        assert.match(
          e.message,
          /Cannot read layout Layout\/large\/trn\.txt: no such file \(HTTP 404\)/,
        );
        assert.doesNotMatch(e.message, /http:|127\.0\.0\.1/);
        return true;
      });
      await assert.rejects(() => openDataSource(base).readBytes("gone", "x"), DatasetNotFoundError);
    });
    await t.step("other statuses are DatasetMalformedError", async () => {
      await assert.rejects(() => openDataSource(base).readBytes("boom", "file"), (e: Error) => {
        assert.ok(e instanceof DatasetMalformedError);
        assert.match(e.message, /file boom: HTTP 500/);
        return true;
      });
    });
    await t.step("isFile uses HEAD, or a one-byte GET where HEAD is refused", async () => {
      const before = server.requests.length;
      assert.equal(await spair.isFile(LAYOUT), true);
      assert.equal(await spair.isFile("Layout/large/trn.txt"), false);
      assert.deepEqual(server.requests.slice(before).map((r) => r.split(" ")[0]), ["HEAD", "HEAD"]);
      assert.equal(await openDataSource(base).isFile("nohead/x.txt"), true);
      await assert.rejects(() => openDataSource(base).isFile("boom"), DatasetMalformedError);
    });
    await t.step("readHead asks for a range", async () => {
      const head = await willow.readHead(PNG, 8);
      assert.deepEqual(Array.from(head!), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.equal(await willow.readHead("PF-dataset/none.png", 8), null);
    });
    await t.step("folders cannot be listed", async () => {
      await assert.rejects(() => willow.listDir("PF-dataset", "image folder"), (e: Error) => {
        assert.ok(e instanceof DatasetNotFoundError);
        assert.match(e.message, /cannot list folders/);
        return true;
      });
    });
    await t.step("paths that would leave the base never reach the server", async () => {
      const before = server.requests.length;
      for (const bad of [...ESCAPES, "%2e%2e/x", "a/%2E%2e/x", "%2e", "a/%2f/b", "a%5C..%5Cx"]) {
        assert.throws(() => willow.locate(bad, "list.csv"), DatasetUnsafePathError, bad);
        await assert.rejects(() => willow.readBytes(bad, "file"), DatasetUnsafePathError, bad);
        await assert.rejects(() => willow.isFile(bad), DatasetUnsafePathError, bad);
      }
      assert.equal(server.requests.length, before);
    });
  });
});

Deno.test("openDataSource() caps the bytes of each file from a URL", async (t) => {
  await withServer({
    hook: (path) => {
      if (path !== "/shared/stream") return undefined;
      // No Content-Length: the cap is checked while reading.
      let sent = 0;
      return new Response(
        new ReadableStream({
          pull(controller) {
            if (sent >= 10) return controller.close();
            sent++;
            controller.enqueue(new Uint8Array(1000));
          },
        }),
      );
    },
  }, async (_server, base) => {
    const source = openDataSource(base, { maxBytes: 2500 });
    await t.step("declared by Content-Length", async () => {
      await assert.rejects(() => source.readBytes(`pf-willow/${PNG}`, "image"), (e: Error) => {
        assert.ok(e instanceof DatasetMalformedError);
        assert.match(e.message, /it is \d+ bytes, more than the 2500-byte limit \(maxBytes\)/);
        return true;
      });
    });
    await t.step("streamed", async () => {
      await assert.rejects(() => source.readBytes("stream", "file"), (e: Error) => {
        assert.ok(e instanceof DatasetMalformedError);
        assert.match(e.message, /stream: it is larger than the 2500-byte limit/);
        return true;
      });
      assert.equal((await openDataSource(base).readBytes("stream", "file")).length, 10_000);
    });
    await t.step("readHead needs no cap", async () => {
      assert.equal((await source.readHead(`pf-willow/${PNG}`, 16))!.length, 16);
    });
  });
});

Deno.test("openDataSource() gives up on a slow server after timeoutMs", async (t) => {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  await withServer({
    hook: (path) => {
      // Answers only once the test is over.
      if (path === "/shared/no-headers") return released.then(() => new Response("late"));
      if (path === "/shared/stalled-body") {
        return new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new Uint8Array(10));
            },
          }),
        );
      }
      return undefined;
    },
  }, async (_server, base) => {
    try {
      const source = openDataSource(base, { timeoutMs: 150 });
      for (const path of ["no-headers", "stalled-body"]) {
        await t.step(path, async () => {
          const started = performance.now();
          await assert.rejects(() => source.readBytes(path, "file"), (e: Error) => {
            assert.ok(e instanceof DatasetUnavailableError);
            assert.equal(e.path, path);
            assert.match(e.message, /no complete answer within 150 ms$/);
            return true;
          });
          assert.ok(performance.now() - started < 2000);
        });
      }
    } finally {
      release();
    }
  });
});

Deno.test("openDataSource() keeps at most maxConcurrent requests in flight", async () => {
  await withServer({ delayMs: 15 }, async (server, base) => {
    const source = openDataSource(`${base}/spair-71k/SPair-71k`, { maxConcurrent: 3 });
    const ids = (await source.readText(LAYOUT, "layout")).trim().split("\n");
    const texts = await Promise.all(
      ids.map((id) => source.readText(`PairAnnotation/test/${id}.json`, "pair")),
    );
    assert.equal(texts.length, 33);
    assert.ok(server.maxInFlight <= 3, `max in flight ${server.maxInFlight}`);
    assert.ok(server.maxInFlight >= 2, `max in flight ${server.maxInFlight}`);
  });
});

Deno.test("openDataSource() follows redirects only to https:// or loopback", async (t) => {
  await withServer({
    hook: (path) => {
      const to = (location: string) => new Response(null, { status: 302, headers: { location } });
      if (path === "/shared/moved") return to("/shared/spair-71k/SPair-71k/Layout/small/test.txt");
      if (path === "/shared/away") return to("http://example.com/secret");
      if (path === "/shared/loop") return to("/shared/loop");
      return undefined;
    },
  }, async (server, base) => {
    const source = openDataSource(base);
    await t.step("same server", async () => {
      assert.match(await source.readText("moved", "file"), /aeroplane/);
    });
    await t.step("plain http elsewhere", async () => {
      await assert.rejects(() => source.readText("away", "file"), (e: Error) => {
        assert.ok(e instanceof DatasetMalformedError);
        assert.match(e.message, /redirected to a http: URL/);
        assert.doesNotMatch(e.message, /example\.com/);
        return true;
      });
    });
    await t.step("a loop", async () => {
      const before = server.requests.length;
      await assert.rejects(() => source.readText("loop", "file"), /more than 5 redirects/);
      assert.equal(server.requests.length - before, 6);
    });
  });
});

Deno.test("a local source refuses a FIFO instead of blocking on it, and names a vanished root dataset_unavailable", async () => {
  const root = await Deno.makeTempDir();
  await Deno.writeTextFile(join(root, "a.txt"), "x");
  const fifo = new Deno.Command("mkfifo", { args: [join(root, "pipe.png")] });
  assert.equal((await fifo.output()).code, 0);
  const source = openDataSource(root);
  await assert.rejects(() => source.readBytes("pipe.png", "image"), (e: Error) => {
    assert.equal((e as { code?: string }).code, "dataset_malformed");
    assert.match(e.message, /pipe\.png: not a regular file/);
    return true;
  });
  await Deno.remove(root, { recursive: true });
  await assert.rejects(() => source.readBytes("a.txt", "image"), (e: Error) => {
    assert.equal((e as { code?: string }).code, "dataset_unavailable");
    assert.match(e.message, /root folder is gone/);
    return true;
  });
});

Deno.test({
  name:
    "a local read past its deadline is dataset_unavailable, naming the file relative to the root",
  // The blocked open cannot be cancelled; the writer below ends it, a moment after the test.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = await Deno.makeTempDir();
    const pipe = join(root, "pipe.png");
    assert.equal((await new Deno.Command("mkfifo", { args: [pipe] }).output()).code, 0);
    const source = openDataSource(root, { timeoutMs: 200 });
    try {
      // Opening a FIFO for reading waits for a writer: a real read that never answers.
      await assert.rejects(() => source.readHead("pipe.png", 64), (e: Error) => {
        assert.equal((e as { code?: string }).code, "dataset_unavailable");
        assert.match(e.message, /pipe\.png: no answer within 200 ms/);
        assert.equal((e as { path?: string }).path, "pipe.png");
        assert.ok(!e.message.includes(root), e.message);
        return true;
      });
    } finally {
      (await Deno.open(pipe, { write: true })).close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
