/**
 * The message loop of an inference worker: it answers each
 * {@linkcode WorkerRequest} with exactly one {@linkcode WorkerReply}, and
 * catches everything so that bad input becomes an error reply, never a dead
 * worker.
 *
 * @example Usage
 * ```ts ignore
 * // workers/inference_worker.ts
 * import { serveWorker } from "./worker_runtime.ts";
 * serveWorker(self);
 * ```
 *
 * @module
 */

import type { Operation, Operations, WorkerReply, WorkerRequest } from "./protocol.ts";
import { MatchPipeline } from "./match_pipeline.ts";
import { serializeError } from "../errors/mod.ts";
import { configureOrt } from "./ort.ts";
import { resolveBackend } from "./backend.ts";

/** The parts of a worker's global scope the loop uses. */
export interface WorkerScope {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

/**
 * Starts answering requests on `scope`.
 *
 * @param scope The worker's global scope (`self`).
 * @param pipeline The pipeline to run jobs on.
 */
export function serveWorker(scope: WorkerScope): void {
  // One message at a time: onnxruntime-web sessions cannot run concurrently.
  let chain = Promise.resolve();
  const state: WorkerState = {};
  scope.onmessage = (e: MessageEvent) => {
    const req = e.data as WorkerRequest;
    chain = chain.then(() => handle(scope, state, req));
  };
}

/** The pipeline, created by the first `load` on the backend it resolves. */
interface WorkerState {
  pipeline?: MatchPipeline;
}

async function handle(
  scope: WorkerScope,
  state: WorkerState,
  req: WorkerRequest,
): Promise<void> {
  let reply: WorkerReply;
  const transfer: Transferable[] = [];
  try {
    switch (req.type) {
      case "load": {
        configureOrt(req.settings);
        state.pipeline ??= new MatchPipeline({
          backend: await resolveBackend(req.settings.backend),
          limits: req.settings.limits,
          featureCacheBytes: req.settings.featureCacheBytes,
        });
        const backend = await state.pipeline.warm(req.model);
        reply = { type: "ready", id: req.id, backend };
        break;
      }
      case "run": {
        if (!state.pipeline) throw new Error("The worker ran a job before loading a model");
        const result = await runOperation(state.pipeline, req);
        if ("matches" in result) {
          for (const m of Array.isArray(result.matches) ? result.matches : [result.matches]) {
            transfer.push(m.buffer as ArrayBuffer);
          }
        }
        if ("png" in result) transfer.push(result.png.buffer as ArrayBuffer);
        // Only extract and copy_resident results carry grid data (made for the move).
        if ("grid" in result && "data" in result.grid) {
          transfer.push(result.grid.data.buffer as ArrayBuffer);
        }
        reply = { type: "result", id: req.id, result };
        break;
      }
      case "dispose": {
        await state.pipeline?.dispose();
        // The pool terminates the worker on this reply: one teardown path, not
        // a self-close racing the terminate while native sessions unload.
        scope.postMessage({ type: "ready", id: req.id, backend: "none" } satisfies WorkerReply);
        return;
      }
    }
  } catch (error) {
    reply = { type: "error", id: req.id, error: serializeError(error) };
  }
  scope.postMessage(reply, transfer);
}

function runOperation(
  pipeline: MatchPipeline,
  req: Extract<WorkerRequest, { type: "run" }>,
): Promise<Operations[Operation]["result"]> | Operations[Operation]["result"] {
  switch (req.op) {
    case "match":
      return pipeline.run(req.job);
    case "extract":
      return pipeline.extract(req.job);
    case "picture":
      return pipeline.picture(req.job);
    case "extract_resident":
      return pipeline.extractResident(req.job);
    case "match_resident":
      return pipeline.matchResident(req.job);
    case "copy_resident":
      return pipeline.copyResident(req.job);
    case "adopt_resident":
      return pipeline.adoptResident(req.job);
    case "forget_resident":
      return pipeline.forgetResident(req.job);
  }
}
