import { migrations } from "../../migrations/index";
import { BatchOutcomeUnknownError } from "../../src/db/migration/apply-batch";
import { ledgerEntries } from "../../src/db/migration/ledger-entries";
import { listMigrations } from "../../src/db/migration/list-migrations";
import { runMigrations } from "../../src/db/migration/run-migrations";
import { sqliteWasmAnalyser } from "../../src/db/migration/sqlite-wasm-analyser";
import { statementText } from "../../src/db/migration/statement-text";
import type { TargetOptions } from "../lib/cli-flags";
import type { CliIo } from "../lib/cli-io";
import { formatDestructiveChange } from "../lib/format-destructive-change";
import { formatRunReport } from "../lib/format-run-report";
import { clearInFlightRun, describeOrphanedRun, readOrphanedRun, writeInFlightRun } from "../lib/in-flight-run";
import { makeMigration } from "../lib/make-migration";
import { parseMigrateArgs } from "../lib/parse-migrate-args";
import { usingD1 } from "../lib/using-d1";
import { writeBackupFile } from "../lib/write-backup-file";

/**
 * `pnpm kysely:migrate <command>`: Kysely's Migrator over the D1 binding.
 * Resolves to the exit code: 0 done, 1 a migration failed (nothing applied);
 * rejects with a `UsageError` (exit 2) on bad usage.
 *
 * @example
 * ```ts
 * const code = await kyselyMigrate(["latest", "--persist-to", dir], consoleIo)
 * ```
 */
export async function kyselyMigrate(argv: readonly string[], io: CliIo): Promise<number> {
  const cli = parseMigrateArgs(argv);
  switch (cli.kind) {
    case "make": {
      const file = await makeMigration("migrations", cli.name, new Date());
      io.out(`created  ${file} (registered in migrations/index.ts)`);
      return 0;
    }
    case "list": {
      const rows = await usingD1(cli.target, async (db) => {
        await reportOrphanedRun(cli.target, db, io);
        return listMigrations(db, migrations);
      });
      const width = Math.max(4, ...rows.map((row) => row.name.length));
      io.out(`${"name".padEnd(width)}  status`);
      for (const row of rows) {
        io.out(`${row.name.padEnd(width)}  ${row.executedAt ? `applied ${row.executedAt.toISOString()}` : "pending"}`);
      }
      return 0;
    }
    case "sql": {
      const report = await usingD1(cli.target, (db) =>
        runMigrations(db, cli.command, { migrations, analyser: sqliteWasmAnalyser(), mode: "preview" }),
      );
      if (report.error) return printRun(report, io);
      for (const statement of report.statements) io.out(`${statementText(statement)};`);
      if (report.statements.length === 0) io.err("nothing to do: no statements");
      // On stderr, so stdout stays a runnable script.
      for (const change of report.destructiveChanges) {
        const [what, howToProceed] = formatDestructiveChange(change);
        io.err(`note: ${what}`);
        io.err(howToProceed);
      }
      return 0;
    }
    case "run": {
      const label = `${cli.target.remote ? "remote" : "local"}-${cli.command.verb}`;
      const report = await usingD1(cli.target, async (db) => {
        await reportOrphanedRun(cli.target, db, io);
        return runMigrations(db, cli.command, {
          migrations,
          analyser: sqliteWasmAnalyser(),
          force: cli.force,
          // Written before the batch is sent: if writing fails, nothing is applied.
          saveBackup: async (backup) => {
            const file = await writeBackupFile(cli.backupDir ?? "migrations/backups", backup, label, new Date());
            const rows = backup.tables.map(({ table, rows }) => `${rows} row(s) of "${table}"`).join(", ");
            io.out(`backup   ${file} (${rows}); restore with: wrangler d1 execute <database> --file ${file}`);
          },
          beforeSend: (run) =>
            writeInFlightRun(cli.target, { pid: process.pid, startedAt: new Date().toISOString(), planned: ledgerEntries(run.statements) }),
        });
      });
      // An unknown outcome stays recorded, for the next call to read from the ledger.
      if (!(report.error instanceof BatchOutcomeUnknownError)) await clearInFlightRun(cli.target);
      return printRun(report, io);
    }
  }
}

/** Reports (on stderr) what the ledger says of a run whose CLI process died before reporting it, then forgets it. */
async function reportOrphanedRun(target: TargetOptions, db: D1Database, io: CliIo): Promise<void> {
  const orphan = await readOrphanedRun(target);
  if (!orphan) return;
  for (const line of describeOrphanedRun(orphan, await listMigrations(db, migrations))) io.err(line);
  await clearInFlightRun(target);
}

function printRun(report: Parameters<typeof formatRunReport>[0], io: CliIo): number {
  const { lines, exitCode } = formatRunReport(report);
  for (const line of lines) (exitCode === 0 ? io.out : io.err)(line);
  return exitCode;
}
