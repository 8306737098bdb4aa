import { sql, type Kysely } from "kysely";
import { readForeignKeys, type ForeignKey } from "./read-foreign-keys";
import { quoteIdentifier, sameName } from "./sql-identifier";

/** Rows saved before a forced run drops them. */
export interface RowBackup {
  /** Plain SQL: comments and one `INSERT` per row, for `wrangler d1 execute --file`. */
  sql: string;
  /** Row count per backed-up table, parents first. */
  tables: { table: string; rows: number }[];
}

/**
 * Reads every row of `tables` (now, before the run) and writes them as SQL
 * `INSERT`s that restore them into tables of the same shape.
 *
 * Values are rendered by SQLite's own `quote()`, so text, blobs, integers
 * beyond 2^53 and reals round-trip exactly; one row per line. Parents come before their
 * children, and the file defers foreign-key checks to its end (rows of a
 * self-referencing table are in storage order), so the inserts satisfy D1's
 * always-on foreign keys.
 *
 * @example
 * ```ts
 * const backup = await backupRows(db, ["rateLimit"])
 * await writeFile("backup.sql", backup.sql)
 * ```
 */
export async function backupRows(db: Kysely<any>, tables: readonly string[]): Promise<RowBackup> {
  const ordered = parentsFirst(tables, await readForeignKeys(db));
  const sections: string[] = [];
  const counts: RowBackup["tables"] = [];
  for (const table of ordered) {
    const { createSql, inserts } = await dumpTable(db, table);
    counts.push({ table, rows: inserts.length });
    sections.push(
      [
        `-- ${quoteIdentifier(table)}: ${inserts.length} row(s). Its definition when backed up:`,
        ...createSql.split("\n").map((line) => `--   ${line}`),
        ...inserts,
      ].join("\n"),
    );
  }
  const header = [
    `-- Rows backed up by the migration runner at ${new Date().toISOString()}, before a forced run dropped them.`,
    "-- Restore into tables of the same shape (recreate them first if they are gone, e.g. by",
    "-- migrating back to where they exist), then run:",
    "--   wrangler d1 execute <database> [--remote] --file <this file>",
    // Rows come out in storage order, and a table that references itself (or a
    // cycle of tables) can list a child before its parent: check foreign keys
    // at the end of the file's transaction, not on each insert.
    "PRAGMA defer_foreign_keys = on;",
  ];
  return { sql: `${[header.join("\n"), ...sections].join("\n\n")}\n`, tables: counts };
}

async function dumpTable(db: Kysely<any>, table: string): Promise<{ createSql: string; inserts: string[] }> {
  const { rows: columns } = await sql<{ name: string }>`select name from pragma_table_info(${table}) order by cid`.execute(db);
  const { rows: definition } = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = ${table}`.execute(db);
  const names = columns.map((column) => quoteIdentifier(column.name));
  // quote() keeps line breaks inside text literals; spelling them as char()
  // keeps every INSERT on one line, which line-based SQL runners need.
  const literals = names
    .map((name, index) => `replace(replace(quote(${name}), char(13), '''||char(13)||'''), char(10), '''||char(10)||''') as c${index}`)
    .join(", ");
  const { rows } = await sql<Record<string, string>>`select ${sql.raw(literals)} from ${sql.raw(quoteIdentifier(table))}`.execute(db);
  const into = `insert into ${quoteIdentifier(table)} (${names.join(", ")}) values`;
  return {
    createSql: definition[0]?.sql ?? "(unknown)",
    inserts: rows.map((row) => `${into} (${names.map((_, index) => row[`c${index}`]).join(", ")});`),
  };
}

/** Orders tables so that each comes after the tables it references (cycles keep their given order). */
function parentsFirst(tables: readonly string[], foreignKeys: readonly ForeignKey[]): string[] {
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const visit = (table: string) => {
    if (ordered.includes(table) || visiting.has(table)) return;
    visiting.add(table);
    for (const fk of foreignKeys) {
      const parent = tables.find((candidate) => sameName(candidate, fk.parent));
      if (sameName(fk.child, table) && parent && !sameName(parent, table)) visit(parent);
    }
    ordered.push(table);
  };
  for (const table of tables) visit(table);
  return ordered;
}
