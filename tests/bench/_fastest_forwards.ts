/**
 * The fastest forward of each of several models, timed in rounds: one forward
 * of every model per round, so a disturbance of the shared machine (another
 * process, a GC) falls on all of them alike instead of on the one timed at
 * that moment, and the ratios between them stay fair.
 *
 * @module
 */

import type { BackendName, TensorData } from "../../workers/session.ts";
import { createSession } from "../../workers/backend.ts";

/**
 * Creates a session of each graph, warms each with one forward, then times
 * `rounds` rounds.
 *
 * @param graphs ONNX bytes of each model.
 * @param feeds The one input every model runs on.
 * @param options The backend, the rounds, and a label for error messages.
 * @returns The fastest forward of each graph, in ms, in the order given.
 */
export async function fastestForwards(
  graphs: Uint8Array[],
  feeds: Record<string, TensorData>,
  options: { backend: BackendName; rounds: number; label: string },
): Promise<number[]> {
  const sessions = [];
  for (const bytes of graphs) {
    const s = await createSession(bytes, { label: options.label, backend: options.backend });
    await s.run(feeds);
    sessions.push(s);
  }
  const fastest = sessions.map(() => Infinity);
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const [i, s] of sessions.entries()) {
        const t0 = performance.now();
        await s.run(feeds);
        fastest[i] = Math.min(fastest[i], performance.now() - t0);
      }
    }
  } finally {
    for (const s of sessions) await s.release();
  }
  return fastest;
}
