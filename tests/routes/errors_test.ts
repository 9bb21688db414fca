import assert from "node:assert/strict";
import { encode } from "fast-png";
import { matchForm, postMatch, willowImage, withService } from "./_service.ts";
import {
  CRASH_POINTS,
  MALFORMED_REPLY_POINTS,
  SLOW_JOB_MS,
  SLOW_POINTS,
  WORKER_BUG_POINTS,
} from "../workers/fixtures/fault_triggers.ts";

const FAULTY = new URL("../workers/fixtures/faulty_worker.ts", import.meta.url);

function points(n: number): number[][] {
  return Array.from({ length: n }, (_, i) => [10 + i, 20]);
}

/** Asserts the error envelope: status, code, message and request id. */
function assertError(
  r: { status: number; json: { error: { code: string; message: string }; request_id: unknown } },
  status: number,
  code: string,
): void {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.equal(r.json.error.code, code);
  assert.equal(typeof r.json.error.message, "string");
  assert.ok(r.json.error.message.length > 0);
  assert.equal(typeof r.json.request_id, "string");
}

Deno.test("POST /v1/match answers every bad input with its stable error code", async (t) => {
  const png = await willowImage("car(G)/Cars_006a.png");
  await withService({ MAX_POINTS: "5", MAX_IMAGE_PIXELS: "100000" }, async (url) => {
    await t.step("400 malformed_request: broken JSON", async () => {
      const r = await postMatch(url, "{not json", { "content-type": "application/json" });
      assertError(r, 400, "malformed_request");
    });
    await t.step("400 malformed_request: points that are not JSON", async () => {
      assertError(await postMatch(url, matchForm(png, png, "[[1,")), 400, "malformed_request");
    });
    await t.step("400 malformed_request: invalid base64", async () => {
      const body = JSON.stringify({ source: "%%%", target: "%%%", points: [[1, 1]] });
      const r = await postMatch(url, body, { "content-type": "application/json" });
      assertError(r, 400, "malformed_request");
    });
    await t.step("400 invalid_image: a truncated PNG", async () => {
      const r = await postMatch(url, matchForm(png.slice(0, 2000), png, [[1, 1]]));
      assertError(r, 400, "invalid_image");
    });
    await t.step("404 unknown_model", async () => {
      const r = await postMatch(url, matchForm(png, png, [[1, 1]], { model: "dinov9" }));
      assertError(r, 404, "unknown_model");
      assert.ok(r.json.error.details.known.includes("dsift"));
      assert.ok(r.json.error.details.known.includes("dinov2-base"));
    });
    await t.step("404 not_found: unknown route", async () => {
      const res = await fetch(`${url}/v1/nothing`);
      assert.equal(res.status, 404);
      assert.equal((await res.json()).error.code, "not_found");
    });
    await t.step("413 too_many_points", async () => {
      const r = await postMatch(url, matchForm(png, png, points(6)));
      assertError(r, 413, "too_many_points");
      assert.deepEqual(r.json.error.details, { limit: 5, actual: 6 });
    });
    await t.step("413 image_too_large: pixels, from the header", async () => {
      const big = encode({
        width: 400,
        height: 300,
        data: new Uint8Array(400 * 300 * 3),
        channels: 3,
      });
      assertError(await postMatch(url, matchForm(big, png, [[1, 1]])), 413, "image_too_large");
    });
    await t.step("415 unsupported_media_type: text body", async () => {
      const r = await postMatch(url, "hello", { "content-type": "text/plain" });
      assertError(r, 415, "unsupported_media_type");
    });
    await t.step("415 unsupported_image_format: a GIF", async () => {
      const gif = new TextEncoder().encode("GIF89a\x01\x00\x01\x00\x00\x00\x00;");
      const r = await postMatch(url, matchForm(gif, png, [[1, 1]]));
      assertError(r, 415, "unsupported_image_format");
    });
    await t.step("422 invalid_request: zod issues listed", async () => {
      const r = await postMatch(
        url,
        matchForm(png, png, [[1, 1]], { localizer: "magic", temperature: "-1" }),
      );
      assertError(r, 422, "invalid_request");
      const paths = r.json.error.details.issues.map((i: { path: string[] }) => i.path.join("."));
      assert.ok(paths.includes("localizer") && paths.includes("temperature"), paths.join(","));
    });
    await t.step("422 invalid_request: points of the wrong shape, or missing", async () => {
      assertError(await postMatch(url, matchForm(png, png, [[1, 2, 3]])), 422, "invalid_request");
      assertError(await postMatch(url, matchForm(png, png, [])), 422, "invalid_request");
      const form = matchForm(png, png, [[1, 1]]);
      form.delete("target");
      assertError(await postMatch(url, form), 422, "invalid_request");
    });
    await t.step("422 invalid_resolution", async () => {
      const r = await postMatch(url, matchForm(png, png, [[1, 1]], { resolution: "250" }));
      assertError(r, 422, "invalid_resolution");
    });
    await t.step("422 point_out_of_bounds", async () => {
      const r = await postMatch(url, matchForm(png, png, [[10, 10], [300, 10]]));
      assertError(r, 422, "point_out_of_bounds");
      assert.deepEqual(r.json.error.details.indices, [1]);
    });
  });
});

Deno.test("POST /v1/match answers 413 payload_too_large for a body past the limit", async () => {
  await withService({ MAX_IMAGE_BYTES: "1000" }, async (url) => {
    // The body limit is 2 x 1.4 x MAX_IMAGE_BYTES + 1 MB for fields: send 1.2 MB.
    const big = new Uint8Array(600_000);
    const r = await postMatch(url, matchForm(big, big, [[1, 1]]));
    assertError(r, 413, "payload_too_large");
  });
});

Deno.test("a worker crash fails only its request, and the pool replaces the worker", async () => {
  const png = await willowImage("car(G)/Cars_006a.png");
  await withService({}, async (url) => {
    const crashed = await postMatch(url, matchForm(png, png, points(CRASH_POINTS)));
    assertError(crashed, 503, "worker_crashed");
    assert.equal(crashed.headers.get("retry-after"), "1");
    const ok = await postMatch(url, matchForm(png, png, points(3)));
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    const ready = await (await fetch(`${url}/readyz`)).json();
    assert.equal(ready.pool.restarts, 1);
  }, { workerUrl: FAULTY });
});

Deno.test("a full queue answers 503 overloaded with Retry-After at once", async () => {
  const png = await willowImage("car(G)/Cars_006a.png");
  await withService({ QUEUE_MAX: "1" }, async (url) => {
    // SLOW_POINTS make the fixture worker hold each job for SLOW_JOB_MS.
    const running = postMatch(url, matchForm(png, png, points(SLOW_POINTS)));
    await new Promise((r) => setTimeout(r, 200));
    const queued = postMatch(url, matchForm(png, png, points(SLOW_POINTS)));
    await new Promise((r) => setTimeout(r, 200));
    const started = performance.now();
    const rejected = await postMatch(url, matchForm(png, png, points(SLOW_POINTS)));
    const waited = performance.now() - started;
    assertError(rejected, 503, "overloaded");
    assert.equal(rejected.headers.get("retry-after"), "1");
    assert.ok(waited < 1000, `rejection took ${waited} ms`);
    assert.equal((await running).status, 200);
    assert.equal((await queued).status, 200);
  }, { workerUrl: FAULTY });
});

Deno.test("MAX_INFLIGHT: past so many admitted requests, the next is 503 overloaded before its body is read", async () => {
  const png = await willowImage("car(G)/Cars_006a.png");
  await withService({ MAX_INFLIGHT: "1", DEFAULT_MODEL: "dsift" }, async (url) => {
    // A client that sends headers and the start of a body, then stalls: admitted, holding its slot.
    let finish!: () => void;
    const stalled = new Promise<void>((r) => finish = r);
    const boundary = "stalled-boundary";
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode(`--${boundary}\r\n`));
        await stalled;
        controller.close();
      },
    });
    const first = fetch(`${url}/v1/match`, {
      method: "POST",
      body,
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      duplex: "half",
    } as RequestInit);
    let refused;
    do {
      refused = await postMatch(url, matchForm(png, png, points(3)));
    } while (refused.status !== 503);
    assertError(refused, 503, "overloaded");
    assert.equal(refused.json.error.details.max_in_flight, 1);
    assert.equal(refused.headers.get("retry-after"), "1");

    // The stalled body ends (no image in it): a 4xx, its slot is free again, the next is served.
    finish();
    const answer = await first;
    await answer.body?.cancel();
    assert.equal(Math.floor(answer.status / 100), 4);
    const ok = await postMatch(url, matchForm(png, png, points(3)));
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
  });
});

Deno.test("a request past its deadline answers 504 deadline_exceeded", async () => {
  const png = await willowImage("car(G)/Cars_006a.png");
  // The 500 ms deadline is sized for dsift's speed, so this test serves dsift.
  await withService({ DEADLINE_MS: "500", DEFAULT_MODEL: "dsift" }, async (url) => {
    const r = await postMatch(url, matchForm(png, png, points(SLOW_POINTS)));
    assertError(r, 504, "deadline_exceeded");
    // The worker finishes the abandoned job (after SLOW_JOB_MS, then the work,
    // slower on a loaded machine) and serves the next one.
    await new Promise((r) => setTimeout(r, SLOW_JOB_MS));
    for (let i = 0; i < 100; i++) {
      const ready = await (await fetch(`${url}/readyz`)).json();
      if (ready.pool.busy === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // A loaded machine can push even a 3-point dsift match past 500 ms, so a
    // few 504s are tolerated; what must hold is that the worker serves again.
    let ok = await postMatch(url, matchForm(png, png, points(3)));
    for (let i = 0; i < 4 && ok.status === 504; i++) {
      ok = await postMatch(url, matchForm(png, png, points(3)));
    }
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
  }, { workerUrl: FAULTY });
});

/** Runs `fn` with console.error captured; returns what was logged. */
async function capturingErrors(fn: () => Promise<void>): Promise<unknown[][]> {
  const logged: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    await fn();
  } finally {
    console.error = original;
  }
  return logged;
}

Deno.test("a TypeError bug, in a worker or in the main thread, is a logged 500 that leaks nothing", async (t) => {
  const png = await willowImage("car(G)/Cars_006a.png");
  await withService({}, async (url) => {
    const cases: [string, number, RegExp][] = [
      // The pipeline reads a property of an undefined model inside the worker.
      ["thrown inside a worker", WORKER_BUG_POINTS, /descriptor/],
      // The route reads `matches` of a reply that has none, in the main thread.
      ["thrown in the main thread", MALFORMED_REPLY_POINTS, /Cannot read properties of undefined/],
    ];
    for (const [name, n, cause] of cases) {
      await t.step(name, async () => {
        let r!: Awaited<ReturnType<typeof postMatch>>;
        const logged = await capturingErrors(async () => {
          r = await postMatch(url, matchForm(png, png, points(n)));
        });
        assert.equal(r.status, 500, JSON.stringify(r.json));
        assert.deepEqual(r.json.error, {
          code: "internal_error",
          message: "Internal error; it has been logged",
        });
        const entry = logged.find((args) => String(args[0]).includes(r.json.request_id));
        assert.ok(entry, `no log line names request ${r.json.request_id}`);
        const error = entry[1] as Error;
        assert.equal(error.name, "TypeError");
        assert.match(error.message, cause);
        assert.ok(!JSON.stringify(r.json).includes(error.message));
      });
    }
    // Neither bug cost the worker: the next request is served.
    // A loaded machine can push even a 3-point dsift match past 500 ms, so a
    // few 504s are tolerated; what must hold is that the worker serves again.
    let ok = await postMatch(url, matchForm(png, png, points(3)));
    for (let i = 0; i < 4 && ok.status === 504; i++) {
      ok = await postMatch(url, matchForm(png, png, points(3)));
    }
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
  }, { workerUrl: FAULTY });
});
