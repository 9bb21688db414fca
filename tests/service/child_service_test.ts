import assert from "node:assert/strict";
import { startChildService, startTaskArgs } from "./_child_service.ts";

Deno.test("a child service runs deno task start's command, under ulimit with its own pid, and stops on a signal", async (t) => {
  const child = await startChildService({
    env: { WORKERS: "1", KV_PATH: ":memory:", ACCESS_LOG: "0" },
    fdLimit: { soft: 1024, hard: 1024 },
  });
  try {
    const url = await child.ready();
    await t.step("the URL from the start-up line answers /readyz 200", async () => {
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${url}/readyz`);
      assert.equal(res.status, 200);
      await res.body?.cancel();
    });
    await t.step(
      "the pid is the service's own (bash exec'd it): the start task's flags, the ulimit",
      async () => {
        const cmdline = (await Deno.readTextFile(`/proc/${child.pid}/cmdline`)).split("\0");
        assert.equal(cmdline[0], Deno.execPath());
        assert.deepEqual(cmdline.slice(1, -1), await startTaskArgs());
        assert.ok(!cmdline.includes("--allow-all"));
        const limits = await Deno.readTextFile(`/proc/${child.pid}/limits`);
        assert.match(limits, /Max open files\s+1024\s+1024\s/);
      },
    );
    await t.step(
      "a pattern it never prints rejects on the timeout, naming the output",
      async () => {
        await assert.rejects(
          () => child.waitFor(/never printed/, 200),
          (e: Error) => e.message.includes("did not print") && e.message.includes("Listening on"),
        );
      },
    );
    await t.step("SIGTERM: exit 0, its drain line collected", async () => {
      assert.equal((await child.kill("SIGTERM")).code, 0);
      await child.exited;
      assert.match(child.stdout, /SIGTERM: draining/);
    });
  } finally {
    await child.close();
  }
});

Deno.test("a child service that exits before listening rejects url() and ready() with its output", async () => {
  const child = await startChildService({ env: { PORT: "eighty" } });
  try {
    for (const wait of [() => child.url(), () => child.ready()]) {
      await assert.rejects(wait, (e: Error) => e.message.includes("exited before"));
    }
    assert.notEqual((await child.status).code, 0);
    assert.match(child.stderr, /PORT/);
  } finally {
    await child.close();
  }
});
