/**
 * The process's open-file limit (`RLIMIT_NOFILE`): every TCP connection,
 * model file and dataset read takes a descriptor, and a server that runs out
 * of them cannot even accept the connection that would tell it so. At start
 * the soft limit is raised to the hard limit where the OS allows (through
 * libc's `setrlimit`, which needs `--allow-ffi`), and the connection cap is
 * derived from what is left.
 *
 * @example Usage
 * ```ts
 * import { connectionCap, readFdLimit } from "./fd_limit.ts";
 * import assert from "node:assert/strict";
 *
 * const limit = await readFdLimit();
 * if (limit) assert.ok(limit.soft <= limit.hard);
 * assert.equal(connectionCap({ soft: 1024, hard: 1024 }), 768);
 * assert.equal(connectionCap(null), 768);
 * ```
 *
 * @module
 */

/** Soft and hard open-file limits; `Infinity` when unlimited. */
export interface FdLimit {
  soft: number;
  hard: number;
}

/**
 * Descriptors kept free of connections: workers and the modules they load,
 * model and dataset files, the KV file. A served process holds about 50 at
 * rest, and a worker (re)starting opens many more for a moment.
 */
function reserved(soft: number): number {
  return Math.max(256, Math.floor(soft / 4));
}

/**
 * Reads the limit: libc's `getrlimit` (Linux, `--allow-ffi`), else
 * `/proc/self/limits`, which Deno lets only `--allow-all` read (so under
 * `deno task start`'s permissions the limit was never known, nor raised).
 *
 * @returns The limit, or null where it cannot be read.
 */
export async function readFdLimit(): Promise<FdLimit | null> {
  return getrlimit() ?? await readProcLimits();
}

function getrlimit(): FdLimit | null {
  if (Deno.build.os !== "linux") return null;
  try {
    const libc = Deno.dlopen("libc.so.6", {
      getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
    });
    try {
      // struct rlimit { rlim_t rlim_cur; rlim_t rlim_max; } with 64-bit rlim_t.
      const buffer = new BigUint64Array(2);
      if (libc.symbols.getrlimit(RLIMIT_NOFILE, new Uint8Array(buffer.buffer)) !== 0) return null;
      const value = (v: bigint) => (v === 0xffffffffffffffffn ? Infinity : Number(v));
      return { soft: value(buffer[0]), hard: value(buffer[1]) };
    } finally {
      libc.close();
    }
  } catch {
    return null;
  }
}

async function readProcLimits(): Promise<FdLimit | null> {
  try {
    const text = await Deno.readTextFile("/proc/self/limits");
    const m = text.match(/^Max open files\s+(\S+)\s+(\S+)/m);
    if (!m) return null;
    const value = (s: string) => (s === "unlimited" ? Infinity : Number(s));
    return { soft: value(m[1]), hard: value(m[2]) };
  } catch {
    return null;
  }
}

const RLIMIT_NOFILE = 7; // Linux, asm-generic/resource.h

/**
 * Raises the soft open-file limit to the hard limit, where allowed.
 *
 * @returns The limit in force afterwards (null where it cannot be read),
 *   and why it was not raised when it was not.
 */
export async function raiseFdLimit(): Promise<{ limit: FdLimit | null; note?: string }> {
  const before = await readFdLimit();
  if (!before || before.soft >= before.hard || Deno.build.os !== "linux") {
    return { limit: before };
  }
  try {
    const libc = Deno.dlopen("libc.so.6", {
      setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
    });
    try {
      // struct rlimit { rlim_t rlim_cur; rlim_t rlim_max; } with 64-bit rlim_t.
      const hard = before.hard === Infinity ? 0xffffffffffffffffn : BigInt(before.hard);
      const buffer = new BigUint64Array([hard, hard]);
      if (libc.symbols.setrlimit(RLIMIT_NOFILE, new Uint8Array(buffer.buffer)) !== 0) {
        return { limit: before, note: "setrlimit refused" };
      }
    } finally {
      libc.close();
    }
  } catch (e) {
    return { limit: before, note: `cannot call setrlimit: ${(e as Error).message}` };
  }
  return { limit: await readFdLimit() };
}

/**
 * The default connection cap for a limit: what is left after the reserved
 * descriptors, at most 16384 (each connection also costs memory).
 *
 * @param limit The limit in force, or null when unknown (then 1024 is assumed).
 * @returns The most connections to keep open at once.
 */
export function connectionCap(limit: FdLimit | null): number {
  const soft = limit?.soft ?? 1024;
  return Math.max(16, Math.min(16_384, soft - reserved(soft)));
}
