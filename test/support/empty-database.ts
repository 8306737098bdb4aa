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
  const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;
  // Triggers and views first (they name tables), then children before their
  // parents: with foreign keys on, dropping a table deletes its rows, which
  // SQLite checks against the parent table (an error once the parent is gone).
  const drops = results.filter((row) => row.type !== "table").map(({ type, name }) => `drop ${type} if exists ${quoted(name)}`);
  let tables = results
    .filter((row) => row.type === "table")
    .map(({ name, parents }) => ({ name, parents: (JSON.parse(parents ?? "[]") as string[]).map((p) => p.toLowerCase()) }));
  while (tables.length > 0) {
    const referenced = new Set(tables.flatMap((t) => t.parents.filter((p) => p !== t.name.toLowerCase())));
    const leaves = tables.filter((t) => !referenced.has(t.name.toLowerCase()));
    // A cycle of foreign keys: drop the rest in any order (the deferred check below covers it).
    const batch = leaves.length > 0 ? leaves : tables;
    drops.push(...batch.map((t) => `drop table if exists ${quoted(t.name)}`));
    tables = tables.filter((t) => !batch.includes(t));
  }
  await db.batch([db.prepare("pragma defer_foreign_keys = on"), ...drops.map((sql) => db.prepare(sql))]);
}
