import { Kysely } from "kysely";
import { Migrator, NO_MIGRATIONS, type Migration, type MigrationResult } from "kysely/migration";
import { applyBatch, LedgerChangedError } from "./apply-batch";
import { backupRows, type RowBackup } from "./backup-rows";
import { assertWithinBatchLimits } from "./batch-limits";
import { BatchedD1Dialect, type BufferedRun, type BufferedStatement } from "./batched-d1-dialect";
import { findDestructiveChanges, type DestructiveChange } from "./find-destructive-changes";
import { ledgerEntries } from "./ledger-entries";
import { misorderedMigration } from "./misordered-migration-error";
import type { RunAnalyser, StatementEffect } from "./run-analyser";
import { blockingChanges, UnsafeMigrationError } from "./unsafe-migration-error";

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
  /**
   * Reads the run with SQLite: `sqliteWasmAnalyser()` in Node (the CLI),
   * `d1ScratchAnalyser(scratchDatabase)` inside workerd.
   */
  analyser: RunAnalyser;
  /** `preview` runs the migrations, captures their statements and applies nothing. */
  mode?: "apply" | "preview";
  /** Apply a run that drops rows (after backing them up). Never lifts the parent-table guard. */
  force?: boolean;
  /**
   * Stores the backup of the rows a forced run drops; called before the batch
   * is sent, and a throw stops the run. The backup is in the report either way,
   * and stays stored when the batch then fails (e.g. with `RowsChangedError`).
   */
  saveBackup?: (backup: RowBackup) => Promise<void>;
  /** Called right before the batch is sent (after the guards and the backup); a throw stops the run. */
  beforeSend?: (run: BufferedRun) => Promise<void>;
  /**
   * Called with the run's buffered statements before the guards see them (in
   * preview too). It may refuse the run (throw: nothing is sent) or return the
   * caller's bookkeeping writes (e.g. migration checksums), which are sent at
   * the end of the same atomic batch but are not part of `statements`.
   */
  beforeCommit?: (run: BufferedRun) => Promise<BufferedStatement[]>;
}

export interface MigrationRunReport {
  /** Per migration: Success, Error or NotExecuted (as Kysely reports it). */
  results: readonly MigrationResult[];
  /** The statements of the run, in order (applied, or only previewed). */
  statements: BufferedStatement[];
  /** What each statement did to the copy of the schema, as the analyser read it (same order as `statements`). */
  effects: StatementEffect[];
  /** Drops of rows and of parents with children the run holds (in preview: would hold). */
  destructiveChanges: DestructiveChange[];
  /** The rows a forced run backed up before sending its batch (and dropped, unless `error`), as restorable SQL. */
  backup?: RowBackup;
  /** Set when the run failed; then nothing of it was applied. */
  error?: unknown;
  /** The run lost a race, but the other run left every planned migration as this one would have. */
  doneByAnotherRun?: boolean;
}

/**
 * Runs Kysely's `Migrator` over a D1 database as one all-or-nothing batch,
 * after checking the run's statements for destructive changes.
 *
 * One thing happens outside the batch: on first contact the Migrator creates
 * its ledger tables (and this runner its ledger-version row), idempotently,
 * so even a failed or previewed first run leaves those behind, empty.
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
  { migrations, analyser, mode = "apply", force = false, saveBackup, beforeSend, beforeCommit }: RunMigrationsOptions,
): Promise<MigrationRunReport> {
  let captured: BufferedRun = { statements: [], ledgerVersion: 0, effects: [] };
  let destructiveChanges: DestructiveChange[] = [];
  let backup: RowBackup | undefined;
  const db: Kysely<any> = new Kysely<any>({
    dialect: new BatchedD1Dialect({
      database,
      analyser,
      commit: async (run) => {
        captured = run;
        const bookkeeping = (await beforeCommit?.(run)) ?? [];
        // Outside the Migrator's transaction, so these reads run now, before the
        // batch; the batch re-checks the counts, as the app may write meanwhile.
        const { changes, counted } = await findDestructiveChanges(db, run.statements, run.effects, migrations);
        destructiveChanges = changes;
        if (mode === "preview") return;
        const blocking = blockingChanges(destructiveChanges, force);
        if (blocking.length > 0) throw new UnsafeMigrationError(blocking);
        // The ledger check and bump, and one check per counted table, frame the batch.
        assertWithinBatchLimits(run.statements, 2 + counted.length);
        const droppedRows = destructiveChanges.flatMap((change) => (change.kind === "changes-children" ? [] : [change.rowsOf]));
        if (droppedRows.length > 0) {
          backup = await backupRows(db, [...new Set(droppedRows)]);
          await saveBackup?.(backup);
        }
        await beforeSend?.(run);
        await applyBatch(database, run, counted, bookkeeping);
      },
    }),
  });
  try {
    const migrator = createMigrator(db, migrations);
    // Said before Kysely says "corrupted migrations", with the file to rename.
    const misordered = misorderedMigration(await migrator.getMigrations());
    if (misordered) return { results: [], statements: [], effects: [], destructiveChanges: [], error: misordered };
    const { error, results } = await migrate(migrator, command);
    const report: MigrationRunReport = {
      results: results ?? plannedResults(captured.statements),
      statements: captured.statements,
      effects: captured.effects,
      destructiveChanges,
      ...(backup && { backup }),
      ...(error !== undefined && { error }),
    };
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
