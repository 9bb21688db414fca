// This module is browser compatible.
/**
 * Dataset roots given as URLs: which strings are URLs, and which URLs a
 * reader may fetch from. Private to the readers.
 *
 * @module
 */

/**
 * Tells whether a dataset root is a URL (`scheme://...`) rather than a folder.
 *
 * @param root The root as configured.
 * @returns `true` for a URL of any scheme.
 */
export function isUrlRoot(root: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(root);
}

/**
 * Tells whether a URL's host is the local machine: `localhost`, 127.0.0.0/8
 * or `::1` (after the URL parser's normalization, so `127.1` and
 * `[0:0:0:0:0:0:0:1]` count too).
 *
 * @param url The URL.
 * @returns `true` for a loopback host.
 */
export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Checks a root URL: `https://`, or `http://` on a loopback host only; no
 * credentials, query or fragment (each file's URL is built under it).
 *
 * @param root The root as configured.
 * @param setting Where the root came from, for the message (e.g. `DATA_ROOT`).
 * @returns The parsed URL, its path ending with `/`.
 * @throws {RangeError} When the URL cannot be used.
 */
export function checkRootUrl(root: string, setting: string): URL {
  let url: URL;
  try {
    url = new URL(root);
  } catch {
    throw new RangeError(
      `Cannot use dataset root "${root}" from ${setting}: it is not a valid URL`,
    );
  }
  const problem = url.protocol === "https:"
    ? null
    : url.protocol !== "http:"
    ? `scheme ${url.protocol} is not supported, use https://`
    : isLoopbackUrl(url)
    ? null
    : "plain http:// is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost), use https://";
  const shown = problem === null && (url.username !== "" || url.password !== "")
    ? "it holds credentials, which would end up in error messages"
    : problem === null && (url.search !== "" || url.hash !== "" || /[?#]/.test(root))
    ? "it has a query or a fragment, and file URLs are built under its path"
    : problem;
  if (shown !== null) {
    const safe = url.username !== "" || url.password !== ""
      ? `${url.protocol}//***@${url.host}`
      : root;
    throw new RangeError(`Cannot use dataset root "${safe}" from ${setting}: ${shown}`);
  }
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}
