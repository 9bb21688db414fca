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
 * A worker whose model load fails (an error, or the worker dying) is
 * stopped and started again after a back-off that doubles from `retryMs` to
 * `retryMaxMs` per slot, for as long as the pool lives: a model file fixed
 * later, or a transient fault, heals without a restart. The model itself may
 * be given as a function that resolves it (a download, a file that is not
 * there yet): a failed resolution is a failed load of every slot, retried
 * with the same back-off. While no worker is
 * ready and none is loading, tasks fail at once with
 * {@linkcode WorkersNotReadyError} (503 + `Retry-After`) instead of waiting
 * for their deadline.
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
  ServiceError,
  WorkerCrashedError,
  WorkersNotReadyError,
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
  /** First wait before a failed model load is tried again, in ms (default 500). */
  retryMs?: number;
  /** Longest wait between load attempts, in ms (default 30000). */
  retryMaxMs?: number;
  /** Worker module (tests pass fixture workers). */
  workerUrl?: URL;
}

/** Counters for health and metrics. */
export interface PoolStats {
  size: number;
  ready: number;
  busy: number;
  queued: number;
  /** Workers whose model load failed, waiting to try again. */
  retrying: number;
  restarts: number;
  completed: number;
  backend: string | null;
  /** Code of the last failed model load while a worker has not loaded since, else null. */
  load_error: string | null;
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
  /** Absent while the slot waits to retry a failed load. */
  worker?: Worker;
  ready: boolean;
  task?: Task;
  loadId?: string;
  killTimer?: ReturnType<typeof setTimeout>;
  /** Failed loads in a row in this slot (the back-off's exponent). */
  loadFailures: number;
  /** When waiting to retry: the timer and when it fires (ms since the epoch). */
  retry?: { timer: ReturnType<typeof setTimeout>; at: number };
}

/** The start model, or what resolves it (tried again with back-off when it fails). */
export type ModelSource = ModelRef | (() => Promise<ModelRef>);

const CORES = navigator.hardwareConcurrency || 1;

// Captured when the pool module loads: onnxruntime-web, once used in this
// thread, may leave Node's Worker class in globalThis.Worker.
const DenoWorker = globalThis.Worker;

/** The pool. */
export class WorkerPool {
  #options: Required<PoolOptions>;
  #settings: WorkerSettings;
  #slots: Slot[] = [];
  #queue: Task[] = [];
  #model?: ModelRef;
  #source?: () => Promise<ModelRef>;
  #resolving?: Promise<ModelRef>;
  #closed = false;
  #restarts = 0;
  #completed = 0;
  #backend: string | null = null;
  #readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #loadError?: Error;
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
      retryMs: options.retryMs ?? 500,
      retryMaxMs: options.retryMaxMs ?? 30_000,
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
   * @param model The default model, or a function that resolves it; a
   *   failed resolution counts as a failed load in every slot.
   * @returns Resolves when every worker is ready; rejects with the first
   *   failed load or resolution (the pool goes on retrying it with back-off).
   * @throws {Error} The load error when the model cannot be loaded.
   */
  start(model: ModelSource): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => {
      this.#readyWaiters.push({ resolve, reject });
    });
    if (typeof model !== "function") {
      this.#model = model;
      for (let i = 0; i < this.#options.size; i++) this.#slots.push(this.#spawn(0));
      return ready;
    }
    this.#source = model;
    for (let i = 0; i < this.#options.size; i++) {
      const slot: Slot = { id: this.#nextWorkerId++, ready: false, loadFailures: 0 };
      this.#slots.push(slot);
      this.#launch(slot, 0);
    }
    return ready;
  }

  /**
   * Starts a worker in `slot` (carrying its back-off), resolving the model
   * first while it is not: one resolution at a time serves every slot, and
   * its failure is the slot's failed load.
   */
  #launch(slot: Slot, failures: number): void {
    const index = this.#slots.indexOf(slot);
    if (index < 0 || this.#closed) return;
    if (this.#model) {
      if (failures > 0) this.#restarts++;
      this.#slots[index] = this.#spawn(failures);
      return;
    }
    this.#resolving ??= this.#source!().then((m) => this.#model = m).finally(() => {
      this.#resolving = undefined;
    });
    this.#resolving.then(
      () => this.#launch(slot, failures),
      (e) => {
        if (this.#slots.includes(slot) && !this.#closed) this.#loadFailed(slot, e as Error);
      },
    );
  }

  /** The configured number of workers (what `/readyz` waits for). */
  get size(): number {
    return this.#options.size;
  }

  /** Counters; `ready` counts workers that can take a task now or after their current one. */
  stats(): PoolStats {
    const retrying = this.#slots.filter((s) => s.retry).length;
    const e = this.#loadError;
    return {
      size: this.#options.size,
      ready: this.#slots.filter((s) => s.ready).length,
      busy: this.#slots.filter((s) => s.task).length,
      queued: this.#queue.length,
      retrying,
      restarts: this.#restarts,
      completed: this.#completed,
      backend: this.#backend,
      load_error: e && this.#slots.some((s) => s.loadFailures > 0)
        ? (e instanceof ServiceError ? e.code : "internal_error")
        : null,
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
    const unservable = this.#unservableError();
    if (unservable && options.worker === undefined) return Promise.reject(unservable);
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
    clearTimeout(slot.retry?.timer);
    if (slot.task) this.#settle(slot.task, new PoolClosedError("The worker pool is shut down"));
    const worker = slot.worker;
    if (!worker) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const id = crypto.randomUUID();
      const done = () => {
        clearTimeout(timer);
        worker.terminate();
        resolve();
      };
      const timer = setTimeout(done, 2000);
      worker.onmessage = (e: MessageEvent<WorkerReply>) => {
        if (e.data.id === id) done();
      };
      worker.onerror = (e) => {
        e.preventDefault();
        done();
      };
      worker.postMessage({ type: "dispose", id } satisfies WorkerRequest);
    });
  }

  /** Starts a worker, loading the model; `loadFailures` carries the slot's back-off. */
  #spawn(loadFailures: number): Slot {
    const worker = new DenoWorker(this.#options.workerUrl, { type: "module" });
    const slot: Slot = { id: this.#nextWorkerId++, worker, ready: false, loadFailures };
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
        slot.loadFailures = 0;
        this.#backend = reply.backend;
        if (this.#slots.every((s) => s.ready || s === slot)) {
          for (const w of this.#readyWaiters.splice(0)) w.resolve();
        }
        this.#pump();
      } else if (reply.type === "error") {
        this.#loadFailed(slot, reviveError(reply.error));
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
    if (slot.loadId) {
      // Dying while loading is a failed load: retried after a back-off, not at once.
      this.#loadFailed(slot, new WorkerCrashedError(`A worker stopped while loading the model`));
      console.error(`Worker ${slot.id} stopped while loading the model: ${message}`);
      return;
    }
    slot.worker?.terminate();
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
    this.#slots[index] = this.#spawn(0);
  }

  /**
   * A load failed in `slot`: its worker stops and a new one is started
   * after the slot's back-off. `start()`'s caller hears of the first failure.
   */
  #loadFailed(slot: Slot, error: Error): void {
    slot.worker?.terminate();
    slot.worker = undefined;
    slot.loadId = undefined;
    slot.ready = false;
    this.#loadError = error;
    for (const w of this.#readyWaiters.splice(0)) w.reject(error);
    if (this.#closed) return;
    const failures = ++slot.loadFailures;
    const delay = Math.min(this.#options.retryMaxMs, this.#options.retryMs * 2 ** (failures - 1));
    const timer = setTimeout(() => this.#launch(slot, failures), delay);
    slot.retry = { timer, at: Date.now() + delay };
    // Nothing may be able to take the queued tasks any more: tell them now.
    const unservable = this.#unservableError();
    if (!unservable) return;
    for (const task of this.#queue.splice(0)) this.#settle(task, unservable);
  }

  /**
   * The error of a task no worker can take soon: none is ready and none is
   * loading (all wait to retry a failed load, or the pool has not started).
   */
  #unservableError(): WorkersNotReadyError | undefined {
    if (this.#slots.some((s) => s.ready || s.worker)) return undefined;
    const next = Math.min(...this.#slots.map((s) => s.retry?.at ?? Infinity));
    const retryAfter = Number.isFinite(next)
      ? Math.max(1, Math.ceil((next - Date.now()) / 1000))
      : 1;
    const e = this.#loadError;
    return new WorkersNotReadyError(
      !this.#loadError
        ? "No inference worker is ready: the workers are starting"
        : `No inference worker is ready: every model load failed (last: ${
          e instanceof ServiceError ? e.code : "internal_error"
        }); the next attempt is in about ${retryAfter} s`,
      {
        retryAfter,
        details: { size: this.#options.size, ready: 0, retrying: this.#slots.length },
      },
    );
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
      slot.worker!.postMessage(task.request, task.transfer);
    }
  }
}
