/**
 * Headless Chromium for the browser tests: Debian's `chromium` driven by
 * `playwright-core`, with a fresh profile each time and every request that
 * leaves the loopback refused (and recorded), so a page that needs the
 * network fails the test instead of fetching.
 *
 * @module
 */

import { type BrowserContext, chromium } from "playwright-core";

/** Where Debian installs Chromium (`apt-get install -y chromium`; `.ci/run` does it). */
export const CHROMIUM = "/usr/bin/chromium";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Why the browser tests cannot run here, or null when they can.
 *
 * @returns The reason, or null.
 */
export function noBrowserReason(): string | null {
  try {
    Deno.statSync(CHROMIUM);
    return null;
  } catch {
    return `no Chromium at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it as root)`;
  }
}

/** What a browser session saw of the network. */
export interface BrowserSession {
  context: BrowserContext;
  /** Every URL requested that is not on 127.0.0.1 (each was refused). */
  offLoopback: string[];
  /** Messages the pages logged as errors, and uncaught exceptions. */
  pageErrors: string[];
}

/**
 * Runs `fn` with a fresh headless Chromium.
 *
 * @param fn The test body.
 */
export async function withBrowser(fn: (session: BrowserSession) => Promise<void>): Promise<void> {
  const profile = await Deno.makeTempDir({ prefix: "semcorr-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    // The flags above, headless included; Playwright's own headless switch off.
    headless: false,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  const session: BrowserSession = { context, offLoopback: [], pageErrors: [] };
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1" || url.protocol === "data:" || url.protocol === "blob:") {
      return route.continue();
    }
    session.offLoopback.push(url.href);
    return route.abort("blockedbyclient");
  });
  context.on("page", (page) => {
    page.on("pageerror", (e) => session.pageErrors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") session.pageErrors.push(`${m.text()} (${m.location().url})`);
    });
    page.on("response", async (r) => {
      if (r.status() >= 400) {
        session.pageErrors.push(`${r.status()} ${r.url()}: ${await r.text().catch(() => "")}`);
      }
    });
  });
  try {
    await fn(session);
  } finally {
    await context.close();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}
