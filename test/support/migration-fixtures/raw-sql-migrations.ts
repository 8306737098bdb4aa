import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/** The one migration of {@link oneMigration}'s registries. */
export const RAW_SQL_MIGRATION = "20000501000000_raw_sql";

/**
 * A test-only registry (never part of migrations/index.ts) of one migration
 * whose `up` is the given body, so a test can try one raw-SQL shape per run.
 *
 * @example
 * ```ts
 * await runMigrations(env.DB, { verb: "latest" }, { migrations: oneMigration((db) => sql`values (1)`.execute(db)) })
 * ```
 */
export function oneMigration(up: (db: Kysely<any>) => Promise<unknown>): Record<string, Migration> {
  return {
    [RAW_SQL_MIGRATION]: {
      async up(db: Kysely<any>) {
        await up(db);
      },
    },
  };
}
