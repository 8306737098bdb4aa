import type * as z from "zod";
import { BillingError } from "./billing-error";

/** One failing field: a dotted path (`""` for the whole value) and why. */
export interface FieldError {
  path: string;
  message: string;
}

/**
 * Parses `value` with a zod schema; on failure throws VALIDATION_FAILED (400 over HTTP)
 * listing the first 20 failing fields in `details.fields` (unknown fields of strict
 * objects one by one) and how many failed in `details.fieldCount`.
 * Used by routes for request input and by webhook adapters for provider bodies.
 *
 * @example
 * ```ts
 * const { limit } = validate(listQuerySchema, c.req.query())
 * ```
 */
export function validate<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = fieldErrors(result.error);
  // 20 at most: 5,000 unknown keys would otherwise answer ~190 KB.
  throw new BillingError("VALIDATION_FAILED", { details: { fields: fields.slice(0, 20), fieldCount: fields.length } });
}

function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: path ? `${path}.${key}` : key, message: "unknown field" }));
    }
    return [{ path, message: issue.message }];
  });
}
