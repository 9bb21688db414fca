/**
 * The layout's claims, checked on the source: every import points down the
 * README's layout table, no two modules import each other in a loop, and
 * only the entry points and the config module read the environment.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = normalize(join(dirname(new URL(import.meta.url).pathname), ".."));

/** Top to bottom: a module may import its own layer and the layers below it. */
const LAYERS = [
  ["main.ts", "eval.ts"],
  ["routes"],
  ["service"],
  ["jobs"],
  ["leaderboard"],
  ["evaluation"],
  ["datasets"],
  ["workers"],
  ["models"],
  ["pictures"],
  ["core"],
  ["errors"],
];

/** The only modules that may read `Deno.env`. */
const ENV_READERS = new Set(["main.ts", "eval.ts", "service/config.ts"]);

async function sourceFiles(dir = ROOT): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    const rel = relative(ROOT, path);
    if (e.isDirectory) {
      if (["tests", "node_modules", ".git", ".cache"].includes(rel) || e.name.startsWith(".")) {
        continue;
      }
      out.push(...await sourceFiles(path));
    } else if (e.name.endsWith(".ts")) out.push(rel);
  }
  return out.sort();
}

/** Code without comments, so doc examples do not count as imports. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/[^\n]*/g, "$1");
}

function layerOf(file: string): number {
  const top = file.includes("/") ? file.split("/")[0] : file;
  const i = LAYERS.findIndex((l) => l.includes(top));
  assert.ok(i >= 0, `${file} is in no layer of the README's layout table`);
  return i;
}

async function importGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const file of await sourceFiles()) {
    const text = code(await Deno.readTextFile(join(ROOT, file)));
    const deps: string[] = [];
    for (
      const m of text.matchAll(/(?:from\s+|import\s*\(\s*|new URL\(\s*)["'](\.{1,2}\/[^"']+)["']/g)
    ) {
      const target = normalize(join(dirname(file), m[1]));
      if (target.endsWith(".ts") && target !== file) deps.push(target);
    }
    graph.set(file, deps);
  }
  return graph;
}

Deno.test("every import points down the layout table", async () => {
  const graph = await importGraph();
  const upward: string[] = [];
  for (const [file, deps] of graph) {
    for (const dep of deps) {
      if (layerOf(dep) < layerOf(file)) upward.push(`${file} -> ${dep}`);
    }
  }
  assert.deepEqual(upward, []);
});

Deno.test("no module imports itself through others", async () => {
  const graph = await importGraph();
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    state.set(file, "open");
    for (const dep of graph.get(file) ?? []) {
      if (!graph.has(dep)) continue;
      if (state.get(dep) === "open") {
        cycles.push([...path.slice(path.indexOf(dep)), dep].join(" -> "));
      } else if (!state.has(dep)) visit(dep, [...path, dep]);
    }
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file, [file]);
  assert.deepEqual(cycles, []);
});

Deno.test("only the entry points and the config module read the environment", async () => {
  const readers: string[] = [];
  for (const file of await sourceFiles()) {
    if (code(await Deno.readTextFile(join(ROOT, file))).includes("Deno.env")) readers.push(file);
  }
  assert.deepEqual(readers.filter((f) => !ENV_READERS.has(f)), []);
});
