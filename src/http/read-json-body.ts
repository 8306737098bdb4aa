import type { Context } from "hono";
import type * as z from "zod";
import { ApiError } from "./api-error";
import { validate } from "../billing/validate";

/** Bodies above this are refused before parsing: no route here needs more. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

/**
 * Reads the request body as JSON and validates it:
 * - over {@link MAX_JSON_BODY_BYTES} → 413 PAYLOAD_TOO_LARGE
 * - a body that is not `application/json`, or declares a charset other than
 *   UTF-8 → 415 UNSUPPORTED_MEDIA_TYPE
 * - unparseable, or an object with a repeated key → 400 INVALID_JSON
 * - schema mismatch (wrong types, unknown fields) → 400 VALIDATION_FAILED
 *
 * An empty body counts as `{}` when `emptyAsObject` is set (routes whose
 * fields are all optional), and as INVALID_JSON otherwise.
 *
 * @example
 * ```ts
 * const { planCode } = await readJsonBody(c, z.strictObject({ planCode: z.string() }))
 * ```
 */
export async function readJsonBody<Schema extends z.ZodType>(
  c: Context,
  schema: Schema,
  options: { emptyAsObject?: boolean } = {},
): Promise<z.output<Schema>> {
  if (Number(c.req.header("content-length") ?? 0) > MAX_JSON_BODY_BYTES) throw new ApiError("PAYLOAD_TOO_LARGE");
  const text = await c.req.text();
  if (new TextEncoder().encode(text).length > MAX_JSON_BODY_BYTES) throw new ApiError("PAYLOAD_TOO_LARGE");
  if (text.trim() === "") {
    if (options.emptyAsObject) return validate(schema, {});
    throw new ApiError("INVALID_JSON", { message: "The request needs a JSON object body." });
  }
  if (!isUtf8Json(c.req.header("content-type") ?? "")) throw new ApiError("UNSUPPORTED_MEDIA_TYPE");
  let value: unknown;
  // The keys of every object parsed, plus one: the reviver also sees the root (as the key "" of an object).
  let keys = 0;
  try {
    value = JSON.parse(text, function (this: unknown, _key, item: unknown) {
      if (!Array.isArray(this)) keys++;
      return item;
    });
    // JSON.parse keeps a repeated key's last value ({"atPeriodEnd":true,"atPeriodEnd":false} would
    // cancel now): refused, as I-JSON (RFC 7493) does. Each colon outside strings is one key in the text.
    if (text.replace(/"(?:[^"\\]|\\.)*"/g, "").split(":").length > keys) throw 0;
  } catch {
    // Not the parser's message: V8 quotes the text around the error, which
    // would echo part of the body (e.g. a mandate token) into the response.
    throw new ApiError("INVALID_JSON");
  }
  return validate(schema, value);
}

/**
 * `application/json`, with no charset or `charset=utf-8`: JSON is UTF-8
 * (RFC 8259 §8.1) and the body is decoded as UTF-8, so a body declared in
 * another charset would be misread, not read.
 */
function isUtf8Json(contentType: string): boolean {
  const [type = "", ...params] = contentType.split(";");
  if (type.trim().toLowerCase() !== "application/json") return false;
  return params.every((param) => {
    const [name = "", value = ""] = param.split("=");
    return name.trim().toLowerCase() !== "charset" || value.trim().replace(/^"(.*)"$/, "$1").toLowerCase() === "utf-8";
  });
}
