import * as z from "zod";
import { decodeCursor, encodeCursor, type KeysetPage, type KeysetPosition } from "../billing/keyset-cursor";
import { validate } from "../billing/validate";

/**
 * The query of a paginated list: `?limit=1..100` (default 20) and the
 * opaque `cursor` of the previous page's `nextCursor`; anything else is 400.
 *
 * @example
 * ```ts
 * const { cursor, limit } = validate(pageQuery, c.req.query())
 * ```
 */
export const pageQuery = z.strictObject({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/**
 * Reads the page a list request asks for (`?cursor&limit`, validated as
 * {@link pageQuery}): `list` is asked for one row more than the page, so
 * `nextCursor` is null exactly when nothing follows.
 *
 * @example
 * ```ts
 * const { page, nextCursor } = await readPage(c.req.query(), (p) => listTokens(db, userId, p))
 * return c.json({ tokens: page.map(tokenView), nextCursor })
 * ```
 */
export async function readPage<Row extends KeysetPosition>(
  query: Record<string, string>,
  list: (page: KeysetPage) => Promise<Row[]>,
): Promise<{ page: Row[]; nextCursor: string | null }> {
  const { cursor, limit } = validate(pageQuery, query);
  const rows = await list({ after: cursor ? decodeCursor(cursor) : undefined, limit: limit + 1 });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
