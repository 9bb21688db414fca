// This module is browser compatible.
/**
 * Converts the part of a TF.js graph model that a set of output nodes needs
 * into ONNX nodes of an {@linkcode OnnxGraph}: the graph is cut at those
 * nodes (anything they do not depend on, such as a detector's decoding
 * head, is never looked at), the `Placeholder` is replaced by a tensor the
 * caller provides, and every op on the way goes through {@linkcode TFJS_OPS}.
 * An op the importer does not know fails with an
 * {@linkcode UnsupportedModelError} naming the op and the node.
 *
 * Shapes are followed at a probe input shape, which the caller chooses
 * (the descriptor's default side): they give each output's channels and
 * grid. Whether the converted graph takes any height and width is reported
 * as `dynamic`: false when the cut graph holds an op that bakes in the
 * input size (a constant `Reshape` or `ResizeBilinear` size).
 *
 * @example Usage
 * ```ts
 * import { appendTfjsGraph } from "./tfjs_to_onnx.ts";
 * import { parseTfjsModel } from "./tfjs_model.ts";
 * import { OnnxGraph } from "../core/onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const model = parseTfjsModel({
 *   modelTopology: {
 *     node: [
 *       { name: "image", op: "Placeholder" },
 *       { name: "relu", op: "Relu", input: ["image"] },
 *       { name: "head", op: "TopKV2", input: ["relu"] },
 *     ],
 *   },
 *   weightsManifest: [{ paths: ["w.bin"], weights: [] }],
 * });
 * const g = new OnnxGraph("cut");
 * const x = g.input("x", [1, "h", "w", 3]);
 * const r = appendTfjsGraph(g, model, new Map(), { input: x, inputShape: [1, 8, 8, 3], outputs: ["relu"] });
 * assert.deepEqual(r.outputs[0].shape, [1, 8, 8, 3]);
 * assert.equal(r.dynamic, true);
 * assert.throws(
 *   () => appendTfjsGraph(g, model, new Map(), { input: x, inputShape: [1, 8, 8, 3], outputs: ["head"] }),
 *   /op `TopKV2` \(node `head`\)/,
 * );
 * ```
 *
 * @module
 */

import type { OnnxGraph } from "../core/onnx_graph.ts";
import { UnsupportedModelError } from "../errors/mod.ts";
import { parseInputRef, type TfjsModel, type TfjsNode } from "./tfjs_model.ts";
import type { TfjsTensor } from "./tfjs_weights.ts";
import { type OpContext, type OpResult, TFJS_OPS } from "./tfjs_ops.ts";

/** Options of {@linkcode appendTfjsGraph}. */
export interface AppendTfjsGraphOptions {
  /** The ONNX tensor that stands for the graph's (one) `Placeholder`. */
  input: string;
  /** The shape `input` has at the probe size, in the graph's own layout. */
  inputShape: number[];
  /** Names of the nodes whose outputs are wanted (`name` or `name:0`). */
  outputs: readonly string[];
}

/** The converted outputs. */
export interface AppendedTfjsGraph {
  /** One per requested output, in order: its ONNX tensor and its shape at the probe size. */
  outputs: { node: string; tensor: string; shape: number[] }[];
  /** False when the cut graph fixes its input size. */
  dynamic: boolean;
  /** How many nodes of each op were converted (constants included). */
  ops: Record<string, number>;
}

/** The op names {@linkcode appendTfjsGraph} converts, sorted. */
export const SUPPORTED_TFJS_OPS: readonly string[] = Object.freeze(
  [...Object.keys(TFJS_OPS), "Const", "Placeholder"].sort(),
);

/**
 * Appends the converted subgraph that `outputs` need.
 *
 * @param g The graph to append to.
 * @param model The parsed `model.json`.
 * @param weights Its decoded weights (the values of `Const` nodes, by name).
 * @param options The tensor standing for the input, its probe shape, the outputs.
 * @returns Each output's tensor and shape, and whether the graph is dynamic.
 * @throws {UnsupportedModelError} When an output is not a node of the model,
 *   the cut graph uses an op the importer does not convert, has more than one
 *   `Placeholder`, or a node's attributes or shapes cannot be converted;
 *   the message names the op and the node.
 */
export function appendTfjsGraph(
  g: OnnxGraph,
  model: TfjsModel,
  weights: ReadonlyMap<string, TfjsTensor>,
  options: AppendTfjsGraphOptions,
): AppendedTfjsGraph {
  const done = new Map<string, OpResult>();
  const embedded = new Map<string, string>();
  const ops: Record<string, number> = {};
  let dynamic = true;
  let placeholder: string | undefined;

  const unsupported = (node: TfjsNode, reason: string) =>
    new UnsupportedModelError(
      `Cannot convert op \`${node.op}\` (node \`${node.name}\`): ${reason}`,
      { details: { op: node.op, node: node.name } },
    );
  const nodeOf = (name: string, from?: TfjsNode): TfjsNode => {
    const n = model.nodes.get(name);
    if (!n) {
      throw new UnsupportedModelError(
        from
          ? `Cannot convert node \`${from.name}\`: its input \`${name}\` is not a node of the graph`
          : `Cannot cut the graph at \`${name}\`: no node has that name`,
        { details: { node: name } },
      );
    }
    return n;
  };
  const constantOf = (n: TfjsNode, user: TfjsNode): TfjsTensor => {
    if (n.op === "Identity" && n.input?.[0]) {
      return constantOf(nodeOf(parseInputRef(n.input[0])!.node, n), user);
    }
    if (n.op !== "Const") {
      throw unsupported(user, `input \`${n.name}\` must be a constant, it is a ${n.op}`);
    }
    const t = weights.get(n.name);
    if (!t) throw unsupported(user, `the weights hold no value for constant \`${n.name}\``);
    return t;
  };

  // Depth-first, post-order, without recursion (graphs can be thousands of nodes deep).
  const convert = (root: TfjsNode): OpResult => {
    const stack: { node: TfjsNode; expanded: boolean }[] = [{ node: root, expanded: false }];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const n = top.node;
      if (done.has(n.name)) {
        stack.pop();
        continue;
      }
      if (n.op === "Const") {
        // Constants are embedded where a converter asks for them as tensors.
        done.set(n.name, { tensor: "", shape: constantOf(n, n).shape });
        stack.pop();
        continue;
      }
      const op = TFJS_OPS[n.op];
      if (!op && n.op !== "Placeholder") {
        throw unsupported(
          n,
          `the importer does not convert it (it converts ${SUPPORTED_TFJS_OPS.join(", ")})`,
        );
      }
      const refs = (n.input ?? []).map(parseInputRef).filter((r) => r !== null);
      for (const r of refs) {
        if (r.index !== 0) throw unsupported(n, `it reads output ${r.index} of \`${r.node}\``);
      }
      if (!top.expanded) {
        top.expanded = true;
        for (const r of refs) {
          if (!done.has(r.node)) stack.push({ node: nodeOf(r.node, n), expanded: false });
        }
        continue;
      }
      stack.pop();
      ops[n.op] = (ops[n.op] ?? 0) + 1;
      if (n.op === "Placeholder") {
        if (placeholder !== undefined && placeholder !== n.name) {
          throw unsupported(n, `the graph has a second input (\`${placeholder}\` is the first)`);
        }
        placeholder = n.name;
        done.set(n.name, { tensor: options.input, shape: options.inputShape });
        continue;
      }
      const ctx: OpContext = {
        g,
        node: n,
        inputCount: refs.length,
        tensor: (i) => {
          const r = refs[i];
          if (!r) throw unsupported(n, `it has no input ${i}`);
          const input = nodeOf(r.node, n);
          if (input.op !== "Const") return done.get(r.node)!.tensor;
          let name = embedded.get(r.node);
          if (name === undefined) {
            const t = constantOf(input, n);
            if (t.dtype !== "float32") {
              throw unsupported(n, `input \`${r.node}\` is an ${t.dtype} constant used as data`);
            }
            name = g.constFloat(r.node, t.shape, t.values);
            embedded.set(r.node, name);
          }
          return name;
        },
        shape: (i) => {
          const r = refs[i];
          if (!r) throw unsupported(n, `it has no input ${i}`);
          return done.get(r.node)!.shape;
        },
        constant: (i) => {
          const r = refs[i];
          if (!r) throw unsupported(n, `it has no input ${i}`);
          return constantOf(nodeOf(r.node, n), n);
        },
        fail: (reason) => unsupported(n, reason),
      };
      let result: OpResult;
      try {
        result = op!(ctx);
      } catch (e) {
        if (e instanceof UnsupportedModelError) throw e;
        throw unsupported(n, (e as Error).message);
      }
      if (result.fixesShape) dynamic = false;
      done.set(n.name, result);
    }
    return done.get(root.name)!;
  };

  const outputs = options.outputs.map((ref) => {
    const name = parseInputRef(ref)?.node ?? ref;
    const node = nodeOf(name);
    if (node.op === "Const") {
      throw new UnsupportedModelError(
        `Cannot cut the graph at \`${name}\`: it is a constant, not a layer`,
        { details: { node: name } },
      );
    }
    const r = convert(node);
    return { node: name, tensor: r.tensor, shape: r.shape };
  });
  if (placeholder === undefined) {
    throw new UnsupportedModelError(
      `Cannot convert the graph: the outputs [${options.outputs}] do not depend on its input`,
      { details: { outputs: options.outputs } },
    );
  }
  return { outputs, dynamic, ops };
}
