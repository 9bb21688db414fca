/**
 * Opens one of a descriptor's extra ONNX files (a feature head, a
 * cost-volume refiner) and checks that it has the input and output the
 * descriptor names.
 *
 * @module
 */

import type { OnnxFileSpec } from "../models/descriptor.ts";
import { ModelContractError, ModelLoadError } from "../errors/mod.ts";
import { createSession } from "./backend.ts";
import type { BackendName, InferenceSession } from "./session.ts";

/**
 * Opens a session on a verified local ONNX file.
 *
 * @param file Local path from `ModelStore.resolve`, or undefined when the
 *   reference was built without resolving it.
 * @param options `label` (e.g. "the head of model `x`"), the descriptor's
 *   `spec` of the file, and the `backend`.
 * @returns The session.
 * @throws {ModelLoadError} When the file is missing or the runtime rejects it.
 * @throws {ModelContractError} When the graph lacks the named input or output.
 */
export async function openOnnxPart(
  file: string | undefined,
  options: { label: string; spec: Pick<OnnxFileSpec, "input" | "output">; backend: BackendName },
): Promise<InferenceSession> {
  const { label, spec, backend } = options;
  if (file === undefined) {
    throw new ModelLoadError(
      `Cannot load ${label}: its file was not resolved (ModelStore.resolve)`,
    );
  }
  let session: InferenceSession;
  try {
    session = await createSession(await Deno.readFile(file), { label, backend });
  } catch (e) {
    // A read error names the local path: a server path, kept out of the answer.
    throw new ModelLoadError(
      `Cannot load ${label}: ${(e as Error).message.replaceAll(file, "its file")}`,
    );
  }
  if (!session.inputNames.includes(spec.input) || !session.outputNames.includes(spec.output)) {
    await session.release();
    throw new ModelContractError(
      `Cannot use ${label}: it takes [${session.inputNames}] and returns [${session.outputNames}], the descriptor says input \`${spec.input}\` and output \`${spec.output}\``,
    );
  }
  return session;
}
