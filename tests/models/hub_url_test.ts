import assert from "node:assert/strict";
import { resolveHubUrl } from "../../models/hub_url.ts";

Deno.test("resolveHubUrl() builds resolve URLs", async (t) => {
  await t.step("default endpoint and revision", () => {
    assert.equal(
      resolveHubUrl("hf://onnx-community/dinov2-base/onnx/model.onnx"),
      "https://huggingface.co/onnx-community/dinov2-base/resolve/main/onnx/model.onnx",
    );
  });
  await t.step("revision, with a percent-encoded slash", () => {
    assert.equal(
      resolveHubUrl("hf://acme/vit@refs%2Fpr%2F3/model.onnx"),
      "https://huggingface.co/acme/vit/resolve/refs%2Fpr%2F3/model.onnx",
    );
    assert.equal(
      resolveHubUrl("hf://acme/vit@0123abcd/a/b/model.onnx"),
      "https://huggingface.co/acme/vit/resolve/0123abcd/a/b/model.onnx",
    );
  });
  await t.step("endpoint with a path and trailing slashes", () => {
    assert.equal(
      resolveHubUrl("hf://acme/vit/model.onnx", { endpoint: "https://mirror.example/hf//" }),
      "https://mirror.example/hf/acme/vit/resolve/main/model.onnx",
    );
  });
  await t.step("file names are percent-encoded", () => {
    assert.equal(
      resolveHubUrl("hf://acme/vit/my model.onnx"),
      "https://huggingface.co/acme/vit/resolve/main/my%20model.onnx",
    );
  });
});

Deno.test("resolveHubUrl() rejects malformed URLs", () => {
  for (
    const url of [
      "https://huggingface.co/acme/vit/model.onnx",
      "hf://acme/model.onnx",
      "hf://acme/vit/",
      "hf://acme/vit/../../etc/passwd",
      "hf://acme/vit/%2E%2E/x.onnx",
      "hf://acme/vit/a%2Fb.onnx",
      "hf://ac me/vit/model.onnx",
      "hf://acme/vit@/model.onnx",
      "hf://acme/vit@a%2F..%2Fb/model.onnx",
      "hf://acme/vit/%zz.onnx",
    ]
  ) {
    assert.throws(() => resolveHubUrl(url), TypeError, url);
  }
});
