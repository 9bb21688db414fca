import assert from "node:assert/strict";
import { datasetRoot } from "../../datasets/roots.ts";

Deno.test("datasetRoot() prefers the dataset's own variable, then DATA_ROOT, then ./data", async (t) => {
  await t.step("defaults", () => {
    assert.equal(datasetRoot("spair", {}), "./data/SPair-71k");
    assert.equal(datasetRoot("pfpascal", {}), "./data/pf-pascal");
    assert.equal(datasetRoot("pfwillow", {}), "./data/pf-willow");
    assert.equal(datasetRoot("ap10k", {}), "./data/ap-10k");
  });
  await t.step("DATA_ROOT, with or without a trailing slash", () => {
    assert.equal(datasetRoot("pfwillow", { DATA_ROOT: "/srv/data" }), "/srv/data/pf-willow");
    assert.equal(datasetRoot("spair", { DATA_ROOT: "/srv/data/" }), "/srv/data/SPair-71k");
  });
  await t.step("own variables win", () => {
    const env = {
      DATA_ROOT: "/srv",
      DATA_SPAIR: "/a",
      DATA_PFPASCAL: "/b",
      DATA_PFWILLOW: "/c",
      DATA_AP10K: "/d",
    };
    assert.equal(datasetRoot("spair", env), "/a");
    assert.equal(datasetRoot("pfpascal", env), "/b");
    assert.equal(datasetRoot("pfwillow", env), "/c");
    assert.equal(datasetRoot("ap10k", env), "/d");
  });
  await t.step("empty values count as unset", () => {
    assert.equal(datasetRoot("ap10k", { DATA_AP10K: "", DATA_ROOT: "" }), "./data/ap-10k");
  });
  await t.step("https:// base URLs, as variables or under DATA_ROOT", () => {
    const env = { DATA_ROOT: "https://bucket.example.com/data/" };
    assert.equal(datasetRoot("spair", env), "https://bucket.example.com/data/SPair-71k");
    assert.equal(
      datasetRoot("ap10k", { ...env, DATA_AP10K: "https://cdn.example.com/ap-10k" }),
      "https://cdn.example.com/ap-10k",
    );
  });
  await t.step("http:// only on loopback hosts", () => {
    for (const host of ["127.0.0.1:8000", "127.3.4.5", "localhost:1", "[::1]:80"]) {
      assert.equal(
        datasetRoot("pfwillow", { DATA_PFWILLOW: `http://${host}/w` }),
        `http://${host}/w`,
      );
    }
    for (
      const env of [
        { DATA_ROOT: "http://example.com/data" },
        { DATA_PFWILLOW: "http://192.168.1.2/w" },
        { DATA_PFWILLOW: "ftp://example.com/w" },
        { DATA_ROOT: "https://example.com/data?token=x" },
      ]
    ) {
      assert.throws(() => datasetRoot("pfwillow", env), (e: Error) => {
        assert.ok(e instanceof RangeError);
        assert.match(e.message, /^Cannot use dataset root "[^"]+" from DATA_(ROOT|PFWILLOW): /);
        return true;
      });
    }
    // Only the variable used is checked.
    assert.equal(
      datasetRoot("spair", { DATA_ROOT: "http://example.com", DATA_SPAIR: "/s" }),
      "/s",
    );
  });
  await t.step("unknown dataset", () => {
    assert.throws(() => datasetRoot("coco" as never, {}), RangeError);
    assert.throws(() => datasetRoot("toString" as never, {}), RangeError);
  });
});
