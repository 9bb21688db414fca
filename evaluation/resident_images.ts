/**
 * Where an evaluation's image features live. Each distinct image is read
 * from the dataset once, extracted once on one worker, and stays there
 * (`extract_resident`); only a summary comes back. The pairs of a target
 * are matched together on a worker that holds the target (`match_resident`:
 * cost volume and localization in one call). A source extracted on another
 * worker is copied to the target's worker once and kept there too, so no
 * grid crosses a thread per pair.
 *
 * Reading and extraction run ahead of the pairs, in the order images are
 * first needed: the next images' bytes are read while the workers extract,
 * and each worker has its next extraction queued before it finishes the
 * current one.
 *
 * A worker that dies takes what it held: the pairs that needed it fail with
 * `WorkerCrashedError`, the bookkeeping drops that worker, and the images
 * are extracted again on the workers left (or its replacement). An entry
 * its worker's bounded cache evicted (`FeaturesNotResidentError`) is
 * extracted again the same way. Both count in `extractions`.
 *
 * @example Usage
 * ```ts ignore
 * const images = new ResidentImages(pool, openDataSource(slice.root), { pairs, model, resolution, resize: "stretch" });
 * const [p] = pairs;
 * const [matches] = await images.match(p.target, [{ image: p.source, points: p.source_kps }], localizer);
 * images.release(p);
 * await images.close();
 * ```
 *
 * @module
 */

import type { WorkerPool } from "../workers/pool.ts";
import type { Operation, Operations } from "../workers/protocol.ts";
import { featureKey } from "../workers/feature_cache.ts";
import type { ModelRef } from "../models/model_ref.ts";
import type { DataSource } from "../datasets/data_source.ts";
import type { ResizeMode } from "../core/frame.ts";
import type { ResampleMode } from "../core/model_input.ts";
import type { LocalizerOptions } from "../core/localizer_options.ts";
import {
  DatasetMalformedError,
  FeaturesNotResidentError,
  ImageDecodeError,
  ImageTooLargeError,
  PoolSaturatedError,
  UnsupportedImageError,
  WorkerCrashedError,
} from "../errors/mod.ts";

/** The images of one pair. */
export interface ImagePair {
  source: string;
  target: string;
}

/** Options of {@linkcode ResidentImages}. */
export interface ResidentImagesOptions {
  /** Every pair to be matched, in the order they will be (first uses set the read order). */
  pairs: readonly ImagePair[];
  model: ModelRef;
  resolution: number;
  resize: ResizeMode;
  resample: ResampleMode;
  /** Images extracted ahead of the one a pair waits for (default: one per worker). */
  lookahead?: number;
  /** Stops everything: no job is sent after it aborts, and queued ones are withdrawn. */
  signal?: AbortSignal;
}

/** Counters and worker-side times, in ms summed over workers. */
export interface ResidentImagesStats {
  /** Feature extractions, including any repeated after a worker was lost. */
  extractions: number;
  /** Grids copied from one worker to another. */
  copies: number;
  /** Pairs matched. */
  matches: number;
  /** Reading image bytes (main thread, overlapped with extraction). */
  read: number;
  /** Decoding, preprocessing and running the model, in the workers. */
  extract: number;
  /** Cost volume and localization, in the workers. */
  match: number;
}

const MAX_SATURATED_RETRIES = 200;
/** Times a pair is retried after losing its features (a worker died, an entry was evicted). */
const MAX_LOST_RETRIES = 3;
/** How long to wait for a worker to be ready again, in steps of 100 ms. */
const MAX_READY_WAITS = 600;

/** An evaluation's images, resident in the workers. */
export class ResidentImages {
  #pool: WorkerPool;
  #source: DataSource;
  #options: ResidentImagesOptions;
  #prefix = crypto.randomUUID();
  #order: string[] = [];
  #firstUse = new Map<string, number>();
  #uses = new Map<string, number>();
  #bytes = new Map<string, Promise<Uint8Array>>();
  /** Per image: the workers holding its features, each settled once they do. */
  #holders = new Map<string, Map<number, Promise<void>>>();
  /** Images being extracted before a worker is chosen for them. */
  #extracting = new Map<string, Promise<number>>();
  /** Extractions placed on each worker and not finished. */
  #placed = new Map<number, number>();
  #stats: ResidentImagesStats = {
    extractions: 0,
    copies: 0,
    matches: 0,
    read: 0,
    extract: 0,
    match: 0,
  };

  /**
   * @param pool The worker pool.
   * @param source The dataset's files, opened once for the evaluation.
   * @param options Pairs, model and input options.
   */
  constructor(pool: WorkerPool, source: DataSource, options: ResidentImagesOptions) {
    this.#pool = pool;
    this.#source = source;
    this.#options = options;
    for (const p of options.pairs) {
      for (const path of [p.source, p.target]) {
        if (!this.#firstUse.has(path)) {
          this.#firstUse.set(path, this.#order.length);
          this.#order.push(path);
        }
        this.#uses.set(path, (this.#uses.get(path) ?? 0) + 1);
      }
    }
  }

  /** Counters and times so far. */
  get stats(): Readonly<ResidentImagesStats> {
    return this.#stats;
  }

  /**
   * Matches pairs of one target where the target's features are, extracting
   * what is missing and copying sources held elsewhere to that worker first;
   * all their queries meet the target in one worker call.
   *
   * @param target The target image.
   * @param sources Each pair's source image and query points (source pixels).
   * @param localizer The localizer.
   * @returns Per source, in order: x, y (target pixels) and score per point.
   * @throws {WorkerCrashedError} When workers keep dying under these pairs.
   * @throws {ServiceError} What extraction or matching throws (bad image, points out of bounds...).
   */
  async match(
    target: string,
    sources: readonly { image: string; points: Float32Array }[],
    localizer: LocalizerOptions,
  ): Promise<Float32Array[]> {
    for (let attempt = 0;; attempt++) {
      try {
        for (const path of [target, ...sources.map((s) => s.image)]) this.#runAhead(path);
        await Promise.all([target, ...sources.map((s) => s.image)].map((p) => this.#anyHolder(p)));
        // The target's holder that already has the most sources.
        const held = (w: number) => sources.filter((s) => this.#holdersOf(s.image).has(w)).length;
        const holders = [...this.#holdersOf(target).keys()];
        if (!holders.length) {
          throw new FeaturesNotResidentError(`Cannot match on \`${target}\`: its worker is gone`);
        }
        const worker = holders.reduce((best, w) => held(w) > held(best) ? w : best);
        await Promise.all(
          [target, ...sources.map((s) => s.image)].map((path) => this.#copyTo(path, worker)),
        );
        const r = await this.#run("match_resident", {
          target: this.#key(target),
          sources: sources.map((s) => ({ key: this.#key(s.image), points: s.points })),
          localizer,
        }, { worker });
        this.#stats.matches += sources.length;
        this.#stats.match += r.timings.match;
        return r.matches;
      } catch (e) {
        const lost = e instanceof WorkerCrashedError || e instanceof FeaturesNotResidentError;
        if (!lost || attempt >= MAX_LOST_RETRIES) throw e;
        this.#dropDead();
      }
    }
  }

  /**
   * Marks a pair as done: images no pair needs any more are dropped from
   * the workers that hold them.
   *
   * @param pair The pair's images.
   */
  release(pair: ImagePair): void {
    for (const path of [pair.source, pair.target]) {
      const n = (this.#uses.get(path) ?? 1) - 1;
      this.#uses.set(path, n);
      if (n === 0) this.#forget(path);
    }
  }

  /** Drops every image still held (after an error, or pairs never released). */
  async close(): Promise<void> {
    const pending = [...this.#holders.keys()].map((path) => this.#forget(path));
    await Promise.all(pending);
    this.#bytes.clear();
  }

  #key(path: string): string {
    return featureKey(`${this.#prefix}/${path}`, this.#options);
  }

  #holdersOf(path: string): Map<number, Promise<void>> {
    let holders = this.#holders.get(path);
    if (!holders) {
      holders = new Map();
      this.#holders.set(path, holders);
    }
    return holders;
  }

  /** Starts reading and extracting the images needed right after `path`. */
  #runAhead(path: string): void {
    const lookahead = this.#options.lookahead ?? Math.max(1, this.#pool.readyWorkers().length);
    const first = this.#firstUse.get(path) ?? 0;
    for (let i = first; i <= first + 2 * lookahead && i < this.#order.length; i++) {
      const next = this.#order[i];
      const known = this.#holdersOf(next).size > 0 || this.#extracting.has(next);
      if ((this.#uses.get(next) ?? 0) === 0 || known) continue;
      if (i <= first + lookahead) this.#anyHolder(next).catch(() => {});
      else this.#read(next).catch(() => {});
    }
  }

  #read(path: string): Promise<Uint8Array> {
    let bytes = this.#bytes.get(path);
    if (!bytes) {
      const t0 = performance.now();
      bytes = this.#source.readBytes(path, "image").finally(() => {
        this.#stats.read += performance.now() - t0;
      });
      bytes.catch(() => this.#bytes.delete(path));
      this.#bytes.set(path, bytes);
    }
    return bytes;
  }

  /** A worker holding the image, extracting it on the least busy worker if none does. */
  #anyHolder(path: string): Promise<number> {
    const holders = this.#holdersOf(path);
    const [first] = holders;
    if (first) return first[1].then(() => first[0]);
    let extracted = this.#extracting.get(path);
    if (!extracted) {
      extracted = (async () => {
        // Chosen and counted before any await, so images asked for together spread out.
        const worker = this.#leastBusyWorker() ?? await this.#readyWorker();
        this.#placed.set(worker, (this.#placed.get(worker) ?? 0) + 1);
        const done = this.#extract(path, worker).finally(() => {
          this.#placed.set(worker, this.#placed.get(worker)! - 1);
        });
        this.#hold(path, worker, done);
        await done;
        return worker;
      })();
      // Until a worker holds it, this one promise stands for it: one extraction per image.
      this.#extracting.set(path, extracted);
      extracted.finally(() => this.#extracting.delete(path)).catch(() => {});
    }
    return extracted;
  }

  async #extract(path: string, worker: number): Promise<void> {
    const image = await this.#read(path);
    // The bytes move to the worker; a second extraction (after a crash) reads them again.
    this.#bytes.delete(path);
    const { model, resolution, resize, resample } = this.#options;
    const s = await this.#run("extract_resident", {
      key: this.#key(path),
      image,
      model,
      resolution,
      resize,
      resample,
    }, { worker, transfer: [image.buffer as ArrayBuffer] }).catch((e) => {
      // A dataset image that does not decode is the server's data at fault, not the client's.
      if (
        e instanceof ImageDecodeError || e instanceof UnsupportedImageError ||
        e instanceof ImageTooLargeError
      ) {
        throw new DatasetMalformedError(`Cannot use dataset image ${path}: ${e.message}`, {
          path,
          cause: e,
        });
      }
      throw e;
    });
    this.#stats.extractions++;
    this.#stats.extract += s.timings.decode + s.timings.preprocess + s.timings.extract;
  }

  /** Makes `worker` hold the image, copying its grid from a worker that does. */
  #copyTo(path: string, worker: number): Promise<void> {
    const holders = this.#holdersOf(path);
    const held = holders.get(worker);
    if (held) return held;
    const from = [...holders.keys()].find((w) => w !== worker);
    if (from === undefined) {
      return Promise.reject(
        new FeaturesNotResidentError(
          `Cannot copy the features of \`${path}\`: no worker holds them`,
          {
            details: { key: this.#key(path) },
          },
        ),
      );
    }
    const copied = (async () => {
      await holders.get(from);
      const key = this.#key(path);
      const features = await this.#run("copy_resident", { key }, { worker: from });
      await this.#run("adopt_resident", { key, features }, {
        worker,
        transfer: [features.grid.data.buffer as ArrayBuffer],
      });
      this.#stats.copies++;
    })();
    this.#hold(path, worker, copied);
    return copied;
  }

  #hold(path: string, worker: number, ready: Promise<void>): void {
    const holders = this.#holdersOf(path);
    holders.set(worker, ready);
    ready.catch(() => {
      if (holders.get(worker) === ready) holders.delete(worker);
    });
  }

  /** Forgets that `worker` holds the image its cache evicted (the error names its key). */
  #evicted(error: FeaturesNotResidentError, worker: number): void {
    const key = (error.details as { key?: string } | undefined)?.key;
    for (const [path, holders] of this.#holders) {
      if (this.#key(path) === key) holders.delete(worker);
    }
  }

  /** Forgets the holders that died (their replacements hold nothing). */
  #dropDead(): void {
    const alive = new Set(this.#pool.readyWorkers());
    for (const holders of this.#holders.values()) {
      for (const w of [...holders.keys()]) if (!alive.has(w)) holders.delete(w);
    }
  }

  #forget(path: string): Promise<void> {
    const holders = this.#holders.get(path);
    this.#holders.delete(path);
    this.#bytes.delete(path);
    if (!holders) return Promise.resolve();
    const keys = [this.#key(path)];
    const jobs = [...holders.keys()].map((worker) =>
      // The bounded cache drops it anyway if this cannot run now.
      this.#pool.run("forget_resident", { keys }, { worker }).then(() => {}, () => {})
    );
    return Promise.all(jobs).then(() => {});
  }

  /** The ready worker with the fewest unfinished extractions, if any is ready. */
  #leastBusyWorker(): number | undefined {
    const ready = this.#pool.readyWorkers();
    if (!ready.length) return undefined;
    return ready.reduce((best, w) =>
      (this.#placed.get(w) ?? 0) < (this.#placed.get(best) ?? 0) ? w : best
    );
  }

  /** Waits for a worker to be ready again (after a crash), for up to a minute. */
  async #readyWorker(): Promise<number> {
    for (let wait = 0; wait < MAX_READY_WAITS; wait++) {
      this.#options.signal?.throwIfAborted();
      await new Promise((r) => setTimeout(r, 100));
      const worker = this.#leastBusyWorker();
      if (worker !== undefined) return worker;
    }
    throw new WorkerCrashedError("Cannot evaluate: no worker has been ready for a minute");
  }

  /** Runs a pinned job, waiting (not failing) while the queue is full. */
  async #run<K extends Operation>(
    op: K,
    job: Operations[K]["job"],
    options: { worker: number; transfer?: Transferable[] },
  ): Promise<Operations[K]["result"]> {
    // The evaluation shares the queue with /v1/match traffic: wait rather than fail.
    const signal = this.#options.signal;
    for (let attempt = 0;; attempt++) {
      signal?.throwIfAborted();
      try {
        return await this.#pool.run(op, job, { ...options, signal });
      } catch (e) {
        if (e instanceof FeaturesNotResidentError) this.#evicted(e, options.worker);
        if (!(e instanceof PoolSaturatedError) || attempt >= MAX_SATURATED_RETRIES) throw e;
        await new Promise((r) => setTimeout(r, Math.min(50 * (attempt + 1), 1000)));
      }
    }
  }
}
