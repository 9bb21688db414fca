/**
 * Gives freed heap memory back to the OS. Decoded images, request bodies and
 * onnxruntime's buffers are allocated by glibc's malloc, which keeps what is
 * freed in its arenas (one per thread that allocates: each worker, each
 * onnxruntime thread) and returns to the OS only the free top of each heap;
 * after a burst of large requests the process kept most of its peak resident
 * while idle. `malloc_trim(0)` releases every free page of every arena. It is
 * called through libc (`--allow-ffi`) every `MALLOC_TRIM_MS` while no worker
 * is busy; where libc cannot be opened (not glibc, no FFI permission) it is
 * off, with a note.
 *
 * @example Usage
 * ```ts
 * import { startMallocTrim } from "./malloc_trim.ts";
 * import assert from "node:assert/strict";
 *
 * const trim = startMallocTrim({ intervalMs: 10, idle: () => true });
 * if (trim.note === undefined) assert.equal(typeof trim.trimNow(), "boolean");
 * trim.stop();
 * assert.equal(startMallocTrim({ intervalMs: 0, idle: () => true }).note, "off (MALLOC_TRIM_MS=0)");
 * ```
 *
 * @module
 */

/** A running trimmer. */
export interface MallocTrim {
  /** Trims now; true when memory was given back. */
  trimNow(): boolean;
  /** Stops the timer and closes libc. */
  stop(): void;
  /** Why it is off, when it is. */
  note?: string;
}

/**
 * Starts trimming every `intervalMs` while `idle()` says so.
 *
 * @param options `intervalMs` (0: off); `idle`, true when no work is running.
 * @returns The trimmer (a no-op one, with a note, where it cannot run).
 */
export function startMallocTrim(
  options: { intervalMs: number; idle: () => boolean },
): MallocTrim {
  const off = (note: string): MallocTrim => ({ trimNow: () => false, stop() {}, note });
  if (options.intervalMs === 0) return off("off (MALLOC_TRIM_MS=0)");
  if (Deno.build.os !== "linux") return off(`off (no glibc on ${Deno.build.os})`);
  let libc;
  try {
    libc = Deno.dlopen("libc.so.6", {
      malloc_trim: { parameters: ["usize"], result: "i32" },
    });
  } catch (e) {
    return off(`off (cannot call malloc_trim: ${(e as Error).message})`);
  }
  const trimNow = () => libc.symbols.malloc_trim(0n) === 1;
  const timer = setInterval(() => {
    if (options.idle()) trimNow();
  }, options.intervalMs);
  // A timer of housekeeping must not keep the process alive on its own.
  Deno.unrefTimer(timer);
  return {
    trimNow,
    stop() {
      clearInterval(timer);
      libc.close();
    },
  };
}
