/**
 * Entry point of an inference worker, started by the pool with
 * `new Worker(new URL("./inference_worker.ts", import.meta.url), { type: "module" })`.
 *
 * @module
 */

import { serveWorker, type WorkerScope } from "./worker_runtime.ts";

serveWorker(self as unknown as WorkerScope);
