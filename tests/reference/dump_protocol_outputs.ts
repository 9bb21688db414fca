/**
 * One-off verification helper, run by hand, not by CI and not part of the
 * product: dumps what the service lists and scores with default options, so
 * that `official_protocol_reference.py` (next to this file), an independent
 * re-implementation of the official loaders and evaluator in PyTorch, can
 * recompute the pair lists, keypoints, thresholds and PCK and compare.
 *
 * Two sets of roots are dumped: the synthetic trees of
 * `tests/fixtures/protocol_trees.ts` (written under the output directory),
 * evaluated with dsift at 64 px; and the shared data (`../shared/data`),
 * listed at 256 px and, for PF-WILLOW (the only one with its images),
 * evaluated with dsift at 256.
 *
 * What it writes into the output directory (never into the repository):
 * `trees/` and `protocol_outputs.json`: per root set and dataset, the root,
 * the resolution, the `/v1/datasets/{name}/pairs` answer and, where images
 * exist, the `/v1/evaluate` answer (`frame: "both"`, predictions returned).
 *
 * ```sh
 * deno run -A tests/reference/dump_protocol_outputs.ts /tmp/protocol_ref
 * /usr/bin/python3 tests/reference/official_protocol_reference.py /tmp/protocol_ref
 * ```
 *
 * @module
 */

import { join } from "node:path";
import { writeProtocolTrees } from "../fixtures/protocol_trees.ts";
import { startService } from "../../main.ts";
import { loadConfig } from "../../service/config.ts";

const ALPHAS = [0.01, 0.05, 0.1, 0.15];

interface RootSet {
  name: string;
  resolution: number;
  roots: Record<string, string>;
  /** Datasets whose images are present, so they can be evaluated. */
  evaluate: string[];
}

async function dumpSet(set: RootSet) {
  const env: Record<string, string> = {
    WORKERS: "2",
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_PFWILLOW: set.roots.pfwillow,
    DATA_PFPASCAL: set.roots.pfpascal,
    DATA_SPAIR: set.roots.spair,
    DATA_AP10K: set.roots.ap10k,
  };
  const service = await startService(loadConfig(env), { quiet: true });
  const out: Record<string, unknown> = {};
  try {
    await service.ready;
    for (const [dataset, root] of Object.entries(set.roots)) {
      const res = await fetch(
        `${service.url}/v1/datasets/${dataset}/pairs?resolution=${set.resolution}`,
      );
      const listing = await res.json();
      const entry: Record<string, unknown> = { root, status: res.status, listing };
      if (res.ok && set.evaluate.includes(dataset)) {
        const ev = await fetch(`${service.url}/v1/evaluate`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            dataset,
            resolution: set.resolution,
            frame: "both",
            alphas: ALPHAS,
            return_predictions: true,
          }),
        });
        entry.evaluation = await ev.json();
        if (!ev.ok) throw new Error(`${set.name} ${dataset}: ${JSON.stringify(entry.evaluation)}`);
      }
      console.error(`${set.name} ${dataset}: listing ${res.status}`);
      out[dataset] = entry;
    }
  } finally {
    await service.close();
  }
  return { resolution: set.resolution, datasets: out };
}

async function main(outDir: string): Promise<void> {
  await Deno.mkdir(outDir, { recursive: true });
  const out = await Deno.realPath(outDir);
  const trees = await writeProtocolTrees(join(out, "trees"));
  const shared = new URL("../../../shared/data/", import.meta.url).pathname;
  const sets: RootSet[] = [
    { name: "synthetic", resolution: 64, roots: { ...trees }, evaluate: Object.keys(trees) },
    {
      name: "shared",
      resolution: 256,
      roots: {
        pfwillow: `${shared}pf-willow`,
        pfpascal: `${shared}pf-pascal`,
        spair: `${shared}spair-71k/SPair-71k`,
        ap10k: `${shared}ap-10k`,
      },
      evaluate: ["pfwillow"],
    },
  ];
  const dump: Record<string, unknown> = { alphas: ALPHAS };
  for (const set of sets) dump[set.name] = await dumpSet(set);
  await Deno.writeTextFile(join(out, "protocol_outputs.json"), JSON.stringify(dump));
  console.log(`Wrote ${join(out, "protocol_outputs.json")}`);
}

if (import.meta.main) {
  const outDir = Deno.args[0];
  if (!outDir) {
    console.error("Usage: dump_protocol_outputs.ts <output directory>");
    Deno.exit(2);
  }
  await main(outDir);
}
