import type { CompiledQuery } from "kysely";

/** Anything Kysely can compile without running: a query builder or a `sql` template. */
export interface Compilable {
  compile(): CompiledQuery;
}

/**
 * Runs Kysely queries as one `D1Database.batch()`: D1 has no interactive
 * transactions, but a batch is atomic (all statements commit, or none do when
 * one fails). Each query is compiled by Kysely and bound into a D1 prepared
 * statement, so the SQL stays typed against `DB`.
 *
 * @returns one D1 result per query, in order (`meta.changes` tells what a write did).
 * @example
 * ```ts
 * const [cleared, set] = await runBatch(env.DB, [
 *   db.updateTable("direct_debit_tokens").set({ isDefault: 0 }).where("userId", "=", userId),
 *   db.updateTable("direct_debit_tokens").set({ isDefault: 1 }).where("id", "=", tokenId),
 * ])
 * ```
 */
export async function runBatch(d1: D1Database, queries: readonly Compilable[]): Promise<D1Result[]> {
  if (queries.length === 0) return [];
  const statements = queries.map((query) => {
    const { sql, parameters } = query.compile();
    return d1.prepare(sql).bind(...parameters);
  });
  return d1.batch(statements);
}
