/**
 * Starts the semantic correspondence service: reads the settings once, wires
 * the services (registry, models, worker pool) on the default model, and
 * serves the API.
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

/** A running service. */
export interface RunningService {
  /** Base URL, e.g. `http://127.0.0.1:8000`. */
  url: string;
  /** Resolves when the default model is loaded and has run once in every worker. */
  ready: Promise<void>;
  /** Stops the server and the workers. */
  close(): Promise<void>;
}

/**
 * Starts the service.
 *
 * @param config Settings (see `service/config.ts`).
 * @param options `workerUrl` replaces the worker module (fault tests); `quiet` skips the log line.
 * @returns The running service.
 * @throws {TypeError} When `MODELS_CONFIG` names an invalid file.
 */
export async function startService(
  config: ServiceConfig,
  options: { workerUrl?: URL; quiet?: boolean } = {},
): Promise<RunningService> {
  const services = await createServices(config, { workerUrl: options.workerUrl });
  services.ready.catch((e) => console.error("Default model failed to load:", e));
  const app = createApp(services);
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: () => {},
  }, app.fetch);
  const addr = server.addr;
  const host = addr.hostname === "0.0.0.0" ? "127.0.0.1" : addr.hostname;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${addr.port}`;
  if (!options.quiet) console.log(`Listening on ${url} (workers starting; see /readyz)`);
  return {
    url,
    ready: services.ready,
    async close() {
      await server.shutdown();
      await services.dispose();
    },
  };
}

if (import.meta.main) {
  const service = await startService(loadConfig(Deno.env.toObject()));
  service.ready.then(() => console.log("Ready: default model loaded"));
  const stop = async () => {
    await service.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
