import { sql, type Kysely } from "kysely";
/** What a foreign key does to child rows when its parent row is deleted. */
export type OnDeleteAction = "CASCADE" | "SET NULL" | "SET DEFAULT" | "RESTRICT" | "NO ACTION";

/** One foreign key of the database: `child` references `parent`. */
export interface ForeignKey {
  child: string;
  parent: string;
  onDelete: OnDeleteAction;
}

/**
 * Every foreign key between the database's own tables (never D1's `_cf_*`
 * tables, on which D1 refuses pragmas), read at once.
 *
 * @example
 * ```ts
 * const children = (await readForeignKeys(db)).filter((key) => key.parent === "user")
 * ```
 */
export async function readForeignKeys(db: Kysely<any>): Promise<ForeignKey[]> {
  // `_` is a LIKE wildcard, hence the explicit escape character.
  const { rows } = await sql<{ child: string; parent: string; on_delete: string }>`
    select m.name as child, f."table" as parent, f.on_delete
    from sqlite_master m, pragma_foreign_key_list(m.name) f
    where m.type = 'table'
      and m.name not like '\\_cf\\_%' escape '\\'
      and m.name not like 'sqlite\\_%' escape '\\'
    order by m.name, f.id`.execute(db);
  return rows.map((row) => ({ child: row.child, parent: row.parent, onDelete: row.on_delete.toUpperCase() as OnDeleteAction }));
}

/**
 * The database's own table names (no `_cf_*`, no `sqlite_*`).
 *
 * @example
 * ```ts
 * const tables = await readTableNames(db) // ["account", "session", "user", …]
 * ```
 */
export async function readTableNames(db: Kysely<any>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select name from sqlite_master
    where type = 'table'
      and name not like '\\_cf\\_%' escape '\\'
      and name not like 'sqlite\\_%' escape '\\'
    order by name`.execute(db);
  return rows.map((row) => row.name);
}
