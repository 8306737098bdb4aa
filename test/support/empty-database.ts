import { dropsInOrder } from "../../src/db/migration/d1-scratch-engine";

/**
 * Drops every table, view and trigger but SQLite's and D1's own (`sqlite_*`,
 * `_cf_*`), as a database workerd just created; indexes go with their tables.
 *
 * @example
 * ```ts
 * await emptyDatabase(env.DB)
 * ```
 */
export async function emptyDatabase(db: D1Database): Promise<void> {
  const { results } = await db
    .prepare(
      `select m.type as type, m.name as name,
         (select json_group_array(f."table") from pragma_foreign_key_list(m.name) f where m.type = 'table') as parents
       from sqlite_master m
       where m.type in ('table', 'view', 'trigger')
         and m.name not like 'sqlite\\_%' escape '\\' and m.name not like '\\_cf\\_%' escape '\\'`,
    )
    .all<{ type: "table" | "view" | "trigger"; name: string; parents: string | null }>();
  if (results.length === 0) return;
  // With foreign keys on, dropping a table deletes its rows, which SQLite checks
  // against the parent table: children first, and the deferred check for cycles.
  const drops = dropsInOrder(results);
  await db.batch([db.prepare("pragma defer_foreign_keys = on"), ...drops.map((sql) => db.prepare(sql))]);
}
