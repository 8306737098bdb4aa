import { Kysely } from "kysely";
import {
  DEFAULT_MIGRATION_TABLE,
  Migrator,
  NO_MIGRATIONS,
  type Migration,
  type MigrationResult,
} from "kysely/migration";
import { applyBatch, LedgerChangedError } from "./apply-batch";
import { BatchedD1Dialect, type BufferedRun, type BufferedStatement } from "./batched-d1-dialect";

/** What to migrate: the verbs users know from kysely-ctl. */
export type MigrationCommand =
  | { verb: "latest" }
  | { verb: "up" }
  | { verb: "down" }
  | { verb: "down-all" }
  | { verb: "to"; target: string };

export interface RunMigrationsOptions {
  /** The registry: migration name → module. Names sort in run order. */
  migrations: Record<string, Migration>;
  /** `preview` runs the migrations, captures their statements and applies nothing. */
  mode?: "apply" | "preview";
}

export interface MigrationRunReport {
  /** Per migration: Success, Error or NotExecuted (as Kysely reports it). */
  results: readonly MigrationResult[];
  /** The statements of the run, in order (applied, or only previewed). */
  statements: BufferedStatement[];
  /** Set when the run failed; then nothing of it was applied. */
  error?: unknown;
  /** The run lost a race, but the other run left every planned migration as this one would have. */
  doneByAnotherRun?: boolean;
}

/**
 * Runs Kysely's `Migrator` over a D1 database as one all-or-nothing batch.
 *
 * @example
 * ```ts
 * const report = await runMigrations(env.DB, { verb: "latest" }, { migrations })
 * if (report.error) throw report.error
 * ```
 */
export async function runMigrations(
  database: D1Database,
  command: MigrationCommand,
  { migrations, mode = "apply" }: RunMigrationsOptions,
): Promise<MigrationRunReport> {
  let captured: BufferedRun = { statements: [], ledgerVersion: 0 };
  const db = new Kysely<any>({
    dialect: new BatchedD1Dialect({
      database,
      commit: async (run) => {
        captured = run;
        if (mode === "apply") await applyBatch(database, run);
      },
    }),
  });
  try {
    const migrator = createMigrator(db, migrations);
    const { error, results } = await migrate(migrator, command);
    const report = { results: results ?? plannedResults(captured.statements), statements: captured.statements, error };
    if (error instanceof LedgerChangedError) {
      return { ...report, doneByAnotherRun: await isDoneByAnotherRun(migrator, report.results) };
    }
    return report;
  } finally {
    await db.destroy();
  }
}

/** A Kysely `Migrator` over the given registry (no filesystem reads). */
export function createMigrator(db: Kysely<any>, migrations: Record<string, Migration>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

function migrate(migrator: Migrator, command: MigrationCommand) {
  switch (command.verb) {
    case "latest":
      return migrator.migrateToLatest();
    case "up":
      return migrator.migrateUp();
    case "down":
      return migrator.migrateDown();
    case "down-all":
      return migrator.migrateTo(NO_MIGRATIONS);
    case "to":
      return migrator.migrateTo(command.target);
  }
}

async function isDoneByAnotherRun(migrator: Migrator, planned: readonly MigrationResult[]): Promise<boolean> {
  const applied = new Set(
    (await migrator.getMigrations()).filter((migration) => migration.executedAt).map((migration) => migration.name),
  );
  return planned.every(({ migrationName, direction }) => applied.has(migrationName) === (direction === "Up"));
}

/**
 * When the commit itself fails, Kysely reports no results; the ledger
 * statements in the buffer still say which migrations the run held.
 */
function plannedResults(statements: BufferedStatement[]): MigrationResult[] {
  return ledgerEntries(statements).map(({ migrationName, direction }) => ({
    migrationName,
    direction,
    status: "NotExecuted",
  }));
}

interface LedgerEntry {
  /** Index of the ledger statement in the run. */
  index: number;
  migrationName: string;
  direction: "Up" | "Down";
}

/** The Migrator's own ledger writes (one per migration), in run order. */
export function ledgerEntries(statements: BufferedStatement[]): LedgerEntry[] {
  const insert = `insert into "${DEFAULT_MIGRATION_TABLE}"`;
  const remove = `delete from "${DEFAULT_MIGRATION_TABLE}"`;
  return statements.flatMap((statement, index) => {
    const direction = statement.sql.startsWith(insert) ? "Up" : statement.sql.startsWith(remove) ? "Down" : undefined;
    return direction ? [{ index, migrationName: String(statement.parameters[0]), direction }] : [];
  });
}

/** The migration a statement belongs to: the first ledger write at or after it. */
export function migrationOfStatement(statements: BufferedStatement[], index: number): string | undefined {
  return ledgerEntries(statements).find((entry) => entry.index >= index)?.migrationName;
}
