/**
 * The README's examples run as written: its Python example of the JSON
 * form (`python3 - <<'EOF' ... EOF` under "Match points") is run by the
 * machine's python3 against the real server, on two PF-WILLOW images copied
 * to `a.png` and `b.png` beside it, and prints what `/v1/match` answers.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { postMatch, toBase64, willowImage, withService } from "./routes/_service.ts";
import { errorCodes } from "../routes/_on_error.ts";

const README = new URL("../README.md", import.meta.url);

/** The body of the first `python3 - <<'EOF'` heredoc after `heading`. */
function pythonExample(readme: string, heading: string): string {
  const section = readme.slice(readme.indexOf(heading));
  const m = section.match(/python3 - <<'EOF'\n([\s\S]*?)\nEOF\n/);
  assert.ok(m, `no python3 heredoc under ${heading}`);
  return m[1];
}

async function hasPython(): Promise<boolean> {
  try {
    return (await new Deno.Command("python3", { args: ["--version"] }).output()).success;
  } catch {
    return false;
  }
}

Deno.test("the README's Python example of the JSON form runs against the real server", async () => {
  assert.ok(await hasPython(), "python3 is needed (it is on every machine of this project)");
  const code = pythonExample(await Deno.readTextFile(README), "## Match points");
  assert.match(code, /http:\/\/localhost:8000\/v1\/match/);
  const dir = await Deno.makeTempDir({ prefix: "semcorr-readme-" });
  const a = await willowImage("car(G)/Cars_006a.png");
  const b = await willowImage("car(G)/Cars_007a.png");
  await Deno.writeFile(join(dir, "a.png"), a);
  await Deno.writeFile(join(dir, "b.png"), b);
  try {
    await withService({}, async (url) => {
      const child = new Deno.Command("python3", {
        args: ["-"],
        cwd: dir,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      // Only the address changes: the test's server listens on a free port.
      await writer.write(new TextEncoder().encode(code.replace("http://localhost:8000", url)));
      await writer.close();
      const out = await child.output();
      const text = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      // It prints the matches: what /v1/match answers for the same body.
      const body = JSON.parse(
        code.match(/body = (\{[\s\S]*?\})\n/)![1]
          .replace(/b64\("a\.png"\)/, JSON.stringify(toBase64(a)))
          .replace(/b64\("b\.png"\)/, JSON.stringify(toBase64(b))),
      );
      const { json } = await postMatch(url, JSON.stringify(body), {
        "content-type": "application/json",
      });
      // Python prints the list's repr: single quotes, floats as Python writes them.
      assert.deepEqual(JSON.parse(text.trim().replaceAll("'", '"')), json.matches);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("README's Errors table lists every error code with its status", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const section = readme.split("\n## Errors\n")[1].split("\n## ")[0];
  const rows = section.split("\n").filter((l) => /^\| \d{3} /.test(l));
  for (const { code, status } of errorCodes()) {
    const row = rows.find((r) => r.includes(`\`${code}\``));
    assert.ok(row, `README's Errors table lacks \`${code}\``);
    assert.ok(row.startsWith(`| ${status} `), `\`${code}\` is listed under the wrong status`);
  }
});
