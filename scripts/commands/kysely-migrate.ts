import type { Migration } from "kysely/migration";
import { migrations as registeredMigrations } from "../../migrations/index";
import { BatchOutcomeUnknownError } from "../../src/db/migration/apply-batch";
import { ledgerEntries } from "../../src/db/migration/ledger-entries";
import { listMigrations } from "../../src/db/migration/list-migrations";
import { runMigrations, type MigrationRunReport } from "../../src/db/migration/run-migrations";
import { sqliteWasmAnalyser } from "../../src/db/migration/sqlite-wasm-analyser";
import { statementText } from "../../src/db/migration/statement-text";
import { betterAuthColumns } from "../lib/better-auth-columns";
import { adoptCommand } from "../lib/adopt-command";
import { checkDatabase, type CommandOutput } from "../lib/check-database";
import type { TargetOptions } from "../lib/cli-flags";
import type { CliIo } from "../lib/cli-io";
import { currentChecksums as loadChecksums } from "../lib/current-checksums";
import { formatDestructiveChange } from "../lib/format-destructive-change";
import { formatRunReport } from "../lib/format-run-report";
import { clearInFlightRun, describeOrphanedRun, readOrphanedRun, writeInFlightRun } from "../lib/in-flight-run";
import { formatLintResult } from "../lib/format-lint-result";
import { lintCommand } from "../lib/lint-command";
import { listCommand } from "../lib/list-command";
import { d1MigrationSettings } from "../lib/read-sql-migrations";
import { makeMigration } from "../lib/make-migration";
import { parseMigrateArgs } from "../lib/parse-migrate-args";
import { runSafeguards, type RunSafeguards } from "../lib/run-safeguards";
import { saveRunBackup } from "../lib/save-run-backup";
import { takeBookmark } from "../lib/take-bookmark";
import { unadoptedLedgerRefusal } from "../lib/unadopted-ledger";
import { usingD1 } from "../lib/using-d1";

/**
 * `pnpm kysely:migrate <command>`: Kysely's Migrator over the D1 binding.
 * Resolves to the exit code: 0 done, 1 a migration failed or was refused
 * (nothing applied), or drift / an edited migration found (check, list);
 * rejects with a `UsageError` (exit 2) on bad usage. `options` swap the
 * registry (and where its checksums are cached), for tests.
 *
 * @example
 * ```ts
 * const code = await kyselyMigrate(["latest", "--persist-to", dir], consoleIo)
 * ```
 */
export async function kyselyMigrate(
  argv: readonly string[],
  io: CliIo,
  options: { migrations?: Record<string, Migration>; checksumCacheFile?: string } = {},
): Promise<number> {
  const cli = parseMigrateArgs(argv);
  const migrations = options.migrations ?? registeredMigrations;
  const currentChecksums = (registry: Record<string, Migration>) =>
    loadChecksums(registry, options.checksumCacheFile ? { cacheFile: options.checksumCacheFile } : {});
  switch (cli.kind) {
    case "make": {
      const file = await makeMigration("migrations", cli.name, new Date());
      io.out(`created  ${file} (registered in migrations/index.ts)`);
      return 0;
    }
    case "list": {
      const { checksums } = await currentChecksums(migrations);
      return printLines(await listCommand(cli.target, migrations, checksums, (db) => reportOrphanedRun(cli.target, db, io, migrations)), io);
    }
    case "check":
      return printLines(await checkDatabase(cli.target, migrations, await currentChecksums(migrations)), io);
    case "lint":
      return printLines(formatLintResult(await lintCommand(cli.target, migrations, cli.selection, betterAuthColumns()), { json: cli.json }), io);
    case "adopt":
      return printLines(await adoptCommand(cli.target, migrations, () => currentChecksums(migrations), { preview: cli.preview }), io);
    case "sql": {
      const { checksums } = await currentChecksums(migrations);
      const report = await usingD1(cli.target, (db) =>
        runMigrations(db, cli.command, {
          migrations,
          analyser: sqliteWasmAnalyser(),
          mode: "preview",
          beforeCommit: runSafeguards(db, { checksums, acceptEdited: cli.acceptEdited, log: io.err }).beforeCommit,
        }),
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
      let safeguards: RunSafeguards | undefined;
      const report = await usingD1(cli.target, async (db): Promise<MigrationRunReport> => {
        // Read once usingD1 has checked --env (wrangler would warn about an unknown one first).
        const { migrationsTable } = await d1MigrationSettings(cli.target.config, cli.target.env);
        await reportOrphanedRun(cli.target, db, io, migrations);
        // Before the checksums (which may replay the registry): a database another tool migrated needs adopt first.
        const unadopted = await unadoptedLedgerRefusal(db, migrationsTable);
        if (unadopted) return { results: [], statements: [], effects: [], destructiveChanges: [], error: unadopted };
        const { checksums } = await currentChecksums(migrations);
        safeguards = runSafeguards(db, {
          checksums,
          acceptEdited: cli.acceptEdited,
          takeBookmark: cli.target.remote && cli.bookmark ? () => takeBookmark(cli.target) : undefined,
          log: io.out,
        });
        return runMigrations(db, cli.command, {
          migrations,
          analyser: sqliteWasmAnalyser(),
          force: cli.force,
          beforeCommit: safeguards.beforeCommit,
          // Written before the batch is sent: if writing fails, nothing is applied.
          saveBackup: async (backup) => {
            const file = await saveRunBackup(backup, {
              dir: cli.backupDir ?? "migrations/backups",
              label,
              bookmark: safeguards?.bookmark(),
              now: new Date(),
            });
            const rows = backup.tables.map(({ table, rows }) => `${rows} row(s) of "${table}"`).join(", ");
            io.out(`backup   ${file} (${rows}); restore with: wrangler d1 execute <database> --file ${file}`);
          },
          beforeSend: (run) =>
            writeInFlightRun(cli.target, { pid: process.pid, startedAt: new Date().toISOString(), planned: ledgerEntries(run.statements) }),
        });
      });
      // An unknown outcome stays recorded, for the next call to read from the ledger.
      if (!(report.error instanceof BatchOutcomeUnknownError)) await clearInFlightRun(cli.target);
      const code = printRun(report, io);
      if (!report.error) for (const line of safeguards?.summary() ?? []) io.out(line);
      return code;
    }
  }
}

/** Reports (on stderr) what the ledger says of a run whose CLI process died before reporting it, then forgets it. */
async function reportOrphanedRun(target: TargetOptions, db: D1Database, io: CliIo, registry: Record<string, Migration>): Promise<void> {
  const orphan = await readOrphanedRun(target);
  if (!orphan) return;
  for (const line of describeOrphanedRun(orphan, await listMigrations(db, registry))) io.err(line);
  await clearInFlightRun(target);
}

function printLines({ out, err, exitCode }: CommandOutput, io: CliIo): number {
  for (const line of out) io.out(line);
  for (const line of err) io.err(line);
  return exitCode;
}

function printRun(report: Parameters<typeof formatRunReport>[0], io: CliIo): number {
  const { lines, exitCode } = formatRunReport(report);
  for (const line of lines) (exitCode === 0 ? io.out : io.err)(line);
  return exitCode;
}
