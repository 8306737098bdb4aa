import type { InsertResult, UpdateResult } from "kysely";

/**
 * Whether an insert or update wrote at least one row: how every guarded or
 * conflict-ignoring write tells "it applied" from "another write got there
 * first". A missing count (D1 leaves it unset when nothing changed) is none.
 *
 * @example
 * ```ts
 * if (!wroteRows(await db.insertInto("subscription_plans").values(row).onConflict((c) => c.doNothing()).executeTakeFirst())) throw new ApiError("PLAN_EXISTS")
 * ```
 */
export function wroteRows(result: InsertResult | UpdateResult | undefined): boolean {
  const count = result && ("numUpdatedRows" in result ? result.numUpdatedRows : result.numInsertedOrUpdatedRows);
  return (count ?? 0n) > 0n;
}
