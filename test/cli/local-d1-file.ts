import { readdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";

/**
 * The SQLite file behind the local D1 that wrangler keeps under
 * `<persistTo>/v3/d1/miniflare-D1DatabaseObject/`. Throws unless exactly one exists.
 */
export function localD1File(persistTo: string): string {
  const dir = path.join(persistTo, "v3", "d1", "miniflare-D1DatabaseObject");
  const files = readdirSync(dir).filter((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite");
  if (files.length !== 1) throw new Error(`expected one D1 database in ${dir}, found ${files.join(", ") || "none"}`);
  return path.join(dir, files[0]!);
}

/**
 * Opens the local D1's SQLite file directly (no process may be using it),
 * runs `callback` and closes it.
 *
 * @example
 * ```ts
 * const tables = withLocalD1(dir, (db) => db.prepare("select name from sqlite_master").all())
 * ```
 */
export function withLocalD1<T>(persistTo: string, callback: (db: DatabaseSync) => T, options: { write?: boolean } = {}): T {
  const db = new DatabaseSync(localD1File(persistTo), { readOnly: !options.write });
  try {
    return callback(db);
  } finally {
    db.close();
  }
}

export interface DatabaseState {
  /** Every schema object but D1's internal ones: type, name, sql. */
  schema: unknown[];
  /** The Migrator's ledger: name and timestamp of every applied migration. */
  ledger: { name: string; timestamp: string }[];
  /** Every user row (empty when there is no user table). */
  users: unknown[];
}

/** Everything a migration run could change, read from the file, for before/after comparisons. */
export function readState(persistTo: string): DatabaseState {
  return withLocalD1(persistTo, (db) => {
    const names = new Set(
      db.prepare("select name from sqlite_master where type = 'table'").all().map((row) => String(row.name)),
    );
    return {
      schema: db
        .prepare(
          "select type, name, tbl_name, sql from sqlite_master where name not like '\\_cf\\_%' escape '\\' order by type, name",
        )
        .all()
        .map((row) => ({ ...row })),
      ledger: names.has("kysely_migration")
        ? db.prepare("select name, timestamp from kysely_migration order by name").all().map((row) => ({ name: String(row.name), timestamp: String(row.timestamp) }))
        : [],
      users: names.has("user") ? db.prepare('select * from "user" order by id').all().map((row) => ({ ...row })) : [],
    };
  });
}

/** Names of the tables in the file, D1's internal ones excluded. */
export function tableNames(persistTo: string): string[] {
  return withLocalD1(persistTo, (db) =>
    db
      .prepare("select name from sqlite_master where type = 'table' and name not like '\\_cf\\_%' escape '\\' order by name")
      .all()
      .map((row) => String(row.name)),
  );
}
