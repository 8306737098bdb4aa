import type { MigrationInfo } from "kysely/migration";

/**
 * A pending migration sorts before the last applied one: Kysely's Migrator
 * applies in name order only and would call the ledger corrupted. Nothing ran.
 */
export class MisorderedMigrationError extends Error {
  constructor(
    readonly migrationName: string,
    readonly lastApplied: string,
  ) {
    super(
      `${migrationName} is new but sorts before ${lastApplied}, the last applied migration: the runner applies migrations in name order only, so rename it to sort after ${lastApplied} (e.g. a later timestamp prefix) and run 'pnpm migrations:d1'`,
    );
    this.name = "MisorderedMigrationError";
  }
}

/**
 * The first pending migration that sorts before the last applied one, if any.
 *
 * @example
 * ```ts
 * misorderedMigration(await migrator.getMigrations()) // MisorderedMigrationError | undefined
 * ```
 */
export function misorderedMigration(migrations: readonly MigrationInfo[]): MisorderedMigrationError | undefined {
  const last = migrations.findLastIndex((migration) => migration.executedAt);
  const pending = migrations.findIndex((migration, index) => index < last && !migration.executedAt);
  return pending === -1 ? undefined : new MisorderedMigrationError(migrations[pending]!.name, migrations[last]!.name);
}
