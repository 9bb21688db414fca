/**
 * The OpenAPI 3.1 document of the service, generated from the zod schemas
 * the routes validate with and answer by (zod's own JSON Schema output, the
 * 2020-12 dialect OpenAPI 3.1 uses), and from the one table of error codes
 * (`errorCodes()` of `./_on_error.ts`). Nothing here restates a schema: each
 * operation names the schemas of its route.
 *
 * Request schemas are given as the client writes them (`io: "input"`:
 * defaults optional); in multipart forms every field travels as text and is
 * coerced as in JSON, `points` is JSON text, images are files.
 *
 * @example Usage
 * ```ts
 * import { openApiDocument } from "./_openapi.ts";
 * import assert from "node:assert/strict";
 *
 * const doc = openApiDocument();
 * assert.equal(doc.openapi, "3.1.0");
 * assert.ok(doc.paths["/v1/match"].post);
 * assert.ok(doc.paths["/v1/jobs/{id}"].delete);
 * ```
 *
 * @module
 */

import { z } from "zod";
import { errorCodes } from "./_on_error.ts";
import { MatchOptionsSchema, PointsSchema } from "../workers/match_options.ts";
import { EvaluateRequestSchema } from "../evaluation/request.ts";
import { DATASET_IDS } from "../datasets/types.ts";
import { MatchResponseSchema } from "./match.ts";
import { VisualizeOptionsSchema } from "./visualize.ts";
import { FeaturesOptionsSchema, FeaturesResponseSchema } from "./features.ts";
import { EvaluationProgressSchema, EvaluationReportSchema } from "./evaluate.ts";
import { JobCreatedSchema, JobListQuerySchema, JobRequestSchema, JobViewSchema } from "./jobs.ts";
import { DatasetImageQuerySchema, DatasetListSchema, DatasetPairsSchema } from "./datasets.ts";
import { LeaderboardQuerySchema, LeaderboardSchema } from "./leaderboard.ts";
import { ModelInfoSchema, ModelListSchema } from "./models.ts";
import { HealthSchema, ReadinessSchema } from "./health.ts";

/** A JSON Schema object. */
type JsonSchema = Record<string, unknown>;

/** The document (only the parts this module writes are typed). */
export interface OpenApiDocument {
  openapi: "3.1.0";
  info: Record<string, unknown>;
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/** zod to JSON Schema, as the client sends (requests) or reads (answers) it. */
function schema(type: z.ZodType): JsonSchema {
  const { $schema: _, ...out } = z.toJSONSchema(type, { io: "input", unrepresentable: "any" });
  return out;
}

const json = (type: z.ZodType) => ({ "application/json": { schema: schema(type) } });

/** An image in a JSON body. */
const Base64Image = z.string().describe(
  "a PNG or JPEG in base64 (a data: URL prefix is accepted)",
);

/** An image in a multipart body. */
const ImageFile = z.string().meta({ contentMediaType: "application/octet-stream" }).describe(
  "a PNG or JPEG file",
);

/** Both forms of a body that carries the named images beside `fields`. */
function imageBody(
  fields: z.ZodObject,
  images: Record<string, true>,
  extra: Record<string, z.ZodType> = {},
) {
  const withImages = (image: z.ZodType) =>
    fields.extend({
      ...Object.fromEntries(Object.keys(images).map((k) => [k, image])),
      ...extra,
    });
  return {
    required: true,
    content: {
      "multipart/form-data": {
        schema: schema(withImages(ImageFile)),
        encoding: {
          ...Object.fromEntries(
            Object.keys(images).map((k) => [k, { contentType: "image/png, image/jpeg" }]),
          ),
          ...Object.fromEntries(
            Object.keys(extra).map((k) => [k, { contentType: "application/json" }]),
          ),
        },
      },
      "application/json": { schema: schema(withImages(Base64Image)) },
    },
  };
}

/** Parameters of a zod object, in the path or the query. */
function parameters(where: "path" | "query", type: z.ZodObject, omit: string[] = []) {
  return Object.entries(type.shape).filter(([name]) => !omit.includes(name)).map(
    ([name, field]) => {
      const s = schema(field as z.ZodType);
      const list = s.type === "array";
      return {
        name,
        in: where,
        required: where === "path" || !(field as z.ZodType).safeParse(undefined).success,
        schema: s,
        // Lists go comma-separated: `alphas=0.05,0.1`.
        ...(list ? { style: "form", explode: false } : {}),
        ...(typeof s.description === "string" ? { description: s.description } : {}),
      };
    },
  );
}

/** The error answers of an operation, by status (each status's codes come from the table). */
function errors(...statuses: number[]) {
  const out: Record<string, { $ref: string }> = {};
  for (const status of [...statuses, 500]) {
    out[status] = { $ref: `#/components/responses/E${status}` };
  }
  return out;
}

/** The statuses of requests that run models on images. */
const IMAGE_ERRORS = [400, 401, 404, 413, 415, 422, 429, 503, 504];

/** The statuses of evaluations. */
const EVALUATION_ERRORS = [400, 401, 404, 413, 415, 422, 429, 503, 504, 507];

const IdParam = z.object({ id: z.uuid().describe("the job's id") });
const ModelIdParam = z.object({ id: z.string().describe("a model id from GET /v1/models") });
const DatasetParam = z.object({ name: z.enum(DATASET_IDS).describe("a dataset id") });
const FileParam = z.object({ file: z.string().describe("a file of the page") });

/** What the error table's statuses mean, before their codes. */
const STATUS_TEXT: Record<number, string> = {
  400: "The body cannot be read",
  401: "An API key is needed (API_KEYS is set)",
  404: "Not found",
  405: "The path takes other methods (see Allow)",
  409: "Not in a state for that",
  413: "Too large",
  415: "Unsupported media type",
  422: "Valid JSON or form, invalid request",
  429: "Rate limited (see Retry-After)",
  500: "A bug, logged with the request id",
  503: "Unavailable; retry (see Retry-After where given)",
  504: "Past the request's deadline",
  507: "The runs store is full",
};

/** The error body, with every code. */
function errorBody(codes: string[]): z.ZodType {
  return z.object({
    error: z.object({
      code: z.enum(codes as [string, ...string[]]).describe("stable: branch on it"),
      message: z.string().describe('for humans, "Cannot ...: reason"'),
      details: z.unknown().optional().describe(
        "structured: zod issues (invalid_request), limits, allowed methods...",
      ),
    }),
    request_id: z.string().nullable().describe("also in the X-Request-Id header and the log"),
  });
}

function errorResponses(): Record<string, unknown> {
  const byStatus = new Map<number, string[]>();
  for (const { status, code } of errorCodes()) {
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, unknown> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[`E${status}`] = {
      description: `${STATUS_TEXT[status] ?? "Error"}: ${codes.map((c) => `\`${c}\``).join(", ")}`,
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  }
  return out;
}

const PNG_HEADERS = {
  "X-Source-Box": {
    description: "where the source lies in the picture: x,y,width,height",
    schema: { type: "string" },
  },
  "X-Target-Box": {
    description: "where the target lies in the picture: x,y,width,height",
    schema: { type: "string" },
  },
};

const STREAMS = {
  "application/x-ndjson": {
    schema: {
      type: "string",
      description:
        "one JSON object a line: {type: progress, ...EvaluationProgress}, then {type: result, result} (or {type: error, error})",
    },
  },
  "text/event-stream": {
    schema: {
      type: "string",
      description:
        "events `progress` (EvaluationProgress), then `result` (or `error`, `cancelled`)",
    },
  },
};

const STATIC_PAGE = { "text/html": { schema: { type: "string" } } };

/** An operation of the API without a body that answers JSON (one schema) or an error. */
function jsonOperation(o: {
  tag: string;
  summary: string;
  operationId: string;
  parameters?: unknown[];
  answer: [description: string, schema: z.ZodType];
  errors: number[];
}) {
  return {
    tags: [o.tag],
    summary: o.summary,
    operationId: o.operationId,
    ...(o.parameters ? { parameters: o.parameters } : {}),
    responses: {
      200: { description: o.answer[0], content: json(o.answer[1]) },
      ...errors(...o.errors),
    },
    security: [{}, { bearer: [] }],
  };
}

/**
 * Builds the document.
 *
 * @param options `version`: the API's version (default `1.0.0`).
 * @returns The OpenAPI 3.1 document.
 */
export function openApiDocument(options: { version?: string } = {}): OpenApiDocument {
  const codes = [...new Set(errorCodes().map((c) => c.code))];
  const v1 = { security: [{}, { bearer: [] }] };
  const open = { security: [] };
  const matchBody = imageBody(MatchOptionsSchema, { source: true, target: true }, {
    points: PointsSchema.describe("[[x, y], ...] in source pixels (multipart: JSON text)"),
  });
  const paths: OpenApiDocument["paths"] = {
    "/v1/match": {
      post: {
        tags: ["match"],
        summary: "Match points of the source image on the target image",
        operationId: "match",
        requestBody: matchBody,
        responses: {
          200: { description: "The matches", content: json(MatchResponseSchema) },
          ...errors(...IMAGE_ERRORS),
        },
        ...v1,
      },
    },
    "/v1/visualize": {
      post: {
        tags: ["match"],
        summary: "The /v1/match request, answered with a PNG picture of the matches",
        description:
          "Source and target side by side at a common height (at most 720 px), numbered dots joined by lines coloured by score; `heatmap: true` with one point overlays that query's similarity map on the target.",
        operationId: "visualize",
        requestBody: imageBody(VisualizeOptionsSchema, { source: true, target: true }, {
          points: PointsSchema,
        }),
        responses: {
          200: {
            description: "The picture",
            headers: PNG_HEADERS,
            content: { "image/png": { schema: { type: "string", contentMediaType: "image/png" } } },
          },
          ...errors(...IMAGE_ERRORS),
        },
        ...v1,
      },
    },
    "/v1/features": {
      post: {
        tags: ["match"],
        summary: "One image's feature grid, as .npy or JSON",
        operationId: "features",
        requestBody: imageBody(FeaturesOptionsSchema, { image: true }),
        responses: {
          200: {
            description: "The C x h x w float32 grid",
            content: {
              ...json(FeaturesResponseSchema),
              "application/x-npy": {
                schema: { type: "string", contentMediaType: "application/x-npy" },
              },
            },
          },
          ...errors(...IMAGE_ERRORS),
        },
        ...v1,
      },
    },
    "/v1/evaluate": {
      post: {
        tags: ["evaluate"],
        summary: "PCK of a model on a slice of a benchmark",
        operationId: "evaluate",
        requestBody: { required: true, content: json(EvaluateRequestSchema) },
        responses: {
          200: {
            description:
              "The report; streamed progress with Accept: application/x-ndjson or text/event-stream",
            content: { ...json(EvaluationReportSchema), ...STREAMS },
          },
          ...errors(...EVALUATION_ERRORS),
        },
        ...v1,
      },
    },
    "/v1/jobs": {
      post: {
        tags: ["jobs"],
        summary: "Submit an evaluation as a durable job, shared by every replica",
        operationId: "createJob",
        requestBody: { required: true, content: json(JobRequestSchema) },
        responses: {
          202: {
            description: "Accepted",
            headers: { Location: { schema: { type: "string" } } },
            content: json(JobCreatedSchema),
          },
          ...errors(...EVALUATION_ERRORS),
        },
        ...v1,
      },
      get: jsonOperation({
        tag: "jobs",
        summary: "Recent jobs, newest first, without results",
        operationId: "listJobs",
        parameters: parameters("query", JobListQuerySchema),
        answer: ["The jobs", z.object({ jobs: z.array(JobViewSchema) })],
        errors: [401, 422, 429, 503],
      }),
    },
    "/v1/jobs/{id}": {
      get: jsonOperation({
        tag: "jobs",
        summary: "A job: state, progress, shards, and its result once done",
        operationId: "getJob",
        parameters: parameters("path", IdParam),
        answer: ["The job", JobViewSchema],
        errors: [401, 404, 422, 429, 503],
      }),
      delete: jsonOperation({
        tag: "jobs",
        summary: "Cancel a job",
        operationId: "cancelJob",
        parameters: parameters("path", IdParam),
        answer: ["The job", JobViewSchema],
        errors: [401, 404, 422, 429, 503],
      }),
    },
    "/v1/jobs/{id}/save": {
      post: {
        tags: ["jobs"],
        summary: "Save a done job's result as a run (listed by the leaderboard)",
        operationId: "saveJob",
        parameters: parameters("path", IdParam),
        responses: {
          200: {
            description: "Saved",
            content: json(z.object({ id: z.uuid(), saved_as: z.string() })),
          },
          ...errors(401, 404, 409, 422, 429, 503, 507),
        },
        ...v1,
      },
    },
    "/v1/jobs/{id}/events": {
      get: {
        tags: ["jobs"],
        summary:
          "A job's progress as server-sent events (ndjson with Accept: application/x-ndjson)",
        operationId: "jobEvents",
        parameters: parameters("path", IdParam),
        responses: {
          200: {
            description: "Progress events, then result, error or cancelled",
            content: STREAMS,
          },
          ...errors(401, 404, 422, 429, 503),
        },
        ...v1,
      },
    },
    "/v1/datasets": {
      get: jsonOperation({
        tag: "datasets",
        summary: "Which datasets are present, their splits, pair counts, categories",
        operationId: "listDatasets",
        answer: ["The datasets", DatasetListSchema],
        errors: [401, 429],
      }),
    },
    "/v1/datasets/{name}/pairs": {
      get: jsonOperation({
        tag: "datasets",
        summary:
          "Exactly the pairs /v1/evaluate scores with the same options (as query parameters)",
        operationId: "listPairs",
        parameters: [
          ...parameters("path", DatasetParam),
          ...parameters("query", EvaluateRequestSchema, [
            "dataset",
            "return_predictions",
            "save_run",
          ]),
        ],
        answer: ["The pairs", DatasetPairsSchema],
        errors: [401, 404, 422, 429, 503],
      }),
    },
    "/v1/datasets/{name}/image": {
      get: {
        tags: ["datasets"],
        summary: "One image of a dataset, by the path its pairs give",
        operationId: "datasetImage",
        parameters: [
          ...parameters("path", DatasetParam),
          ...parameters("query", DatasetImageQuerySchema),
        ],
        responses: {
          200: {
            description: "The image file as stored",
            content: {
              "image/png": { schema: { type: "string", contentMediaType: "image/png" } },
              "image/jpeg": { schema: { type: "string", contentMediaType: "image/jpeg" } },
            },
          },
          ...errors(401, 404, 422, 429, 503),
        },
        ...v1,
      },
    },
    "/v1/leaderboard": {
      get: jsonOperation({
        tag: "datasets",
        summary: "The survey's result tables beside this service's saved runs",
        operationId: "leaderboard",
        parameters: parameters("query", LeaderboardQuerySchema),
        answer: ["The board", LeaderboardSchema],
        errors: [401, 404, 422, 429],
      }),
    },
    "/v1/models": {
      get: jsonOperation({
        tag: "models",
        summary: "The models this service runs",
        operationId: "listModels",
        answer: ["The models", ModelListSchema],
        errors: [401, 429],
      }),
    },
    "/v1/models/{id}": {
      get: jsonOperation({
        tag: "models",
        summary: "One model",
        operationId: "getModel",
        parameters: parameters("path", ModelIdParam),
        answer: ["The model", ModelInfoSchema],
        errors: [401, 404, 429],
      }),
    },
    "/healthz": {
      get: {
        tags: ["service"],
        summary: "Liveness: 200 while the process serves",
        operationId: "health",
        responses: { 200: { description: "Serving", content: json(HealthSchema) } },
        ...open,
      },
    },
    "/readyz": {
      get: {
        tags: ["service"],
        summary: "Readiness: 200 once the default model runs in every worker, 503 before",
        operationId: "ready",
        responses: {
          200: { description: "Ready", content: json(ReadinessSchema) },
          503: { description: "Starting", content: json(ReadinessSchema) },
        },
        ...open,
      },
    },
    "/openapi.json": {
      get: {
        tags: ["service"],
        summary: "This document",
        operationId: "openapi",
        responses: {
          200: {
            description: "OpenAPI 3.1",
            content: { "application/json": { schema: { type: "object" } } },
          },
        },
        ...open,
      },
    },
    "/docs": {
      get: {
        tags: ["service"],
        summary: "This document as a page (Swagger UI, served from the npm package: works offline)",
        operationId: "docs",
        responses: { 200: { description: "The page", content: STATIC_PAGE } },
        ...open,
      },
    },
    "/docs/{file}": {
      get: {
        tags: ["service"],
        summary: "The docs page's scripts and styles",
        operationId: "docsAsset",
        parameters: parameters("path", FileParam),
        responses: {
          200: { description: "The file" },
          404: { $ref: "#/components/responses/E404" },
        },
        ...open,
      },
    },
    "/demo": {
      get: {
        tags: ["service"],
        summary: "The demo page: pick two images, click points, see matches and heatmaps",
        operationId: "demo",
        responses: { 200: { description: "The page", content: STATIC_PAGE } },
        ...open,
      },
    },
    "/demo/{file}": {
      get: {
        tags: ["service"],
        summary: "The demo page's scripts and styles",
        operationId: "demoAsset",
        parameters: parameters("path", FileParam),
        responses: {
          200: { description: "The file" },
          404: { $ref: "#/components/responses/E404" },
        },
        ...open,
      },
    },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "semcorr",
      version: options.version ?? "1.0.0",
      summary:
        "Semantic correspondence: match points between two images of a category, and benchmark models on SPair-71k, PF-PASCAL, PF-WILLOW and AP-10K",
      description:
        "Coordinates are pixels, integer values at pixel centres, x right, y down. Every failure is `{error: {code, message, details?}, request_id}` with a stable code (components.schemas.Error lists them all). A known path called with another method is `405 method_not_allowed` with `Allow`. With API_KEYS set, /v1 routes need `Authorization: Bearer <key>`.",
      license: { name: "see the repository" },
    },
    jsonSchemaDialect: "https://spec.openapis.org/oas/3.1/dialect/base",
    tags: [
      { name: "match", description: "Correspondences between two images" },
      { name: "evaluate", description: "PCK on benchmarks" },
      { name: "jobs", description: "Long evaluations as durable jobs" },
      { name: "datasets", description: "Benchmarks on the server and the literature" },
      { name: "models", description: "Backbones and composites" },
      { name: "service", description: "Health, this document, pages" },
    ],
    paths,
    components: {
      schemas: {
        Error: schema(errorBody(codes)),
        EvaluationProgress: schema(EvaluationProgressSchema),
      },
      responses: errorResponses(),
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "one of API_KEYS; needed on /v1 only when keys are configured",
        },
      },
    },
  };
}
