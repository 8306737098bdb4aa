import { sql, type Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/** A SQL-file migration as `pnpm migrations:d1` embeds it (see migrations/d1-migrations.ts). */
export interface SqlFileMigrationSource {
  /** The file, relative to the repository: `<migrations_dir>/<name>.sql` or drizzle-kit's `<migrations_dir>/<name>/migration.sql`. */
  file: string;
  /** What wrangler's ledger (`d1_migrations`) calls it: the file name for `<dir>/*.sql`. */
  ledgerName: string;
  /** SHA-256 (hex) of the file's text, as drizzle-orm's `__drizzle_migrations.hash` records it. */
  sha256: string;
  /** The file's statements, split by SQLite (`sqlite3_complete`) when it was embedded. */
  up: readonly string[];
  /** The down file, `<migrations_dir>/down/<name>.sql`, when there is one. */
  downFile?: string;
  down?: readonly string[];
}

/** A migration that is a SQL file: the embedded source, kept for `adopt` (ledger names, drizzle hashes). */
export interface SqlFileMigration extends Migration {
  readonly source: SqlFileMigrationSource;
}

/**
 * Turns an embedded SQL file into a Kysely migration that runs its statements
 * one by one, in the runner's batch like any other. Without a down file its
 * `down` refuses (Kysely would otherwise revert it by deleting its ledger row
 * and leave its tables behind).
 *
 * @example
 * ```ts
 * sqlFileMigration("0000_init", { file: "migrations/d1/0000_init.sql", ledgerName: "0000_init.sql", sha256, up: ["create table t (id integer)"] })
 * ```
 */
export function sqlFileMigration(name: string, source: SqlFileMigrationSource): SqlFileMigration {
  return {
    source,
    up: (db) => runStatements(db, source.up),
    down: async (db) => {
      if (!source.down) {
        throw new Error(
          `${name} is a SQL migration without a down file, so it cannot be reverted; to make it revertible, write ${downFileFor(source.file, name)} and run 'pnpm migrations:d1'`,
        );
      }
      await runStatements(db, source.down);
    },
  };
}

/** Where the optional down file of a SQL migration goes: `<dir>/down/<name>.sql`, outside wrangler's `<dir>/*.sql`. */
export function downFileFor(file: string, name: string): string {
  const dir = file.endsWith("/migration.sql") ? file.split("/").slice(0, -2).join("/") : file.split("/").slice(0, -1).join("/");
  return `${dir}/down/${name}.sql`;
}

/**
 * Whether `down` can revert the migration: it has a `down`, and for a SQL
 * file a down file (without one, its `down` only refuses).
 *
 * @example
 * ```ts
 * if (isRevertible(migrations[name])) await preview({ verb: "down" })
 * ```
 */
export function isRevertible(migration: Migration): boolean {
  return migration.down !== undefined && (!isSqlFileMigration(migration) || migration.source.down !== undefined);
}

/** True for a registry entry made by {@link sqlFileMigration}. */
export function isSqlFileMigration(migration: Migration): migration is SqlFileMigration {
  return "source" in migration && typeof (migration as SqlFileMigration).source?.ledgerName === "string";
}

async function runStatements(db: Kysely<any>, statements: readonly string[]): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
