import { BillingError } from "./billing-error";
import { decodeBase64, encodeBase64Url } from "./base64";

/** The position after which the next page starts: the last row's sort key. */
export interface KeysetPosition {
  createdAt: string;
  id: string;
}

/**
 * Encodes a page position as an opaque cursor (base64url of JSON), so clients
 * pass it back without depending on its shape.
 *
 * @example
 * ```ts
 * const nextCursor = encodeCursor({ createdAt: last.createdAt, id: last.id })
 * ```
 */
export function encodeCursor(position: KeysetPosition): string {
  return encodeBase64Url(new TextEncoder().encode(JSON.stringify([position.createdAt, position.id])));
}

/**
 * Decodes a cursor from {@link encodeCursor}; anything else is 400
 * VALIDATION_FAILED on the `cursor` field.
 *
 * @example
 * ```ts
 * const after = query.cursor ? decodeCursor(query.cursor) : undefined
 * ```
 */
export function decodeCursor(cursor: string): KeysetPosition {
  try {
    const value: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(decodeBase64(cursor)));
    if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === "string" && part.length <= 64)) {
      return { createdAt: value[0], id: value[1] };
    }
  } catch {
    // fall through: any decoding failure is the same client mistake
  }
  throw new BillingError("VALIDATION_FAILED", {
    details: { fields: [{ path: "cursor", message: "not a cursor from a previous page's nextCursor" }] },
  });
}
