import type { SelectQueryBuilder } from "kysely";
import { BillingError } from "./billing-error";
import { decodeBase64, encodeBase64Url } from "./base64";

/** The position after which the next page starts: the last row's sort key. */
export interface KeysetPosition {
  createdAt: string;
  id: string;
}

/** Which page of a list to read: the rows after `after`, at most `limit` of them. */
export interface KeysetPage {
  after: KeysetPosition | undefined;
  limit: number;
}

/**
 * Narrows a query of one table with `createdAt` and `id` columns to one page,
 * newest first. Served by an index `(…, createdAt, id)` after the query's own
 * equality filters (`userId`), so the page reads only its own rows.
 *
 * @example
 * ```ts
 * return newestFirst(db.selectFrom("payment_attempts").selectAll().where("userId", "=", userId), page).execute()
 * ```
 */
export function newestFirst<Query extends SelectQueryBuilder<any, any, any>>(query: Query, page: KeysetPage): Query {
  // Kysely cannot prove that a generic table has these columns; every caller's table does.
  let paged = query as SelectQueryBuilder<any, any, unknown>;
  const after = page.after;
  // A row-value comparison, so SQLite seeks straight to the cursor in the
  // (userId, createdAt, id) index instead of walking every newer row.
  if (after) paged = paged.where((eb) => eb(eb.refTuple("createdAt", "id"), "<", eb.tuple(after.createdAt, after.id)));
  return paged.orderBy("createdAt", "desc").orderBy("id", "desc").limit(page.limit) as Query;
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
