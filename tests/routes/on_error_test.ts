import assert from "node:assert/strict";
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { onError } from "../../routes/_on_error.ts";
import {
  DatasetNotFoundError,
  ImageDecodeError,
  InferenceTimeoutError,
  ModelLoadError,
  ModelNotFoundError,
  PoolSaturatedError,
  UnknownTableError,
  WorkerCrashedError,
} from "../../errors/mod.ts";

function appThrowing(error: Error) {
  const app = new Hono();
  app.use(requestId());
  app.get("/", () => {
    throw error;
  });
  app.onError(onError);
  return app;
}

Deno.test("onError() maps each error class to its status and code in one place", async (t) => {
  const cases: [Error, number, string][] = [
    [new UnknownTableError("Cannot find table"), 404, "unknown_table"],
    [new ImageDecodeError("Cannot decode"), 400, "invalid_image"],
    [new ModelNotFoundError("Cannot find"), 404, "unknown_model"],
    [new DatasetNotFoundError("Cannot read", { path: "/d" }), 404, "dataset_not_found"],
    [new PoolSaturatedError("Full"), 503, "overloaded"],
    [new WorkerCrashedError("Died"), 503, "worker_crashed"],
    [new ModelLoadError("Cannot load"), 503, "model_unavailable"],
    [new InferenceTimeoutError("Late"), 504, "deadline_exceeded"],
  ];
  for (const [error, status, code] of cases) {
    await t.step(`${error.name} -> ${status} ${code}`, async () => {
      const res = await appThrowing(error).request("/");
      assert.equal(res.status, status);
      const body = await res.json();
      assert.equal(body.error.code, code);
      assert.equal(body.error.message, error.message);
      assert.equal(typeof body.request_id, "string");
    });
  }
});

Deno.test("onError() answers a bug with a bare 500 and no stack, and logs it", async () => {
  const logged: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    const res = await appThrowing(new Error("secret detail at /srv/x.ts:12")).request("/");
    assert.equal(res.status, 500);
    const body = await res.json();
    assert.deepEqual(body.error, {
      code: "internal_error",
      message: "Internal error; it has been logged",
    });
    assert.ok(!JSON.stringify(body).includes("secret"));
    assert.equal(logged.length, 1);
  } finally {
    console.error = original;
  }
});

Deno.test("onError() answers engine errors from bugs with a bare 500 naming the request", async (t) => {
  // A TypeError or RangeError that reaches the handler is a bug, not the
  // client's input: user-input errors are named classes.
  for (
    const error of [
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      new RangeError("Invalid array length"),
    ]
  ) {
    await t.step(error.name, async () => {
      const logged: unknown[][] = [];
      const original = console.error;
      console.error = (...args: unknown[]) => logged.push(args);
      try {
        const res = await appThrowing(error).request("/");
        assert.equal(res.status, 500);
        const body = await res.json();
        assert.equal(body.error.code, "internal_error");
        assert.ok(!JSON.stringify(body).includes(error.message));
        assert.equal(logged.length, 1);
        assert.ok(String(logged[0][0]).includes(body.request_id));
        assert.equal(logged[0][1], error);
      } finally {
        console.error = original;
      }
    });
  }
});

Deno.test("onError() sets Retry-After on 503s a client should retry", async () => {
  for (const e of [new PoolSaturatedError("Full"), new WorkerCrashedError("Died")]) {
    const res = await appThrowing(e).request("/");
    assert.equal(res.headers.get("retry-after"), "1");
    await res.body?.cancel();
  }
});
