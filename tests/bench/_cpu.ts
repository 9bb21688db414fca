/**
 * The machine a bench ran on, in one line: CPU model, cores, and the x86
 * extensions onnxruntime's int8 kernels choose between. int8 figures are
 * not comparable across them: with VNNI or AMX a u8 x s8 product is one
 * instruction per four pairs, without it (AVX2, AVX-512 alone) two
 * instructions and a 16-bit intermediate (see `models/onnx_quantize.ts`).
 *
 * @example Usage
 * ```ts
 * import { describeCpu } from "./_cpu.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(await describeCpu(), /\d+ cores?/);
 * ```
 *
 * @module
 */

/** The extensions named, in order, when the CPU has them. */
const INT8_FLAGS = ["avx2", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8"];

/**
 * Describes this machine's CPU, e.g. `AMD EPYC, 2 cores; avx2; no VNNI or AMX`.
 * Without `/proc/cpuinfo` (not Linux) only the core count is known.
 */
export async function describeCpu(): Promise<string> {
  const cores = navigator.hardwareConcurrency;
  const count = `${cores} core${cores === 1 ? "" : "s"}`;
  const info = await readCpuinfo();
  if (info === null) return count;
  const field = (name: string) =>
    info.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, "m"))?.[1].trim() ?? "";
  const flags = new Set(field("flags").split(/\s+/));
  const has = INT8_FLAGS.filter((f) => flags.has(f));
  const vnni = has.some((f) => f.includes("vnni") || f.startsWith("amx"));
  return `${field("model name") || "unknown CPU"}, ${count}; ${has.join(" ") || "no AVX2"}; ${
    vnni ? "int8 dot products in hardware" : "no VNNI or AMX"
  }`;
}

/**
 * `/proc/cpuinfo`, or null. Deno reads `/proc` only under `--allow-all`,
 * which `deno task bench` does not grant, so without it a `cat` child
 * (`--allow-run`) reads the file instead.
 */
async function readCpuinfo(): Promise<string | null> {
  try {
    return await Deno.readTextFile("/proc/cpuinfo");
  } catch {
    // Not permitted or not Linux: try the child below.
  }
  try {
    const out = await new Deno.Command("cat", {
      args: ["/proc/cpuinfo"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}
