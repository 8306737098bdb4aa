import * as z from "zod";

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
