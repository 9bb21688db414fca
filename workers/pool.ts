/**
 * A fixed pool of inference workers with a bounded queue.
 *
 * Each worker runs one task at a time. When every worker is busy, tasks wait
 * in a queue of at most `maxQueue`; past that {@linkcode WorkerPool.run} fails
 * at once with {@linkcode PoolSaturatedError} (HTTP 503 + `Retry-After`). A task
 * that passes its deadline fails with {@linkcode InferenceTimeoutError} (504).
 * A worker that dies fails only its own task with
 * {@linkcode WorkerCrashedError} and is replaced.
 *
 * Each worker has an id, new for every worker started. A task may be
 * pinned to one (`worker` in {@linkcode WorkerPool.run}): an evaluation
 * keeps features in the worker that made them and sends the jobs that need
 * them there. Pinned tasks wait for their worker; when it dies they fail
 * with {@linkcode WorkerCrashedError}, since its replacement holds nothing.
 *
 * @example Usage
 * ```ts
 * import { WorkerPool } from "./pool.ts";
 * import { BUILTIN_MODELS } from "../models/registry.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = new WorkerPool({ size: 1 });
 * await pool.start({ descriptor: BUILTIN_MODELS.dsift });
 * assert.equal(pool.stats().ready, 1);
 * await pool.dispose();
 * ```
 *
 * @module
 */

import type { ModelRef } from "../models/model_ref.ts";
import type {
  Operation,
  Operations,
  WorkerReply,
  WorkerRequest,
  WorkerSettings,
} from "./protocol.ts";
import {
  InferenceTimeoutError,
  PoolClosedError,
  PoolSaturatedError,
  reviveError,
  WorkerCrashedError,
} from "../errors/mod.ts";
import type { BackendPreference } from "./backend.ts";
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from "./image_limits.ts";
import { DEFAULT_FEATURE_CACHE_BYTES } from "./feature_cache.ts";

/** Pool settings. */
export interface PoolOptions {
  /** Number of workers (default: one per core). */
  size?: number;
  /** Tasks that may wait for a worker (default 32). */
  maxQueue?: number;
  /** Default deadline of a task in ms, from enqueue (default 120000). */
  deadlineMs?: number;
  /** onnxruntime threads per worker (default 1; raise it when `size` is below the core count). */
  numThreads?: number;
  /** After a running task's deadline, how long its worker may go on before it is replaced (default 30000). */
  killAfterMs?: number;
  /** `ORT_BACKEND` preference, resolved in each worker (default `auto`). */
  backend?: BackendPreference;
  /** Byte and pixel limits of every image, sent to each worker once (default `DEFAULT_IMAGE_LIMITS`). */
  limits?: ImageLimits;
  /** Bytes of resident features each worker keeps (default 1 GiB). */
  featureCacheBytes?: number;
  /** Worker module (tests pass fixture workers). */
  workerUrl?: URL;
}

/** Counters for health and metrics. */
export interface PoolStats {
  size: number;
  ready: number;
  busy: number;
  queued: number;
  restarts: number;
  completed: number;
  backend: string | null;
}

interface Task {
  id: string;
  request: WorkerRequest;
  transfer: Transferable[];
  resolve: (value: Operations[Operation]["result"]) => void;
  reject: (error: Error) => void;
  timer?: ReturnType<typeof setTimeout>;
  settled: boolean;
  /** The id of the worker it must run on, if pinned. */
  worker?: number;
}

interface Slot {
  /** Unique per started worker: a replacement gets a new one. */
  id: number;
  worker: Worker;
  ready: boolean;
  task?: Task;
  loadId?: string;
  killTimer?: ReturnType<typeof setTimeout>;
}

const CORES = navigator.hardwareConcurrency || 1;

// Captured when the pool module loads: onnxruntime-web, once used in this
// thread, may leave Node's Worker class in globalThis.Worker.
const DenoWorker = globalThis.Worker;

/** Workers that die while loading the model, in a row, before the pool gives up. */
const MAX_LOAD_CRASHES = 3;

/** The pool. */
export class WorkerPool {
  #options: Required<PoolOptions>;
  #settings: WorkerSettings;
  #slots: Slot[] = [];
  #queue: Task[] = [];
  #model?: ModelRef;
  #closed = false;
  #restarts = 0;
  #completed = 0;
  #backend: string | null = null;
  #readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #loadError?: Error;
  #loadCrashes = 0;
  #nextWorkerId = 1;

  /** @param options Pool settings. */
  constructor(options: PoolOptions = {}) {
    const size = Math.max(1, options.size ?? CORES);
    this.#options = {
      size,
      maxQueue: options.maxQueue ?? 32,
      deadlineMs: options.deadlineMs ?? 120_000,
      // One worker per core already uses every core; threads are opt-in.
      numThreads: options.numThreads ?? 1,
      killAfterMs: options.killAfterMs ?? 30_000,
      backend: options.backend ?? "auto",
      limits: options.limits ?? DEFAULT_IMAGE_LIMITS,
      featureCacheBytes: options.featureCacheBytes ?? DEFAULT_FEATURE_CACHE_BYTES,
      workerUrl: options.workerUrl ?? new URL("./inference_worker.ts", import.meta.url),
    };
    this.#settings = {
      numThreads: this.#options.numThreads,
      backend: this.#options.backend,
      limits: this.#options.limits,
      featureCacheBytes: this.#options.featureCacheBytes,
    };
  }

  /**
   * Starts the workers and loads `model` in each (a session created and run
   * once).
   *
   * @param model The default model.
   * @returns Resolves when every worker is ready.
   * @throws {Error} The load error when the model cannot be loaded.
   */
  start(model: ModelRef): Promise<void> {
    this.#model = model;
    const ready = new Promise<void>((resolve, reject) => {
      this.#readyWaiters.push({ resolve, reject });
    });
    for (let i = 0; i < this.#options.size; i++) this.#slots.push(this.#spawn());
    return ready;
  }

  /** Counters; `ready` counts workers that can take a task now or after their current one. */
  stats(): PoolStats {
    return {
      size: this.#slots.length,
      ready: this.#slots.filter((s) => s.ready).length,
      busy: this.#slots.filter((s) => s.task).length,
      queued: this.#queue.length,
      restarts: this.#restarts,
      completed: this.#completed,
      backend: this.#backend,
    };
  }

  /** Ids of the workers that can take a task, in slot order. */
  readyWorkers(): number[] {
    return this.#slots.filter((s) => s.ready).map((s) => s.id);
  }

  /**
   * Runs an operation on the next free worker, or on the worker it is pinned to.
   *
   * @param op An operation of `Operations` (`match`, `extract_resident`...).
   * @param job The job; buffers named in `options.transfer` move to the worker.
   * @param options `deadlineMs` overrides the pool's default; `transfer` lists
   *   buffers to move; `worker` pins the task to the worker of that id; `signal`
   *   withdraws the task (from the queue at once; a running one's result is dropped).
   * @returns The job's result.
   * @throws {PoolSaturatedError} When the queue is full.
   * @throws {InferenceTimeoutError} When the deadline passes first.
   * @throws {WorkerCrashedError} When the worker running it dies, or the
   *   worker it is pinned to is gone.
   */
  run<K extends Operation>(
    op: K,
    job: Operations[K]["job"],
    options: {
      deadlineMs?: number;
      transfer?: Transferable[];
      worker?: number;
      signal?: AbortSignal;
    } = {},
  ): Promise<Operations[K]["result"]> {
    if (this.#closed) return Promise.reject(new PoolClosedError("The worker pool is shut down"));
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    if (options.worker !== undefined && !this.#slots.some((s) => s.id === options.worker)) {
      return Promise.reject(this.#goneError(options.worker));
    }
    const free = this.#slots.some((s) => s.ready && !s.task);
    if (!free && this.#queue.length >= this.#options.maxQueue) {
      const e = new PoolSaturatedError(
        `Cannot accept the request: ${this.#queue.length} requests are already waiting`,
        { details: { queued: this.#queue.length, max_queue: this.#options.maxQueue } },
      );
      return Promise.reject(e);
    }
    return new Promise<Operations[K]["result"]>((resolve, reject) => {
      const id = crypto.randomUUID();
      const task: Task = {
        id,
        request: { type: "run", id, op, job } as WorkerRequest,
        transfer: options.transfer ?? [],
        resolve: resolve as Task["resolve"],
        reject,
        settled: false,
        worker: options.worker,
      };
      const deadline = options.deadlineMs ?? this.#options.deadlineMs;
      task.timer = setTimeout(() => this.#expire(task, deadline), deadline);
      // A task whose caller gave up leaves the queue at once; one already
      // running finishes (a session run cannot be interrupted), its result dropped.
      options.signal?.addEventListener("abort", () => {
        const queued = this.#queue.indexOf(task);
        if (queued >= 0) this.#queue.splice(queued, 1);
        this.#settle(task, options.signal!.reason);
      }, { once: true });
      this.#queue.push(task);
      this.#pump();
    });
  }

  /** Fails queued tasks, lets workers release their sessions, and stops them. */
  async dispose(): Promise<void> {
    this.#closed = true;
    for (const t of this.#queue.splice(0)) {
      this.#settle(t, new PoolClosedError("The worker pool is shut down"));
    }
    for (const w of this.#readyWaiters.splice(0)) w.reject(new PoolClosedError("Pool disposed"));
    await Promise.all(this.#slots.map((s) => this.#stop(s)));
    this.#slots = [];
  }

  #stop(slot: Slot): Promise<void> {
    clearTimeout(slot.killTimer);
    if (slot.task) this.#settle(slot.task, new PoolClosedError("The worker pool is shut down"));
    return new Promise<void>((resolve) => {
      const id = crypto.randomUUID();
      const done = () => {
        clearTimeout(timer);
        slot.worker.terminate();
        resolve();
      };
      const timer = setTimeout(done, 2000);
      slot.worker.onmessage = (e: MessageEvent<WorkerReply>) => {
        if (e.data.id === id) done();
      };
      slot.worker.onerror = (e) => {
        e.preventDefault();
        done();
      };
      slot.worker.postMessage({ type: "dispose", id } satisfies WorkerRequest);
    });
  }

  #spawn(): Slot {
    const worker = new DenoWorker(this.#options.workerUrl, { type: "module" });
    const slot: Slot = { id: this.#nextWorkerId++, worker, ready: false };
    worker.onmessage = (e: MessageEvent<WorkerReply>) => this.#onReply(slot, e.data);
    worker.onerror = (e: ErrorEvent) => {
      // Keep the error from taking the whole server down; the slot is replaced.
      e.preventDefault();
      this.#onCrash(slot, e.message);
    };
    if (this.#model) {
      slot.loadId = crypto.randomUUID();
      const load: WorkerRequest = {
        type: "load",
        id: slot.loadId,
        model: this.#model,
        settings: this.#settings,
      };
      worker.postMessage(load);
    }
    return slot;
  }

  #onReply(slot: Slot, reply: WorkerReply): void {
    if (reply.id === slot.loadId) {
      slot.loadId = undefined;
      if (reply.type === "ready") {
        slot.ready = true;
        this.#loadCrashes = 0;
        this.#backend = reply.backend;
        if (this.#slots.every((s) => s.ready || s === slot)) {
          for (const w of this.#readyWaiters.splice(0)) w.resolve();
        }
        this.#pump();
      } else if (reply.type === "error") {
        this.#loadError = reviveError(reply.error);
        for (const w of this.#readyWaiters.splice(0)) w.reject(this.#loadError);
      }
      return;
    }
    const task = slot.task;
    if (!task || task.id !== reply.id) return;
    slot.task = undefined;
    clearTimeout(slot.killTimer);
    this.#completed++;
    if (reply.type === "result") this.#settle(task, undefined, reply.result);
    else if (reply.type === "error") this.#settle(task, reviveError(reply.error));
    this.#pump();
  }

  #onCrash(slot: Slot, message: string): void {
    const index = this.#slots.indexOf(slot);
    clearTimeout(slot.killTimer);
    slot.worker.terminate();
    if (slot.loadId && ++this.#loadCrashes >= MAX_LOAD_CRASHES) {
      // A worker that dies while loading will die again: fail readiness, stop respawning.
      this.#loadError = new WorkerCrashedError(
        `Workers died ${this.#loadCrashes} times while loading the model: ${message}`,
      );
      for (const w of this.#readyWaiters.splice(0)) w.reject(this.#loadError);
      this.#slots.splice(index, 1);
      return;
    }
    if (slot.task) {
      this.#settle(
        slot.task,
        new WorkerCrashedError(`The worker running this request stopped: ${message}`),
      );
      slot.task = undefined;
    }
    for (const task of this.#queue.filter((t) => t.worker === slot.id)) {
      this.#queue.splice(this.#queue.indexOf(task), 1);
      this.#settle(task, this.#goneError(slot.id));
    }
    if (index < 0 || this.#closed) return;
    this.#restarts++;
    this.#slots[index] = this.#spawn();
  }

  #goneError(id: number): WorkerCrashedError {
    return new WorkerCrashedError(
      `Cannot run on worker ${id}: it stopped and was replaced; what it held is lost`,
      { details: { worker: id } },
    );
  }

  #expire(task: Task, deadline: number): void {
    if (task.settled) return;
    const queued = this.#queue.indexOf(task);
    if (queued >= 0) this.#queue.splice(queued, 1);
    this.#settle(
      task,
      new InferenceTimeoutError(`The request did not finish within its ${deadline} ms deadline`, {
        details: { deadline_ms: deadline, stage: queued >= 0 ? "queued" : "running" },
      }),
    );
    const slot = this.#slots.find((s) => s.task === task);
    if (slot) {
      // The result will be dropped; a worker stuck far past the deadline is replaced.
      slot.killTimer = setTimeout(() => {
        if (slot.task === task) this.#onCrash(slot, "deadline exceeded");
      }, this.#options.killAfterMs);
    }
  }

  #settle(task: Task, error?: Error, result?: Operations[Operation]["result"]): void {
    if (task.settled) return;
    task.settled = true;
    clearTimeout(task.timer);
    if (error) task.reject(error);
    else task.resolve(result!);
  }

  #pump(): void {
    for (const slot of this.#slots) {
      if (!slot.ready || slot.task) continue;
      const next = this.#queue.findIndex((t) => t.worker === undefined || t.worker === slot.id);
      if (next < 0) continue;
      const [task] = this.#queue.splice(next, 1);
      slot.task = task;
      slot.worker.postMessage(task.request, task.transfer);
    }
  }
}
