/** Runs one read and returns its rows: over D1 (`env.DB`), or over node:sqlite. */
export type ReadRows = (sql: string) => Promise<Record<string, unknown>[]>;

/**
 * Everything a migration can change in the schema: each object's
 * `sqlite_master` row, and per table its `table_info`, `index_list` and
 * `foreign_key_list` pragmas. D1's internal `_cf_*` tables and SQLite's own
 * `sqlite_*` ones are left out, and so is `index_list`'s `seq`: it only
 * numbers a table's indexes by creation order, so a `down` that recreates an
 * index exactly (the index's `sql` is compared) still moves it.
 *
 * @example
 * ```ts
 * const before = await schemaSnapshot(d1Reader(env.DB))
 * ```
 */
export async function schemaSnapshot(read: ReadRows): Promise<Record<string, unknown>> {
  const objects = await read(
    `select type, name, tbl_name, sql from sqlite_master
     where name not like '\\_cf\\_%' escape '\\' and name not like 'sqlite\\_%' escape '\\'
     order by type, name`,
  );
  // One read per pragma for all tables (not one per table: each read is a round trip to D1).
  const [columns, indexes, foreignKeys] = await Promise.all([
    perTable(read, "pragma_table_info", "p.*", "p.cid"),
    perTable(read, "pragma_index_list", `p.name, p."unique", p.origin, p.partial`, "p.name"),
    perTable(read, "pragma_foreign_key_list", "p.*", "p.id, p.seq"),
  ]);
  const tables: Record<string, unknown> = {};
  for (const { name } of objects.filter((object) => object.type === "table")) {
    const table = String(name);
    tables[table] = { columns: columns.get(table) ?? [], indexes: indexes.get(table) ?? [], foreignKeys: foreignKeys.get(table) ?? [] };
  }
  return { objects, tables };
}

/** One pragma's rows (`columns`, in `order`) for every table the snapshot holds, keyed by table. */
async function perTable(read: ReadRows, pragma: string, columns: string, order: string): Promise<Map<string, Record<string, unknown>[]>> {
  const rows = await read(
    `select m.name as "m.name", ${columns} from sqlite_master m join ${pragma}(m.name) p
     where m.type = 'table' and m.name not like '\\_cf\\_%' escape '\\' and m.name not like 'sqlite\\_%' escape '\\'
     order by m.name, ${order}`,
  );
  const byTable = new Map<string, Record<string, unknown>[]>();
  for (const { "m.name": table, ...row } of rows) byTable.set(String(table), [...(byTable.get(String(table)) ?? []), row]);
  return byTable;
}

/**
 * The Migrator's ledger: every `kysely_migration` row and every
 * `kysely_migration_lock` row (which holds the run counter), or empty lists
 * before the first run created them.
 */
export async function ledgerSnapshot(read: ReadRows): Promise<Record<string, unknown>> {
  const tables = (await read(`select name from sqlite_master where type = 'table'`)).map((row) => row.name);
  return {
    migrations: tables.includes("kysely_migration") ? await read(`select * from kysely_migration order by name`) : [],
    locks: tables.includes("kysely_migration_lock") ? await read(`select * from kysely_migration_lock order by id`) : [],
  };
}

/** Every row of a table, in a stable order. */
export function tableRows(read: ReadRows, table: string): Promise<Record<string, unknown>[]> {
  return read(`select * from "${table.replaceAll('"', '""')}" order by 1, 2`);
}

/**
 * A {@link ReadRows} over a D1 binding.
 *
 * @example
 * ```ts
 * const read = d1Reader(env.DB)
 * ```
 */
export function d1Reader(database: D1Database): ReadRows {
  return async (sql) => (await database.prepare(sql).all<Record<string, unknown>>()).results;
}

/**
 * Every row of a table with each value as SQLite's `quote()` renders it, so
 * blobs, reals and integers beyond 2^53 compare exactly.
 */
export async function exactRows(read: ReadRows, table: string): Promise<Record<string, unknown>[]> {
  const literal = `'${table.replaceAll("'", "''")}'`;
  const columns = (await read(`select name from pragma_table_info(${literal}) order by cid`)).map((row) => String(row.name));
  const quoted = columns.map((column) => `quote("${column.replaceAll('"', '""')}") as "${column.replaceAll('"', '""')}"`);
  return read(`select ${quoted.join(", ")} from "${table.replaceAll('"', '""')}" order by rowid`);
}
