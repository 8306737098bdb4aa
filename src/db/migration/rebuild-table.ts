import { sql, type Kysely } from "kysely";
import { readForeignKeys, type ForeignKey } from "./read-foreign-keys";
import { quoteIdentifier, sameName } from "./sql-identifier";

export interface RebuildTableOptions {
  /** The table to rebuild. */
  table: string;
  /**
   * Builds the new definition under a temporary `name` (the helper executes it
   * and renames the table to `table` afterwards).
   */
  create: (name: string) => { execute(): Promise<unknown> };
  /** Columns copied from the old table into the new one (present in both, same meaning). */
  columns: readonly string[];
}

/**
 * Rebuilds a table (create the new definition, copy the rows, drop the old,
 * rename) without losing or changing a row of the tables that reference it.
 *
 * D1 always enforces foreign keys, so `DROP TABLE parent` deletes (CASCADE),
 * nulls (SET NULL) or blocks on (NO ACTION) every child row; a deferred check
 * does not help, as the drop's implicit delete is not undone by recreating the
 * parent. So, within the migration's one batch, this first copies every
 * descendant table (children, their children, …) to a keep-table and empties
 * it (deepest first), rebuilds the parent while nothing references it, then
 * puts the rows back (parents first) and drops the keep-tables.
 *
 * Declare it in the migration (`export const handlesChildrenOf = ["user"]`) so
 * the parent-table guard lets the drop through; dropping a table that holds
 * rows still needs `--force` (and writes a backup). Indexes and triggers of the
 * old table go with it: create them again after this call. The children's rows
 * are deleted and inserted again, so their own DELETE and INSERT triggers fire.
 *
 * The descendants are read from the database now, so children created earlier
 * in the same run are not seen (they hold no rows yet, unless the run wrote
 * some, which the one rule forbids relying on).
 *
 * @example
 * ```ts
 * export const handlesChildrenOf = ["user"];
 * export async function up(db: Kysely<any>): Promise<void> {
 *   await rebuildTable(db, {
 *     table: "user",
 *     columns: ["id", "name", "email"],
 *     create: (name) => db.schema.createTable(name).addColumn("id", "text", (c) => c.primaryKey())…,
 *   });
 * }
 * ```
 */
export async function rebuildTable(db: Kysely<any>, { table, create, columns }: RebuildTableOptions): Promise<void> {
  const descendants = descendantsParentsFirst(table, await readForeignKeys(db));
  const keep = (name: string) => `__rebuild_keep_${name}`;
  const run = (query: string) => sql.raw(query).execute(db);

  for (const child of descendants) {
    await run(`create table ${quoteIdentifier(keep(child))} as select * from ${quoteIdentifier(child)}`);
  }
  // Deepest first, so no delete cascades into (or is blocked by) a table not yet emptied.
  for (const child of descendants.toReversed()) await run(`delete from ${quoteIdentifier(child)}`);

  const rebuilt = `__rebuild_new_${table}`;
  const columnList = columns.map(quoteIdentifier).join(", ");
  await create(rebuilt).execute();
  await run(`insert into ${quoteIdentifier(rebuilt)} (${columnList}) select ${columnList} from ${quoteIdentifier(table)}`);
  await run(`drop table ${quoteIdentifier(table)}`);
  await run(`alter table ${quoteIdentifier(rebuilt)} rename to ${quoteIdentifier(table)}`);

  for (const child of descendants) {
    // Named columns: `select *` would also carry generated columns, which SQLite recomputes and refuses to insert.
    const childColumns = (await storedColumns(db, child)).map(quoteIdentifier).join(", ");
    await run(`insert into ${quoteIdentifier(child)} (${childColumns}) select ${childColumns} from ${quoteIdentifier(keep(child))}`);
    await run(`drop table ${quoteIdentifier(keep(child))}`);
  }
}

/** The table's columns that take values (table_info leaves generated and hidden ones out), read now. */
async function storedColumns(db: Kysely<any>, table: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from pragma_table_info(${table}) order by cid`.execute(db);
  return rows.map((row) => row.name);
}

/** Every table that references `table` directly or through other tables, each after the tables it references. */
function descendantsParentsFirst(table: string, foreignKeys: readonly ForeignKey[]): string[] {
  // Depth-first post-order lists children before their parents; reversed, it is parents first.
  const postOrder: string[] = [];
  const path: string[] = [table];
  const walk = (parent: string) => {
    for (const { child } of foreignKeys.filter((fk) => sameName(fk.parent, parent) && !sameName(fk.child, parent))) {
      if (path.some((name) => sameName(name, child))) {
        throw new Error(`rebuildTable: a reference cycle runs through "${child}"; rebuild "${table}" by hand`);
      }
      if (postOrder.some((name) => sameName(name, child))) continue;
      path.push(child);
      walk(child);
      path.pop();
      postOrder.push(child);
    }
  };
  walk(table);
  return postOrder.toReversed();
}
