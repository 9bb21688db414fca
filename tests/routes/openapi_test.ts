import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import { createApp } from "../../routes/app.ts";
import { errorCodes } from "../../routes/_on_error.ts";
import { loadConfig } from "../../service/config.ts";
import type { Services } from "../../routes/app_env.ts";
import { matchForm, willowImage, withService } from "./_service.ts";

/** The app's routes as `METHOD /openapi/{path}`, middleware left out. */
function appRoutes(): string[] {
  // Building the app reads only the settings and keys; its routes are the real table.
  const app = createApp({ config: loadConfig({}), apiKeys: [] } as unknown as Services);
  const out = new Set<string>();
  for (const r of app.routes) {
    if (r.method === "ALL") continue;
    out.add(`${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
  }
  return [...out].sort();
}

// deno-lint-ignore no-explicit-any
type Doc = any;

function documented(doc: Doc): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, object>)) {
    for (const method of Object.keys(item)) out.push(`${method.toUpperCase()} ${path}`);
  }
  return out.sort();
}

Deno.test("GET /openapi.json is valid OpenAPI 3.1, lists every route and describes real answers", async (t) => {
  const ENV = { DATA_PFWILLOW: "../shared/data/pf-willow" };
  await withService(ENV, async (url) => {
    const res = await fetch(`${url}/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const doc: Doc = await res.json();

    await t.step("validates as OpenAPI 3.1", async () => {
      const validator = new Validator();
      const result = await validator.validate(doc);
      assert.equal(validator.version, "3.1");
      assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1));
    });

    await t.step("every route of the app is in it, and nothing else", () => {
      assert.deepEqual(documented(doc), appRoutes());
    });

    await t.step("both request forms of the image routes, points as JSON in multipart", () => {
      for (const path of ["/v1/match", "/v1/visualize", "/v1/features"]) {
        const content = doc.paths[path].post.requestBody.content;
        assert.deepEqual(Object.keys(content).sort(), ["application/json", "multipart/form-data"]);
      }
      const multipart = doc.paths["/v1/match"].post.requestBody.content["multipart/form-data"];
      assert.deepEqual(multipart.schema.required.sort(), ["points", "source", "target"]);
      assert.equal(multipart.encoding.points.contentType, "application/json");
      const body = doc.paths["/v1/match"].post.requestBody.content["application/json"].schema;
      assert.deepEqual(body.properties.localizer.enum, [
        "nn",
        "bilinear",
        "softargmax",
        "kernel-softargmax",
        "window-softargmax",
      ]);
      assert.equal(
        doc.paths["/v1/visualize"].post.requestBody.content["application/json"].schema
          .properties.heatmap.anyOf.length,
        2,
      );
    });

    await t.step("the error body lists every code of the one table, by status", () => {
      const codes = doc.components.schemas.Error.properties.error.properties.code.enum;
      assert.deepEqual([...codes].sort(), [...new Set(errorCodes().map((c) => c.code))].sort());
      for (const { status, code } of errorCodes()) {
        assert.match(doc.components.responses[`E${status}`].description, new RegExp(`\`${code}\``));
      }
    });

    // deno-lint-ignore no-explicit-any
    const ajv = new Ajv2020({ strict: false, allErrors: true }) as any;
    const check = (schema: object, value: unknown, what: string) => {
      const validate = ajv.compile(schema);
      assert.ok(validate(value), `${what}: ${JSON.stringify(validate.errors?.slice(0, 5))}`);
    };
    const answer = (path: string, method: string, status = "200") =>
      doc.paths[path][method].responses[status].content["application/json"].schema;

    await t.step("real answers fit their schemas", async () => {
      const source = await willowImage("car(G)/Cars_006a.png");
      const target = await willowImage("car(G)/Cars_007a.png");
      const match = await fetch(`${url}/v1/match`, {
        method: "POST",
        body: matchForm(source, target, [[120, 80]]),
      });
      check(answer("/v1/match", "post"), await match.json(), "match");
      check(answer("/v1/models", "get"), await (await fetch(`${url}/v1/models`)).json(), "models");
      check(answer("/healthz", "get"), await (await fetch(`${url}/healthz`)).json(), "healthz");
      check(answer("/readyz", "get"), await (await fetch(`${url}/readyz`)).json(), "readyz");
      const list = await (await fetch(`${url}/v1/datasets`)).json();
      check(answer("/v1/datasets", "get"), list, "datasets");
      const pairs = await (await fetch(`${url}/v1/datasets/pfwillow/pairs?limit=2`)).json();
      check(answer("/v1/datasets/{name}/pairs", "get"), pairs, "pairs");
      const report = await (await fetch(`${url}/v1/evaluate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ dataset: "pfwillow", limit: 2, frame: "both", model: "dsift" }),
      })).json();
      check(answer("/v1/evaluate", "post"), report, "evaluate");
      const board = await (await fetch(`${url}/v1/leaderboard?table=XII`)).json();
      check(answer("/v1/leaderboard", "get"), board, "leaderboard");
      const error = await (await fetch(`${url}/v1/models/nope`)).json();
      check(doc.components.schemas.Error, error, "error");
    });
  });
});
