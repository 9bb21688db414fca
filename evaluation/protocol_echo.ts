/**
 * What every evaluation result (and the pair listing that shows what is
 * scored) says about its protocol beyond the request fields: the dataset
 * options the pairs were read with, and each setting that differs from the
 * survey's official code, with the official value, so that a number is
 * never mistaken for the official protocol's.
 *
 * @example Usage
 * ```ts
 * import { protocolEcho } from "./protocol_echo.ts";
 * import { EvaluateRequestSchema } from "./request.ts";
 * import assert from "node:assert/strict";
 *
 * const req = EvaluateRequestSchema.parse({ dataset: "pfwillow", resample: "pil", keypoints: "raw" });
 * const echo = protocolEcho(req);
 * assert.deepEqual(echo.dataset_options, { keypoints: "raw", max_keypoints: 20 });
 * assert.deepEqual(echo.non_official.map((s) => s.option), ["keypoints", "resample"]);
 * ```
 *
 * @module
 */

import {
  type DatasetOptions,
  nonOfficialOptions,
  type NonOfficialSetting,
  resolveDatasetOptions,
} from "../datasets/dataset_options.ts";
import { canonicalSplit } from "../datasets/read_dataset.ts";
import { DEFAULT_RESAMPLE } from "../core/model_input.ts";
import { DEFAULT_PCK_COMPARISON } from "../core/pck.ts";
import type { EvaluateRequest } from "./request.ts";

/** The localizers the official evaluator computes (`utils/evaluator.py`, `method_options`). */
const OFFICIAL_LOCALIZERS: readonly string[] = [
  "nn",
  "bilinear",
  "softargmax",
  "kernel-softargmax",
];

/** The protocol part of a result. */
export interface ProtocolEcho {
  /** Every dataset option that applies, with its value (given or official). */
  dataset_options: DatasetOptions;
  /** The settings that differ from the official code's; empty for the official protocol. */
  non_official: NonOfficialSetting[];
}

/**
 * The protocol echo of a request.
 *
 * @param req A validated evaluate request.
 * @returns The dataset options and the non-official settings.
 * @throws {RangeError} When a dataset option does not apply (the schema refuses those first).
 */
export function protocolEcho(req: EvaluateRequest): ProtocolEcho {
  const split = canonicalSplit(req.dataset, req.split);
  const options = resolveDatasetOptions(req.dataset, split, req);
  const out = nonOfficialOptions(req.dataset, split, options);
  const differs = (option: string, value: string, official: string) => {
    if (value !== official) out.push({ option, value, official });
  };
  differs("resize", req.resize, "stretch");
  differs("resample", req.resample, DEFAULT_RESAMPLE);
  if (req.frame === "original") {
    out.push({ option: "frame", value: "original", official: "official" });
  }
  differs("comparison", req.comparison, DEFAULT_PCK_COMPARISON);
  if (!OFFICIAL_LOCALIZERS.includes(req.localizer)) {
    out.push({
      option: "localizer",
      value: req.localizer,
      official: OFFICIAL_LOCALIZERS.join(", "),
    });
  }
  return { dataset_options: options, non_official: out };
}
