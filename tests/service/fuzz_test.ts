/**
 * The fuzz and fault suite through the real server on 127.0.0.1: a seeded
 * generator sends every route the malformed classes of issue 11 (wrong
 * content types, broken JSON, truncated multipart, huge arrays, deep
 * nesting, unknown fields, odd numbers, oversize bodies, non-image bytes,
 * wrong methods, path traversal, unicode junk, empty bodies) and checks each
 * answer: never a 500, every error a JSON body with a documented code, no
 * body naming a server path, the hub's URL or raw exception text, and the
 * server alive at the end. Then two faults through the server: a model
 * download cut short, and a dataset root that vanishes mid-evaluation.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { toBase64, WILLOW, willowImage, withService } from "../routes/_service.ts";
import { errorCodes } from "../../routes/_on_error.ts";
import { encodePng } from "../../pictures/encode_png.ts";
import { tinyVitDescriptor } from "../fixtures/models.ts";
import { buildTinyVitGraph } from "../fixtures/tiny_vit_graph.ts";
// Seeded, so every run sends the same requests.
import { seededUniform } from "../fixtures/_seeded_normal.ts";
import { concat } from "../fixtures/images.ts";

/** The worktree, which no answer may name. */
const REPO = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const WILLOW_ROOT = fileURLToPath(new URL("..", WILLOW)).replace(/\/$/, "");
const CODES = new Set(errorCodes().map((c) => c.code));

/** One request of the suite. */
interface Case {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: BodyInit;
  /** Extra checks on the answer. */
  check?: (status: number, text: string) => void;
  /**
   * A body far past its limit: the server answers 413 before it has read it
   * all and closes the connection, which a client still sending may see as
   * a reset instead of the answer (HTTP allows both).
   */
  mayCut?: boolean;
}

/** What an answer is checked for, whatever the request. */
function checkAnswer(c: Case, status: number, type: string, text: string, forbidden: string[]) {
  const where = `${c.name}: ${c.method} ${c.path.slice(0, 120)} -> ${status} ${text.slice(0, 300)}`;
  assert.notEqual(status, 500, where);
  assert.ok(status < 500 || status === 503 || status === 504 || status === 507, where);
  if (status >= 400) {
    assert.match(type, /application\/json/, where);
    const body = JSON.parse(text);
    assert.equal(typeof body.error?.code, "string", where);
    assert.ok(CODES.has(body.error.code), `undocumented code: ${where}`);
    assert.equal(typeof body.error.message, "string", where);
  }
  if (/json|text|html|javascript|css/.test(type)) {
    for (const f of forbidden) assert.ok(!text.includes(f), `names ${f}: ${where}`);
    if (status < 400) return;
    for (const raw of ["Maximum call stack", "TypeError", "RangeError", "at file://", "    at "]) {
      assert.ok(!text.includes(raw), `raw exception text ${raw}: ${where}`);
    }
  }
}

/** Strings a client might send where an id, a name or a path goes. */
const JUNK_IDS = [
  "../../etc/passwd",
  "..%2F..%2Fetc%2Fpasswd",
  "%2e%2e%2f%2e%2e%2fdeno.json",
  "....//....//etc/passwd",
  "/etc/passwd",
  "C:\\Windows\\win.ini",
  "..\\..\\deno.json",
  "a%00b",
  "%00",
  "%ff%fe",
  "%E2%80%AE%F0%9F%92%A9",
  "%ED%A0%80",
  "x".repeat(3000),
  "file:%2F%2F%2Fetc%2Fpasswd",
  "hf:%2F%2Fnobody%2Fnothing",
  "embedded:nothing",
  "npm:left-pad@1.3.0%2Findex.js",
];

/** Values that are wrong where a number goes. */
const ODD_NUMBERS = [
  "NaN",
  "Infinity",
  "-Infinity",
  "1e-300",
  "-1",
  "0",
  "-0",
  "1e308",
  "1e400",
  "123456789012345678901234567890",
  "0x10",
  "",
  " ",
  "1,5",
  "\u0661",
];

/** Unicode junk as JSON strings. */
const UNICODE = [
  "\u0000",
  "\ud800",
  "\udfff\ud800",
  "\u202e\u{1f4a9}",
  "\uffff",
  "\ufeff{",
  "é".repeat(5000),
];

/** Percent-encodes, with lone surrogates as the bytes a careless client sends. */
function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return "%ED%A0%80";
  }
}

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)];
}

/** A random-pixel RGB PNG. */
function noisePng(rand: () => number, width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(rand() * 256);
  return encodePng({ width, height, data });
}

/** A multipart body written out by hand (so it can be cut anywhere), with its content type. */
function multipart(fields: Record<string, string | Uint8Array>, boundary: string) {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const [k, v] of Object.entries(fields)) {
    const file = typeof v === "string" ? "" : `; filename="${k}.png"`;
    parts.push(
      enc.encode(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"${file}\r\n\r\n`),
    );
    parts.push(typeof v === "string" ? enc.encode(v) : v, enc.encode("\r\n"));
  }
  parts.push(enc.encode(`--${boundary}--\r\n`));
  return { bytes: concat(...parts), type: `multipart/form-data; boundary=${boundary}` };
}

/** Non-image bytes in many shapes. */
function junkImage(rand: () => number, png: Uint8Array): Uint8Array {
  const kind = Math.floor(rand() * 7);
  const random = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  switch (kind) {
    case 0:
      return new Uint8Array(0);
    case 1:
      return new TextEncoder().encode("<html>not an image</html>");
    case 2:
      return png.slice(0, Math.max(9, Math.floor(rand() * png.length)));
    case 3:
      return Uint8Array.from([...png.slice(0, 8), ...random(200)]);
    case 4:
      return new TextEncoder().encode("GIF89a" + "\0".repeat(30));
    case 5:
      return Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, ...random(300)]);
    default:
      return random(1 + Math.floor(rand() * 2000));
  }
}

/** The routes, from `routes/app.ts`, with a valid-looking body for the POST ones. */
const GET_ROUTES = [
  "/healthz",
  "/readyz",
  "/v1/models",
  "/v1/models/{id}",
  "/v1/leaderboard",
  "/v1/datasets",
  "/v1/datasets/{id}/pairs",
  "/v1/datasets/pfwillow/image",
  "/v1/jobs",
  "/v1/jobs/{id}",
  "/v1/jobs/{id}/events",
  "/openapi.json",
  "/docs",
  "/docs/{id}",
  "/demo",
  "/demo/{id}",
];
const IMAGE_ROUTES = ["/v1/match", "/v1/visualize", "/v1/features"];
const JSON_ROUTES = ["/v1/evaluate", "/v1/jobs"];

/** Generates the suite's requests from `seed`. */
function generate(seed: number, png: Uint8Array, hubModel: string): Case[] {
  const rand = seededUniform(seed);
  const out: Case[] = [];
  const b64 = toBase64(png);
  const imageFields = (route: string) =>
    route === "/v1/features" ? { image: b64 } : { source: b64, target: b64 };
  const validJson = (route: string): Record<string, unknown> =>
    IMAGE_ROUTES.includes(route)
      ? { ...imageFields(route), ...(route === "/v1/features" ? {} : { points: [[10, 10]] }) }
      // An unconfigured dataset: a body that turns out valid costs nothing.
      : { dataset: "spair", limit: 2 };
  const json = (
    route: string,
    body: unknown,
    name: string,
    check?: Case["check"],
    mayCut = false,
  ): Case => ({
    name,
    mayCut,
    method: "POST",
    path: route,
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    check,
  });
  const form = (fields: Record<string, string | Uint8Array>): FormData => {
    const f = new FormData();
    for (const [k, v] of Object.entries(fields)) {
      if (typeof v === "string") f.set(k, v);
      else f.set(k, new Blob([v as BlobPart]), `${k}.png`);
    }
    return f;
  };
  const validForm = (route: string): Record<string, string | Uint8Array> =>
    route === "/v1/features" ? { image: png } : { source: png, target: png, points: "[[10,10]]" };
  const fill = (p: string) => p.replace("{id}", encodeURIComponent(pick(rand, JUNK_IDS)));
  const rawFill = (p: string) => p.replace("{id}", pick(rand, JUNK_IDS));

  for (const route of [...IMAGE_ROUTES, ...JSON_ROUTES]) {
    // Wrong content types, and empty bodies under every type.
    for (
      const type of [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "foo/bar; charset=\u00ff",
        "application/json-seq",
        "",
      ]
    ) {
      // No type given: fetch sends a string as text/plain.
      out.push({
        name: "wrong content type",
        method: "POST",
        path: route,
        headers: type ? { "content-type": type } : {},
        body: JSON.stringify(validJson(route)),
        check: (s) => assert.equal(s, 415),
      });
    }
    for (const type of ["application/json", "multipart/form-data; boundary=x", "text/plain"]) {
      out.push({
        name: "empty body",
        method: "POST",
        path: route,
        headers: { "content-type": type },
        body: "",
        check: (s) => assert.ok(s >= 400 && s < 500, `${s}`),
      });
    }
    // Broken JSON.
    const whole = JSON.stringify(validJson(route));
    for (let i = 0; i < 12; i++) {
      const broken = pick(rand, [
        () => whole.slice(0, Math.floor(rand() * whole.length)),
        () => whole.replace(/[:,]/, ""),
        () => whole + ",",
        () => `{"a":NaN}`,
        () => `{"a":Infinity}`,
        () => whole.replace("{", "["),
        () => `{'dataset':'pfwillow'}`,
        () => "null",
        () => "[]",
        () => '"a string"',
        () => "1e400",
      ])();
      out.push(json(route, broken, "broken JSON", (s) => assert.ok(s >= 400 && s < 500, `${s}`)));
    }
    // Deep nesting in every field, and a huge invalid array.
    for (const depth of [40, 1000, 100_000]) {
      const deep = "[".repeat(depth) + "]".repeat(depth);
      const key = pick(rand, Object.keys(validJson(route)));
      out.push(json(
        route,
        whole.replace(/^\{/, `{"${key}":${deep},`).replace(new RegExp(`,"${key}":[^,}]*`), ""),
        "deep nesting",
        (s) => assert.ok(s >= 400 && s < 500, `${s}`),
      ));
      out.push(json(route, `{"x":{"y":${deep}}}`, "deep nesting in an unknown field"));
    }
    const field = IMAGE_ROUTES.includes(route)
      ? (route === "/v1/features" ? "image" : "points")
      : "pair_ids";
    const huge = JSON.stringify(Array.from({ length: 300_000 }, (_, i) => (i % 3 ? i : [i])));
    out.push(json(
      route,
      whole.replace(/^\{/, `{"${field}":${huge},`).replace(
        new RegExp(`,"${field}":("[^"]*"|\\[\\[[^\\]]*\\]\\])`),
        "",
      ),
      "300,000-item invalid array",
      (s, text) => {
        assert.ok(s >= 400 && s < 500, `${s}`);
        assert.ok(text.length < 64 * 1024, `${text.length} bytes`);
      },
    ));
    // Unknown fields, unicode junk and odd numbers.
    for (let i = 0; i < 20; i++) {
      const body: Record<string, unknown> = { ...validJson(route) };
      const kind = Math.floor(rand() * 4);
      const key = pick(rand, [
        "sigma",
        "temperature",
        "resolution",
        "window",
        "model",
        "localizer",
        "resize",
        "alphas",
        "limit",
        "offset",
        "shard",
        "shards",
        "split",
        "categories",
        "__proto__",
        "constructor",
        pick(rand, UNICODE),
      ]);
      const set = (k: string, value: unknown) =>
        Object.defineProperty(body, k, { value, enumerable: true, configurable: true });
      if (kind === 0) set(key, pick(rand, UNICODE));
      else if (kind === 1) set(key, Number(pick(rand, ODD_NUMBERS)));
      else if (kind === 2) set(key, [pick(rand, UNICODE), Number(pick(rand, ODD_NUMBERS))]);
      else set(`unknown_${i}`, { nested: pick(rand, UNICODE) });
      let text = JSON.stringify(body);
      // JSON has no NaN or Infinity: send the literal numbers too.
      if (rand() < 0.3) text = text.replace(/null/, pick(rand, ["1e400", "-1e400", "1e-400"]));
      out.push(json(route, text, `field ${kind}`));
    }
    if (route !== "/v1/features" && IMAGE_ROUTES.includes(route)) {
      for (const v of ["1e-300", "1e-320", "5e-324", "1e300", "1e400"]) {
        out.push(json(
          route,
          JSON.stringify({ ...validJson(route), localizer: "kernel-softargmax" }).replace(
            /\}$/,
            `,"sigma":${v},"temperature":${v}}`,
          ),
          `sigma ${v}`,
          (s, text) => {
            if (s === 200 && route === "/v1/match") {
              for (const m of JSON.parse(text).matches) {
                assert.ok(Number.isFinite(m.x) && Number.isFinite(m.y), text.slice(0, 300));
              }
            } else if (route === "/v1/match") assert.equal(s, 422, text.slice(0, 300));
          },
        ));
      }
      for (let i = 0; i < 6; i++) {
        const points = [[Number(pick(rand, ODD_NUMBERS)), Number(pick(rand, ODD_NUMBERS))]];
        out.push(json(route, { ...validJson(route), points }, "odd point"));
      }
    }
    if (IMAGE_ROUTES.includes(route)) {
      // Multipart: truncated, odd fields, non-image bytes.
      for (let i = 0; i < 10; i++) {
        const { bytes, type } = multipart(validForm(route), `fuzz${i}`);
        out.push({
          name: "truncated multipart",
          method: "POST",
          path: route,
          headers: { "content-type": type },
          body: bytes.slice(0, Math.floor(rand() * (bytes.length - 1))),
          check: (s) => assert.ok(s >= 400 && s < 500, `${s}`),
        });
      }
      for (let i = 0; i < 16; i++) {
        const fields = validForm(route);
        const kind = Math.floor(rand() * 4);
        const imageKey = route === "/v1/features" ? "image" : pick(rand, ["source", "target"]);
        const optionKey = pick(rand, ["sigma", "resolution", "window", "temperature"]);
        const textKey = pick(rand, ["model", "resize", "localizer"]);
        const badPoints = ["[[1]]", "[[NaN,1]]", "{}", "[[1e400,1]]", "[".repeat(5000)];
        switch (kind) {
          case 0:
            fields[imageKey] = junkImage(rand, png);
            break;
          case 1:
            fields[optionKey] = pick(rand, ODD_NUMBERS);
            break;
          case 2:
            fields[textKey] = pick(rand, [...JUNK_IDS, ...UNICODE]);
            break;
          default:
            fields.points = pick(rand, badPoints);
        }
        out.push({
          name: `form ${kind}`,
          method: "POST",
          path: route,
          body: form(fields),
          check: kind === 0 ? (s) => assert.ok(s >= 400 && s < 500, `${s}`) : undefined,
        });
      }
      out.push({
        name: "multipart with a bad boundary",
        method: "POST",
        path: route,
        headers: { "content-type": "multipart/form-data; boundary=" },
        body: "--\r\n\r\n--",
      });
      out.push(
        json(route, { ...validJson(route), model: hubModel }, "a hub model that cannot load"),
      );
    }
    // Wrong methods.
    for (
      const method of route === "/v1/jobs" ? ["PUT", "PATCH"] : ["GET", "PUT", "PATCH", "DELETE"]
    ) {
      out.push({
        name: "wrong method",
        method,
        path: route,
        check: (s) => assert.ok([404, 405].includes(s), `${s}`),
      });
    }
  }
  // Oversize bodies.
  out.push(json(
    "/v1/evaluate",
    JSON.stringify({ dataset: "pfwillow", padding: "x".repeat(50_000_000) }),
    "50 MB evaluate",
    (s) => assert.equal(s, 413),
    true,
  ));
  out.push(json(
    "/v1/match",
    JSON.stringify({ ...validJson("/v1/match"), padding: "x".repeat(50_000_000) }),
    "50 MB padded match",
    (s) => assert.equal(s, 413),
    true,
  ));
  const padded = multipart({ ...validForm("/v1/match"), padding: "x".repeat(50_000_000) }, "pad");
  out.push({
    name: "50 MB padded multipart match",
    method: "POST",
    path: "/v1/match",
    headers: { "content-type": padded.type },
    body: padded.bytes,
    check: (s) => assert.equal(s, 413),
    mayCut: true,
  });
  // GET routes: junk ids, junk queries, wrong methods.
  for (const route of GET_ROUTES) {
    for (let i = 0; i < 8; i++) {
      const query = pick(rand, [
        "",
        `?limit=${encodeURIComponent(pick(rand, ODD_NUMBERS))}`,
        `?offset=${encodeURIComponent(pick(rand, ODD_NUMBERS))}`,
        `?path=${encodeURIComponent(pick(rand, JUNK_IDS))}`,
        `?path=${encodeURIComponent(pick(rand, JUNK_IDS))}.png`,
        `?path=..%2F..%2F..%2F..%2Fetc%2Fpasswd%00.png`,
        `?split=${enc(pick(rand, UNICODE))}`,
        `?dataset=${encodeURIComponent(pick(rand, JUNK_IDS))}&sort=${enc(pick(rand, UNICODE))}`,
        `?resolution=${encodeURIComponent(pick(rand, ODD_NUMBERS))}&sigma=1e-300`,
        "?" + "a=1&".repeat(2000),
      ]);
      out.push({ name: "junk query", method: "GET", path: fill(route) + query });
      if (route.includes("{id}")) {
        out.push({ name: "raw junk id", method: "GET", path: rawFill(route) });
      }
    }
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      out.push({
        name: "wrong method",
        method,
        path: fill(route),
        headers: { "content-type": "application/json" },
        body: "{}",
      });
    }
  }
  // A path that leaves the dataset root is the client's fault here.
  for (
    const p of ["../../etc/passwd.png", "/etc/x.png", "a\0b.png", "C:\\x.png", "..\\..\\x.png"]
  ) {
    out.push({
      name: "dataset image traversal",
      method: "GET",
      path: `/v1/datasets/pfwillow/image?path=${encodeURIComponent(p)}`,
      check: (s, text) => {
        assert.equal(s, 422);
        assert.equal(JSON.parse(text).error.code, "invalid_request");
      },
    });
  }
  for (let i = 0; i < 20; i++) {
    const id = encodeURIComponent(pick(rand, JUNK_IDS));
    out.push({
      name: "junk job",
      method: pick(rand, ["DELETE", "POST"]),
      path: `/v1/jobs/${id}${rand() < 0.5 ? "/save" : ""}`,
    });
    out.push({ name: "junk route", method: "GET", path: `/v1/${id}/${enc(pick(rand, UNICODE))}` });
  }
  return out;
}

Deno.test("fuzz: malformed requests on every route get 4xx JSON with a code, no 500, no leak, and the server lives", async () => {
  const dir = await Deno.makeTempDir();
  const hub = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("no", { status: 404 }),
  );
  const hubUrl = `http://127.0.0.1:${hub.addr.port}`;
  const rand = seededUniform(11);
  const png = noisePng(rand, 48, 40);
  const env = {
    DATA_PFWILLOW: WILLOW_ROOT,
    DATA_SPAIR: `${dir}/no-spair`,
    DATA_PFPASCAL: `${dir}/no-pascal`,
    DATA_AP10K: `${dir}/no-ap10k`,
    RUNS_DIR: `${dir}/runs`,
    MODEL_CACHE: `${dir}/cache`,
    HF_ENDPOINT: hubUrl,
    RATE_LIMIT: "0",
    EVALUATE_MAX_PAIRS: "1",
    // A handcrafted model: the valid requests the fuzz makes cost little.
    DEFAULT_MODEL: "dsift",
  };
  const forbidden = [REPO, "/tmp/", "/work/", "/root/", dir, hubUrl, `127.0.0.1:${hub.addr.port}`];
  try {
    await withService(env, async (url) => {
      const hubModel = (await (await fetch(`${url}/v1/models`)).json()).models.map((
        m: { id: string },
      ) => m.id)
        .find((id: string) => id.startsWith("dinov2"));
      assert.ok(hubModel, "a hub model to fail on");
      const cases = generate(0x5eed, png, hubModel);
      const statuses = new Map<number, number>();
      const failures: string[] = [];
      let cut = 0;
      let i = 0;
      const worker = async () => {
        while (i < cases.length) {
          const c = cases[i++];
          let res;
          try {
            res = await fetch(`${url}${c.path}`, {
              method: c.method,
              headers: c.headers,
              body: c.body,
            });
          } catch (e) {
            if (c.mayCut) {
              cut++;
              continue;
            }
            failures.push(`${c.name}: ${c.method} ${c.path}: ${(e as Error).message}`);
            continue;
          }
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          try {
            checkAnswer(c, res.status, res.headers.get("content-type") ?? "", text, forbidden);
            c.check?.(res.status, text);
          } catch (e) {
            const what = `${c.name}: ${c.method} ${c.path.slice(0, 80)} ${
              typeof c.body === "string" ? c.body.slice(0, 80) : ""
            } -> ${res.status} ${text.slice(0, 200)}: ${(e as Error).message.slice(0, 400)}`;
            failures.push(what);
          }
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      console.log(
        `${cases.length} requests (${cut} oversize bodies cut before the answer); statuses`,
        Object.fromEntries(statuses),
      );
      assert.deepEqual(failures, []);
      assert.ok(cases.length >= 500, `${cases.length} requests`);
      assert.equal(statuses.get(500) ?? 0, 0);
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: "ok" });
    });
  } finally {
    await hub.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a model download cut short without Content-Length: a clear 503, nothing cached, and the whole file serves later", async () => {
  const dir = await Deno.makeTempDir();
  const model = buildTinyVitGraph({ seed: 3 });
  let whole = false;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    const bytes = whole ? model : model.slice(0, Math.floor(model.length / 2));
    // A stream: chunked, no Content-Length, so only the bytes can tell.
    return new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(bytes);
          c.close();
        },
      }),
    );
  });
  const config = `${dir}/models.json`;
  const modelUrl = `http://127.0.0.1:${server.addr.port}/tiny.onnx`;
  await Deno.writeTextFile(config, JSON.stringify([tinyVitDescriptor("tiny-remote", modelUrl)]));
  const image = toBase64(await willowImage("car(G)/Cars_006a.png"));
  const cache = `${dir}/cache`;
  try {
    await withService(
      { MODELS_CONFIG: config, MODEL_CACHE: cache, RATE_LIMIT: "0" },
      async (url) => {
        const features = async () => {
          const res = await fetch(`${url}/v1/features`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ image, model: "tiny-remote", resolution: 112 }),
          });
          return { status: res.status, text: await res.text() };
        };
        const cut = await features();
        assert.equal(cut.status, 503, cut.text);
        const error = JSON.parse(cut.text).error;
        assert.equal(error.code, "model_unavailable");
        assert.match(error.message, /tiny-remote/);
        for (const f of [dir, "/tmp/", "/work/", REPO]) assert.ok(!cut.text.includes(f), cut.text);
        // No cache entry: a sidecar is what makes a file count as cached.
        const entries: string[] = [];
        try {
          for await (const e of Deno.readDir(cache)) entries.push(e.name);
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        }
        for (const sub of entries) {
          for await (const f of Deno.readDir(`${cache}/${sub}`)) {
            assert.ok(!f.name.endsWith(".json"), `cached: ${sub}/${f.name}`);
          }
        }
        whole = true;
        const ok = await features();
        assert.equal(ok.status, 200, ok.text);
        assert.equal(JSON.parse(ok.text).model, "tiny-remote");
      },
    );
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a dataset root that vanishes mid-evaluation: dataset_unavailable naming the file relative to the root", async () => {
  const dir = await Deno.makeTempDir();
  const link = `${dir}/willow`;
  await Deno.symlink(WILLOW_ROOT, link);
  try {
    await withService({ DATA_PFWILLOW: link, RATE_LIMIT: "0" }, async (url) => {
      const res = await fetch(`${url}/v1/evaluate`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/x-ndjson" },
        body: JSON.stringify({ dataset: "pfwillow", resolution: 112 }),
      });
      assert.equal(res.status, 200);
      let last:
        | { type: string; error?: { code: string; message: string; details?: unknown } }
        | undefined;
      let buffer = "";
      const decoder = new TextDecoder();
      for await (const chunk of res.body!) {
        buffer += decoder.decode(chunk, { stream: true });
        let nl;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (!line) continue;
          last = JSON.parse(line);
          // The first pair is scored: the root goes away under the evaluation.
          if (last!.type === "progress" && (await Deno.lstat(link).then(() => true, () => false))) {
            await Deno.remove(link);
          }
        }
      }
      assert.equal(last?.type, "error", JSON.stringify(last));
      assert.equal(last!.error!.code, "dataset_unavailable");
      assert.match(last!.error!.message, /root folder is gone/);
      const text = JSON.stringify(last);
      assert.match(text, /PF-dataset\//);
      for (const f of [dir, "/tmp/", "/work/", REPO]) assert.ok(!text.includes(f), text);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
