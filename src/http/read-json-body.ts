import type { Context } from "hono";
import * as z from "zod";
import { ApiError } from "./api-error";
import { validate } from "../billing/validate";

/** Bodies above this are refused before parsing: no route here needs more. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

/** The body of a POST that takes no fields (an action on the resource in its path): none, or `{}`. */
export const noFields = z.strictObject({});

/**
 * Reads the request body as JSON and validates it:
 * - over {@link MAX_JSON_BODY_BYTES} → 413 PAYLOAD_TOO_LARGE
 * - a body that is not `application/json`, or declares a charset other than
 *   UTF-8 → 415 UNSUPPORTED_MEDIA_TYPE
 * - not UTF-8, unparseable, or an object with a repeated key → 400 INVALID_JSON
 * - schema mismatch (wrong types, unknown fields) → 400 VALIDATION_FAILED
 *
 * An empty body counts as `{}` when `emptyAsObject` is set (routes whose
 * fields are all optional, or that take none: {@link noFields}), and as
 * INVALID_JSON otherwise. Nesting has no limit of its own (the size is the
 * bound): a nested value is then refused by the schema.
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
  // A missing or malformed Content-Length is NaN, never larger: the body's own size is checked next.
  if (Number(c.req.header("content-length")) > MAX_JSON_BODY_BYTES) throw new ApiError("PAYLOAD_TOO_LARGE");
  const body = await c.req.arrayBuffer();
  if (body.byteLength > MAX_JSON_BODY_BYTES) throw new ApiError("PAYLOAD_TOO_LARGE");
  if (body.byteLength && !isUtf8Json(c.req.header("content-type"))) throw new ApiError("UNSUPPORTED_MEDIA_TYPE");
  const text = utf8Text(body);
  let value: unknown;
  try {
    value = text.trim() || !options.emptyAsObject ? JSON.parse(text) : {};
    // JSON.parse keeps a repeated key's last value ({"atPeriodEnd":true,"atPeriodEnd":false} would
    // cancel now): refused, as I-JSON (RFC 7493) does. Each colon outside strings is one key, so the
    // text has more than the value written out again exactly when a key was dropped. (Not counted
    // with a reviver: its recursion overflows the stack at ~2,500 levels, an undocumented limit.)
    if (text.replace(STRINGS, "").split(":").length > JSON.stringify(value).replace(STRINGS, "").split(":").length) throw 0;
  } catch {
    // Not the parser's message: V8 quotes the text around the error, which
    // would echo part of the body (e.g. a mandate token) into the response.
    throw new ApiError("INVALID_JSON");
  }
  return validate(schema, value);
}

/**
 * The text of a body that must be UTF-8 (JSON is: RFC 8259 §8.1), or 400 INVALID_JSON. Fatal:
 * bytes that are not UTF-8 are refused, never read as U+FFFD (and stored so, or read as another
 * key, or signed text that was never sent); a leading BOM is dropped, as Request.text() does.
 *
 * @example
 * ```ts
 * const text = utf8Text(await c.req.arrayBuffer())
 * ```
 */
export function utf8Text(body: ArrayBuffer): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    throw new ApiError("INVALID_JSON");
  }
}

/** JSON strings, escapes included: what is left of JSON text without them holds one colon per key. */
const STRINGS = /"(\\.|[^"\\])*"/g;

/**
 * `application/json`, with no charset or `charset=utf-8`: JSON is UTF-8
 * (RFC 8259 §8.1) and the body is decoded as UTF-8, so a body declared in
 * another charset would be misread, not read.
 */
function isUtf8Json(contentType = ""): boolean {
  const [type, ...params] = contentType.toLowerCase().split(";");
  // Each parameter either is no charset, or is charset=utf-8 (quoted or not).
  return type!.trim() === "application/json" && params.every((param) => /^(?!\s*charset\b)|^\s*charset\s*=\s*("?)utf-8\1\s*$/.test(param));
}
