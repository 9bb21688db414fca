import assert from "node:assert/strict";

/** Whether this machine has a GPU device node (read with this test's --allow-all). */
function hasGpuNode(): boolean {
  return [...Deno.readDirSync("/dev")].some((e) => e.name === "dri" || e.name.startsWith("nvidia"));
}

Deno.test("ORT_BACKEND=auto without a GPU device node does not ask for an adapter under deno task start's permissions (no display warnings)", async () => {
  if (Deno.build.os !== "linux" || hasGpuNode()) {
    console.log("skipped: this machine has a GPU device node, so asking for an adapter is right");
    return;
  }
  // The task's permissions: Deno lets only --allow-all read /dev, so the check goes through libc.
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-ffi",
      new URL("./fixtures/resolve_backend.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.doesNotMatch(stderr, /XDG_RUNTIME_DIR/);
  assert.match(new TextDecoder().decode(out.stdout).trim(), /^(native|wasm)$/);
});
