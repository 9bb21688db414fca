/**
 * Starts the service in a child process exactly as `deno task start` does
 * (the permission flags are read from deno.json's `start` task, so a test
 * never runs with more than the README's command grants), for the tests and
 * benches that need a real process: real signals, a real exit status, a real
 * open-file limit, `/proc/<pid>`. One place reads the child's output, so no
 * caller can leave a pipe unread (a full pipe blocks the child) or open (Deno's
 * test sanitizers fail the test).
 *
 * The start-up line's URL is parsed by {@linkcode listeningUrl}: a wildcard
 * bind prints the bound address with a loopback URL beside it.
 *
 * @example The URL in the start-up line
 * ```ts
 * import { listeningUrl } from "./_child_service.ts";
 * import { listenAddress } from "../../service/listen_address.ts";
 * import assert from "node:assert/strict";
 *
 * const line = (hostname: string) =>
 *   `Listening on ${listenAddress({ hostname, port: 8000 }).line} (workers starting; see /readyz)`;
 * assert.equal(listeningUrl(line("127.0.0.1")), "http://127.0.0.1:8000");
 * assert.equal(listeningUrl(line("0.0.0.0")), "http://127.0.0.1:8000");
 * assert.equal(listeningUrl(line("::")), "http://[::1]:8000");
 * assert.equal(listeningUrl("Giving freed memory back: off\n"), undefined);
 * ```
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url);

const LISTENING =
  /^Listening on (\S+)(?: \(every interface; on this machine (http:\/\/[^\s)]+)\))?/m;

/**
 * The URL that reaches the service from this machine, from its output.
 *
 * @param out The service's stdout so far.
 * @returns The URL, or undefined before the "Listening on" line.
 */
export function listeningUrl(out: string): string | undefined {
  const m = LISTENING.exec(out);
  if (!m) return undefined;
  return m[2] ?? (m[1].startsWith("http://") ? m[1] : undefined);
}

/** The `start` task of deno.json, as arguments for this Deno (`run`, its flags, `main.ts`). */
export async function startTaskArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const [deno, ...args] = String(config.tasks.start).trim().split(/\s+/);
  if (deno !== "deno") throw new Error(`deno.json's start task does not run deno: ${deno}`);
  return args;
}

/** How to start the child. */
export interface ChildServiceOptions {
  /** Settings over the inherited environment; HOST defaults to 127.0.0.1, PORT to 0. */
  env?: Record<string, string>;
  /** An open-file limit set with bash's `ulimit` before the service starts (soft, hard or both). */
  fdLimit?: { soft?: number; hard?: number };
  /** `inherit` shows the child's stderr (a bench); by default it is collected. */
  stderr?: "collect" | "inherit";
}

/** A running (or exited) child service. */
export interface ChildService {
  /** The child's process id (of the service itself: bash `exec`s it). */
  readonly pid: number;
  /** The exit status, once it has exited. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Everything on stdout so far (all of it once {@linkcode ChildService.exited} resolves). */
  readonly stdout: string;
  /** Everything on stderr so far, when collected. */
  readonly stderr: string;
  /** Resolves when the child has exited and both pipes are read to the end. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** The URL from the "Listening on" line; rejects when the child exits first. */
  url(timeoutMs?: number): Promise<string>;
  /** The first match of `pattern` on stdout; rejects when the child exits (or time runs out) first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves with the URL once `/readyz` answers 200; rejects on exit or timeout. */
  ready(timeoutMs?: number): Promise<string>;
  /** Sends `signal` (if it still runs) and resolves with the exit status. */
  kill(signal: Deno.Signal): Promise<Deno.CommandStatus>;
  /** Kills it if it still runs (SIGKILL) and waits for its exit and its pipes: leaks nothing. */
  close(): Promise<Deno.CommandStatus>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** Reads a pipe to its end into `sink`, calling `changed` after each chunk. */
async function collect(
  stream: ReadableStream<Uint8Array<ArrayBuffer>>,
  sink: (text: string) => void,
  changed: () => void,
): Promise<void> {
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    sink(text);
    changed();
  }
}

/** Rejects after `ms` unless `promise` settles first; the timer never outlives it. */
function within<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what()} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Starts `main.ts` as `deno task start` would, with `options.env`.
 *
 * @param options Settings, an optional open-file limit, where stderr goes.
 * @returns The child; call {@linkcode ChildService.close} (or `await using`) when done.
 */
export async function startChildService(options: ChildServiceOptions = {}): Promise<ChildService> {
  const args = await startTaskArgs();
  const { soft, hard } = options.fdLimit ?? {};
  const limits = [
    soft !== undefined ? `ulimit -Sn ${soft}` : "",
    hard !== undefined ? `ulimit -Hn ${hard}` : "",
  ].filter(Boolean);
  // Soft first, so a hard limit may come down to it; `exec` keeps the pid the service's own.
  const command = limits.length
    ? {
      cmd: "bash",
      args: ["-c", `${limits.join(" && ")} && exec "$0" "$@"`, Deno.execPath(), ...args],
    }
    : { cmd: Deno.execPath(), args };
  const child = new Deno.Command(command.cmd, {
    args: command.args,
    cwd: ROOT.pathname,
    env: { HOST: "127.0.0.1", PORT: "0", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: options.stderr === "inherit" ? "inherit" : "piped",
  }).spawn();

  let stdout = "";
  let stderr = "";
  let ended = false;
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  const reading = Promise.all([
    collect(child.stdout, (t) => stdout += t, notify),
    options.stderr === "inherit"
      ? Promise.resolve()
      : collect(child.stderr, (t) => stderr += t, notify),
  ]);
  const exited = (async () => {
    const status = await child.status;
    await reading.catch(() => {});
    ended = true;
    notify();
    return status;
  })();
  const log = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;

  /** Resolves with `test()`'s first defined value, checked on every chunk; rejects on exit. */
  function when<T>(test: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    let waiter: (() => void) | undefined;
    const found = new Promise<T>((resolve, reject) => {
      waiter = () => {
        const value = test();
        if (value !== undefined) resolve(value);
        else if (ended) reject(new Error(`The service exited before ${what}:\n${log()}`));
      };
      waiters.add(waiter);
      waiter();
    });
    return within(found, timeoutMs, () => `The service did not print ${what}:\n${log()}`)
      .finally(() => waiters.delete(waiter!));
  }

  const service: ChildService = {
    pid: child.pid,
    status: child.status,
    exited,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    url(timeoutMs = DEFAULT_TIMEOUT_MS) {
      return when(() => listeningUrl(stdout), `"Listening on"`, timeoutMs);
    },
    waitFor(pattern, timeoutMs = DEFAULT_TIMEOUT_MS) {
      return when(() => pattern.exec(stdout) ?? undefined, String(pattern), timeoutMs);
    },
    async ready(timeoutMs = DEFAULT_TIMEOUT_MS) {
      const t0 = performance.now();
      const url = await service.url(timeoutMs);
      while (!ended) {
        const res = await fetch(`${url}/readyz`).catch(() => null);
        await res?.body?.cancel();
        if (res?.status === 200) return url;
        if (performance.now() - t0 > timeoutMs) {
          throw new Error(`The service did not get ready within ${timeoutMs} ms:\n${log()}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`The service exited before it was ready:\n${log()}`);
    },
    kill(signal) {
      try {
        child.kill(signal);
      } catch {
        // already exited
      }
      return child.status;
    },
    async close() {
      await service.kill("SIGKILL");
      return await exited;
    },
    async [Symbol.asyncDispose]() {
      await service.close();
    },
  };
  return service;
}
