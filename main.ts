/**
 * Starts the semantic correspondence service: reads the settings once, wires
 * the services (registry, models, worker pool) on the default model, and
 * serves the API until SIGINT or SIGTERM, then drains.
 *
 * ```sh
 * npx -y deno@2.9.6 task start
 * ```
 *
 * @module
 */

import { createApp } from "./routes/app.ts";
import { loadConfig, type ServiceConfig } from "./service/config.ts";
import { createServices } from "./service/services.ts";
import { HttpServer, type ShutdownReport } from "./service/http_server.ts";
import { connectionCap, raiseFdLimit } from "./service/fd_limit.ts";
import { listenAddress } from "./service/listen_address.ts";
import { startMallocTrim } from "./service/malloc_trim.ts";

/** A running service. */
export interface RunningService {
  /** Base URL to reach it from this machine, e.g. `http://127.0.0.1:8000` (loopback for a wildcard bind). */
  url: string;
  /** Resolves when the default model is loaded and has run once in every worker. */
  ready: Promise<void>;
  /**
   * Stops accepting, lets requests in flight finish within the drain time
   * (`DRAIN_MS`), cuts the rest, and stops the workers.
   */
  close(): Promise<ShutdownReport & { jobs: string }>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * Starts the service.
 *
 * @param config Settings (see `service/config.ts`).
 * @param options `workerUrl` replaces the worker module (fault tests); `quiet` skips the log lines.
 * @returns The running service.
 * @throws {TypeError} When `MODELS_CONFIG` or `API_KEYS_FILE` names an invalid file.
 */
export async function startService(
  config: ServiceConfig,
  options: { workerUrl?: URL; quiet?: boolean } = {},
): Promise<RunningService> {
  const log = options.quiet ? () => {} : (line: string) => console.log(line);
  const { limit, note } = await raiseFdLimit();
  const services = await createServices(config, { workerUrl: options.workerUrl });
  services.ready.catch((e) => console.error("Default model failed to load:", e));
  const app = createApp(services);
  const trim = startMallocTrim({
    intervalMs: config.server.mallocTrimMs,
    idle: () => services.pool.stats().busy === 0,
  });
  if (trim.note && config.server.mallocTrimMs > 0) log(`Giving freed memory back: ${trim.note}`);
  const maxConnections = config.server.maxConnections ?? connectionCap(limit);
  const server = HttpServer.listen((req, info) => app.fetch(req, info), {
    hostname: config.host,
    port: config.port,
    maxConnections,
    headerTimeoutMs: config.server.headerTimeoutMs,
    bodyTimeoutMs: config.server.bodyTimeoutMs,
    idleTimeoutMs: config.server.idleTimeoutMs,
    onWarning: (m) => console.warn(m),
  });
  const addr = server.addr;
  const { url, line } = listenAddress(addr);
  log(
    `Listening on ${line} (workers starting; see /readyz); up to ${maxConnections} connections` +
      (limit ? ` (open-file limit ${limit.soft}${note ? `: ${note}` : ""})` : ""),
  );
  if (services.apiKeys.length === 0 && !LOOPBACK.test(config.host)) {
    log(
      `Warning: listening on ${config.host} without API_KEYS: anyone who can reach port ` +
        `${addr.port} can run matches and evaluations. Set API_KEYS, or HOST=127.0.0.1 for local use.`,
    );
  }
  return {
    url,
    ready: services.ready,
    async close() {
      // Requests in flight and the job shard in hand drain side by side.
      const [report, jobs] = await Promise.all([
        server.shutdown(config.server.drainMs),
        services.dispose(config.server.drainMs),
      ]);
      trim.stop();
      return { ...report, jobs };
    },
  };
}

if (import.meta.main) {
  const config = loadConfig(Deno.env.toObject());
  const service = await startService(config);
  // A failed load is logged by startService; the process stays up for /healthz.
  service.ready.then(() => console.log("Ready: default model loaded"), () => {});
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const t0 = performance.now();
    console.log(`${signal}: draining for up to ${config.server.drainMs} ms`);
    const report = await service.close();
    console.log(
      `Stopped after ${Math.round(performance.now() - t0)} ms: ${report.finished} request(s) ` +
        `finished, ${report.cut} connection(s) cut; jobs: ${report.jobs}`,
    );
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
}
