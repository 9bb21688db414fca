import assert from "node:assert/strict";
import { join } from "node:path";
import { insideRoot } from "../../datasets/_files.ts";
import { parseCsv } from "../../datasets/_csv.ts";
import { allInOrder } from "../../datasets/_all_in_order.ts";
import { Limiter } from "../../datasets/_limiter.ts";
import { DatasetUnsafePathError } from "../../errors/mod.ts";

Deno.test("insideRoot() joins relative paths and refuses paths that leave the root", async (t) => {
  await t.step("relative paths", () => {
    assert.equal(insideRoot("/r", "a/b.png", "f"), join("/r", "a", "b.png"));
    assert.equal(insideRoot("/r", "a\\b.png", "f"), join("/r", "a", "b.png"));
    assert.equal(insideRoot("/r", "./a/..b", "f"), join("/r", "a", "..b"));
  });
  for (
    const bad of [
      "",
      "/etc/passwd",
      "\\\\server\\x",
      "C:\\x",
      "c:x",
      "../x",
      "a/../../x",
      "a\\..\\x",
      "a\0b",
    ]
  ) {
    await t.step(JSON.stringify(bad), () => {
      assert.throws(() => insideRoot("/r", bad, "list.csv"), (e: Error) => {
        assert.ok(e instanceof DatasetUnsafePathError);
        assert.equal(e.code, "dataset_unsafe_path");
        assert.equal(e.path, "list.csv");
        return true;
      });
    });
  }
});

Deno.test("parseCsv() splits rows and fields", async (t) => {
  await t.step("plain, CRLF, blank lines, no final newline", () => {
    assert.deepEqual(parseCsv("a,b\r\n1,2\n\n3,\n4,5"), [["a", "b"], ["1", "2"], ["3", ""], [
      "4",
      "5",
    ]]);
  });
  await t.step("quotes", () => {
    assert.deepEqual(parseCsv('"a,b","c""d"\n""\n'), [["a,b", 'c"d'], [""]]);
  });
  await t.step("malformed", () => {
    assert.throws(() => parseCsv('a"b'), /stray quote on line 1/);
    assert.throws(() => parseCsv('x\n"a"b'), /text after a quote on line 2/);
    assert.throws(() => parseCsv('"ab'), /unclosed quote/);
  });
});

Deno.test("allInOrder() fails with the first item's error in order, not in time", async () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  assert.deepEqual(await allInOrder([3, 1, 2], async (x) => (await sleep(x), x * 2)), [6, 2, 4]);
  await assert.rejects(
    () =>
      allInOrder([0, 1, 2], async (i) => {
        await sleep(i === 0 ? 20 : 0);
        throw new Error(`item ${i}`);
      }),
    /item 0/,
  );
});

Deno.test("Limiter runs at most its limit of tasks at once, in arrival order", async () => {
  const limiter = new Limiter(2);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  await Promise.all(Array.from({ length: 6 }, (_, i) =>
    limiter.run(async () => {
      started.push(i);
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
    })));
  assert.equal(most, 2);
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5]);
  await assert.rejects(() => limiter.run(() => Promise.reject(new Error("x"))), /x/);
  assert.equal(await limiter.run(() => Promise.resolve(7)), 7); // a failure frees its place
  assert.throws(() => new Limiter(0), RangeError);
});
