/**
 * The server's memory under a burst, for `deno task bench` (or alone: `deno
 * run -A tests/bench/rss_bench.ts`). The service runs as a child process
 * (`main.ts`, the default model, `WORKERS` workers), so `/proc/<pid>/status`
 * counts the server alone, its worker threads included (threads share one
 * address space). Prints the resident set after ready, the peak during a
 * burst (concurrent `/v1/match` with large valid PNGs, concurrent invalid
 * and oversized bodies, one `/v1/evaluate` of a PF-WILLOW slice), and the
 * resident set once idle, with ratios; with freed memory given back to the OS
 * (`MALLOC_TRIM_MS`) off and on, in the same run.
 *
 * Trims: `BENCH_RSS_MATCHES` (16), `BENCH_RSS_SIDE` (image side in px,
 * 4000), `BENCH_RSS_RESOLUTION` (the matches' `resolution`; default the
 * model's), `BENCH_RSS_IDLE_S` (30), `BENCH_RSS_ENV` (server settings `K=V,K=V`
 * for one run instead of the two).
 *
 * Prints figures; asserts nothing.
 *
 * @module
 */

import { PNG } from "pngjs";
import { type ChildService, startChildService } from "../service/_child_service.ts";
import { matchForm } from "../routes/_service.ts";

const ROOT = new URL("../../", import.meta.url);
const WILLOW = new URL("../shared/data/pf-willow", ROOT).pathname;
const MiB = 2 ** 20;

/** `VmRSS` and `VmHWM` of a process, in MiB, or null when it is gone or off Linux. */
export async function rssOf(pid: number): Promise<{ rss: number; hwm: number } | null> {
  // Deno asks for --allow-all to read /proc directly; grep reads it for us.
  const out = await new Deno.Command("grep", {
    args: ["-E", "^Vm(RSS|HWM):", `/proc/${pid}/status`],
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => null);
  if (!out?.success) return null;
  const text = new TextDecoder().decode(out.stdout);
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(text)?.[1] ?? NaN);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
}

/** A `side` x `side` RGB PNG of smooth stripes and some noise: valid, large decoded, modest file. */
function largePng(side: number): Uint8Array {
  const png = new PNG({ width: side, height: side, colorType: 2 });
  const d = png.data; // RGBA buffer even for colour type 2
  let seed = 7;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const i = (y * side + x) * 4;
      d[i] = (x * 255 / side + (seed & 7)) & 255;
      d[i + 1] = (y * 255 / side) & 255;
      d[i + 2] = ((x + y) >> 4) & 255;
      d[i + 3] = 255;
    }
  }
  return new Uint8Array(PNG.sync.write(png, { colorType: 2 }));
}

/** Starts `main.ts` as `deno task start` does and waits until `/readyz` is 200. */
async function startChild(
  env: Record<string, string>,
): Promise<{ url: string; service: ChildService }> {
  const service = await startChildService({ env: { NO_COLOR: "1", ...env }, stderr: "inherit" });
  try {
    return { url: await service.ready(600_000), service };
  } catch (e) {
    await service.close();
    throw e;
  }
}

/** Samples a process's resident set every `ms` until stopped; returns the highest seen. */
function sampler(pid: number, ms = 50) {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await rssOf(pid);
      if (r) max = Math.max(max, r.rss);
      await new Promise((res) => setTimeout(res, ms));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return max;
    },
  };
}

const RESOLUTION = Deno.env.get("BENCH_RSS_RESOLUTION");

/** The burst's match request: two points, at `BENCH_RSS_RESOLUTION` when it is set. */
function burstForm(source: Uint8Array, target: Uint8Array): FormData {
  return matchForm(
    source,
    target,
    [[100, 100], [400, 300]],
    RESOLUTION ? { resolution: RESOLUTION } : {},
  );
}

/** The burst: large valid matches, invalid and oversized bodies, one evaluation, all at once. */
function burstInputs(side: number) {
  return {
    big: largePng(side),
    big2: largePng(side).reverse(), // not a PNG any more: an invalid image of the same size
    random: new Uint8Array(19_000_000).map((_, i) => (i * 2654435761) >>> 24),
    huge: new Uint8Array(70_000_000),
  };
}

async function burst(url: string, matches: number, inputs: ReturnType<typeof burstInputs>) {
  const { big, big2, random, huge } = inputs;
  const statuses = new Map<string, number>();
  // Per kind of request: the status, or "cut" where the server closed the connection first.
  const count = async (kind: string, p: Promise<Response>) => {
    let why = "";
    const res = await p.catch((e) => (why = String(e).slice(0, 80), null));
    const key = `${kind} ${res?.status ?? `cut (${why})`}`;
    await res?.body?.cancel();
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
  };
  const post = (path: string, body: BodyInit, headers?: HeadersInit) =>
    fetch(`${url}${path}`, { method: "POST", body, headers });
  const t0 = performance.now();
  await Promise.all([
    ...Array.from(
      { length: matches },
      () => count("large", post("/v1/match", burstForm(big, big))),
    ),
    ...Array.from(
      { length: 4 },
      () => count("invalid", post("/v1/match", burstForm(random, big2))),
    ),
    ...Array.from(
      { length: 4 },
      () => count("oversized", post("/v1/match", burstForm(huge, huge))),
    ),
    count(
      "evaluate",
      post(
        "/v1/evaluate",
        JSON.stringify({ dataset: "pfwillow", categories: ["car(G)"], limit: 40 }),
        { "content-type": "application/json" },
      ),
    ),
  ]);
  return {
    wallMs: performance.now() - t0,
    pngBytes: big.length,
    statuses: [...statuses].sort().map(([s, n]) => `${s} x${n}`).join(", "),
  };
}

/**
 * The burst and the idle wait, on a child server with memory trimming off
 * (`MALLOC_TRIM_MS=0`) and then with the default, side by side; or once
 * with `BENCH_RSS_ENV` where it is set. Prints the figures.
 */
export async function benchRss(): Promise<void> {
  const env = Deno.env.get("BENCH_RSS_ENV");
  const variants = env === undefined ? [{ MALLOC_TRIM_MS: "0" }, {}] : [
    Object.fromEntries(env.split(",").filter(Boolean).map((kv) => kv.split("="))),
  ];
  for (const extra of variants) await benchRssOnce(extra);
}

/** One child server (`extra`: settings over the bench's) through the burst and the idle wait. */
async function benchRssOnce(extra: Record<string, string>): Promise<void> {
  const matches = Number(Deno.env.get("BENCH_RSS_MATCHES") ?? 16);
  const side = Number(Deno.env.get("BENCH_RSS_SIDE") ?? 4000);
  const idleS = Number(Deno.env.get("BENCH_RSS_IDLE_S") ?? 30);
  const cache = Deno.env.get("MODEL_CACHE") ?? new URL(".cache/models", ROOT).pathname;
  // Made before the server starts: a pause past IDLE_TIMEOUT_MS would let the server close the
  // readiness polls' kept-alive connection just as the burst reuses it (a broken pipe, no answer).
  const inputs = burstInputs(side);
  const child = await startChild({
    HOST: "127.0.0.1",
    PORT: "0",
    KV_PATH: ":memory:",
    ACCESS_LOG: "0",
    RATE_LIMIT: "0",
    MODEL_CACHE: cache,
    DATA_PFWILLOW: WILLOW,
    ...extra,
  });
  try {
    // Let start-up garbage settle before the baseline.
    await new Promise((r) => setTimeout(r, 2000));
    const base = (await rssOf(child.service.pid))!;
    const s = sampler(child.service.pid);
    const b = await burst(child.url, matches, inputs);
    const sampledPeak = await s.stop();
    const peak = Math.max(sampledPeak, (await rssOf(child.service.pid))!.hwm);
    const after: [number, number][] = [];
    const t0 = performance.now();
    for (const at of new Set([1, 5, 10, idleS].filter((t) => t <= idleS))) {
      await new Promise((r) => setTimeout(r, Math.max(0, at * 1000 - (performance.now() - t0))));
      after.push([at, (await rssOf(child.service.pid))!.rss]);
    }
    // What a body costs the main thread: invalid images are refused there (415) after parsing.
    const bodies = 8;
    const before = (await rssOf(child.service.pid))!.rss;
    const s2 = sampler(child.service.pid, 20);
    const invalid = new Uint8Array(19_000_000).map((_, i) => (i * 2654435761) >>> 24);
    await Promise.all(
      Array.from(
        { length: bodies },
        () =>
          fetch(`${child.url}/v1/match`, { method: "POST", body: burstForm(invalid, invalid) })
            .then((r) => r.body?.cancel()),
      ),
    );
    const perBody = (await s2.stop() - before) / bodies;
    const f = (x: number) => x.toFixed(0);
    console.log(
      `\nserver RSS (child process, worker threads included; ${
        Object.keys(extra).length ? JSON.stringify(extra) : "default settings"
      }):` +
        `\n  burst: ${matches} x /v1/match with two ${side}x${side} PNGs (${
          (b.pngBytes / MiB).toFixed(1)
        } MiB each, ${f(side * side * 3 / MiB)} MiB decoded), 4 x two 19 MB invalid images,` +
        ` 4 x 140 MB bodies, 1 x /v1/evaluate of 40 PF-WILLOW pairs; ${
          (b.wallMs / 1000).toFixed(1)
        } s; answers ${b.statuses}` +
        `\n  baseline after ready ${f(base.rss)} MiB; peak during the burst ${f(peak)} MiB (${
          (peak / base.rss).toFixed(2)
        }x)` +
        after.map(([at, rss]) =>
          `\n  idle ${at} s after the burst ${f(rss)} MiB (${
            (rss / base.rss).toFixed(2)
          }x baseline)`
        ).join("") +
        `\n  then ${bodies} x /v1/match with two 19 MB invalid images at once (refused in the main` +
        ` thread): ${f(perBody)} MiB each over the RSS before, ${
          (perBody * MiB / 38_000_000).toFixed(1)
        }x the body`,
    );
  } finally {
    await child.service.kill("SIGTERM");
    await child.service.close();
  }
}

if (import.meta.main) await benchRss();
