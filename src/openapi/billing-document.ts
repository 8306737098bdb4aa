import * as z from "zod";
import { ERROR_CODES, type ErrorCode } from "../http/error-codes";
import { BILLING_OPERATIONS, errorCodesOf, type BillingOperation } from "./billing-operations";
import { errorSchema, RESPONSE_BODIES } from "./response-schemas";

/** The parts of an OpenAPI 3.1 document the billing API contributes; `pnpm openapi` merges them with Better Auth's. */
export interface OpenApiPart {
  paths: Record<string, Record<string, unknown>>;
  schemas: Record<string, unknown>;
  tags: { name: string; description?: string }[];
  securitySchemes: Record<string, unknown>;
}

/** Where the billing routes are mounted (src/app.ts). */
export const BILLING_BASE = "/api/billing";

const TAG_DESCRIPTIONS: Record<BillingOperation["tag"], string> = {
  Plans: "The public catalog; operators (BILLING_OPERATOR_EMAILS, verified) manage it.",
  Subscriptions: "The signed-in user's subscriptions; every change goes through the lifecycle (docs/billing-lifecycle.md).",
  "Payment attempts": "A user starts a payment (idempotently); only the provider's webhook decides its outcome.",
  "Provider customers": "The customer the app creates for the user at GoCardless; mandates must belong to it.",
  "Direct-debit tokens": "Mandates, stored encrypted and never returned.",
  Entitlements: "What an app gates features on.",
  Webhooks: "Signed deliveries from the payment provider (docs/gocardless.md).",
};

/** What the document says of a code beyond its message (the message ships in the Worker; this does not). */
const MORE_ABOUT: Partial<Record<ErrorCode, string>> = {
  INVALID_JSON:
    "Also when the body is not UTF-8, or an object repeats a key (I-JSON, RFC 7493). Nesting has no limit of its own (the 64 KiB size is the bound): a nested value the route does not take is VALIDATION_FAILED.",
  VALIDATION_FAILED: "At most the first 20 are listed (`path`, `message`; unknown fields one by one); `details.fieldCount` says how many failed.",
};

/**
 * The billing API as OpenAPI 3.1 paths and components, from
 * {@link BILLING_OPERATIONS} and the zod schemas the routes validate with
 * (zod's `toJSONSchema`, JSON Schema 2020-12 as OpenAPI 3.1 uses).
 *
 * @example
 * ```ts
 * const { paths, schemas } = billingOpenApiPart()
 * ```
 */
export function billingOpenApiPart(): OpenApiPart {
  const schemas: Record<string, unknown> = {};
  const toSchema = (schema: z.ZodType, io: "input" | "output") => jsonSchema(schema, io, schemas);
  toSchema(errorSchema, "output");

  const paths: OpenApiPart["paths"] = {};
  for (const operation of BILLING_OPERATIONS) {
    const path = BILLING_BASE + operation.path.replace(/:(\w+)/g, "{$1}");
    paths[path] ??= {};
    paths[path][operation.method] = describeOperation(operation, toSchema);
  }
  const tags = Object.entries(TAG_DESCRIPTIONS).map(([name, description]) => ({ name, description }));
  const securitySchemes = {
    sessionCookie: {
      type: "apiKey",
      in: "cookie",
      name: "better-auth.session_token",
      description: "Better Auth's session cookie (sign in under /api/auth). A write must also send an Origin the app trusts.",
    },
    webhookSignature: {
      type: "apiKey",
      in: "header",
      name: "Webhook-Signature",
      description: "Hex HMAC-SHA256 of the raw body with the provider's webhook secret.",
    },
  };
  return { paths, schemas, tags, securitySchemes };
}

function describeOperation(operation: BillingOperation, toSchema: (schema: z.ZodType, io: "input" | "output") => unknown) {
  const codes = errorCodesOf(operation);
  const parameters: unknown[] = [...operation.path.matchAll(/:(\w+)/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
  if (operation.query) {
    const query = toSchema(operation.query, "input") as { properties: Record<string, unknown>; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties)) {
      parameters.push({ name, in: "query", required: query.required?.includes(name) ?? false, schema });
    }
  }
  if (operation.idempotencyKey) {
    parameters.push({
      name: "Idempotency-Key",
      in: "header",
      required: true,
      description: "1–255 printable ASCII characters without spaces; a retry with the same key and body answers the first response again.",
      schema: { type: "string", pattern: "^[!-~]{1,255}$" },
    });
  }
  const security =
    operation.guard === "public" ? [] : operation.guard === "signature" ? [{ webhookSignature: [] }] : [{ sessionCookie: [] }];
  return {
    operationId: operationId(operation),
    summary: operation.summary,
    ...(operation.description && { description: operation.description }),
    tags: [operation.tag],
    security,
    ...(operation.guard === "operator" && { "x-guard": "operator: a verified e-mail listed in BILLING_OPERATOR_EMAILS" }),
    ...(parameters.length > 0 && { parameters }),
    ...(operation.body && {
      requestBody: {
        required: !operation.bodyOptional,
        content: { "application/json": { schema: toSchema(operation.body, "input") } },
      },
    }),
    responses: {
      ...(operation.alsoSuccess && {
        [operation.alsoSuccess.status]: {
          description: operation.alsoSuccess.description,
          content: { "application/json": { schema: toSchema(RESPONSE_BODIES[operation.success.body], "output") } },
        },
      }),
      [operation.success.status]: {
        description: operation.success.description,
        content: { "application/json": { schema: toSchema(RESPONSE_BODIES[operation.success.body], "output") } },
      },
      ...errorResponses(codes),
    },
    "x-error-codes": codes,
  };
}

/** One response per status, listing its codes (an example each), with the Error schema narrowed to them. */
function errorResponses(codes: ErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, unknown> = {};
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: group.map((code) => [`\`${code}\`: ${ERROR_CODES[code].message}`, MORE_ABOUT[code]].filter(Boolean).join(" ")).join("\n\n"),
      content: {
        "application/json": {
          schema: {
            allOf: [
              { $ref: "#/components/schemas/Error" },
              { type: "object", properties: { error: { type: "object", properties: { code: { enum: group } } } } },
            ],
          },
          examples: Object.fromEntries(group.map((code) => [code, { value: { error: { code, message: ERROR_CODES[code].message } } }])),
        },
      },
    };
  }
  return responses;
}

function operationId(operation: BillingOperation): string {
  const words = `${operation.method} ${operation.path.replace(/:(\w+)/g, "by $1")}`.split(/[^a-zA-Z0-9]+/).filter(Boolean);
  return words.map((word, index) => (index === 0 ? word : word[0]!.toUpperCase() + word.slice(1))).join("");
}

/**
 * `schema` as JSON Schema; schemas with a `.meta({ id })` go to `components`
 * (shared by every operation that uses them) and are referenced from there.
 */
function jsonSchema(schema: z.ZodType, io: "input" | "output", components: Record<string, unknown>): unknown {
  const { $schema: _, $defs, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as Record<string, unknown>;
  const rewrite = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll('"#/$defs/', '"#/components/schemas/'));
  for (const [id, definition] of Object.entries(($defs ?? {}) as Record<string, unknown>)) components[id] = rewrite(definition);
  // A schema with an id of its own comes back as that definition itself; refer to it instead.
  const id = z.globalRegistry.get(schema)?.id;
  if (typeof id === "string") {
    components[id] = rewrite(rest);
    return { $ref: `#/components/schemas/${id}` };
  }
  return rewrite(rest);
}
