/**
 * `pnpm kysely:migrate <command>`: Kysely's Migrator over the D1 binding.
 * Exit codes: 0 done, 1 a migration failed (nothing applied), 2 bad usage.
 */
import { migrations } from "../migrations/index";
import { inlineParameters } from "../src/db/migration/inline-parameters";
import { runMigrations } from "../src/db/migration/run-migrations";
import { listMigrations } from "../src/db/migration/list-migrations";
import { compareChecksums, readRecordedChecksums } from "../src/db/migration/migration-checksums";
import { checkDatabase } from "./lib/check-database";
import { currentChecksums } from "./lib/current-checksums";
import { exitWithError } from "./lib/exit-with-error";
import { formatDestructiveChange } from "./lib/format-destructive-change";
import { formatRunReport } from "./lib/format-run-report";
import { makeMigration } from "./lib/make-migration";
import { parseMigrateArgs, USAGE } from "./lib/parse-migrate-args";
import { describeEdit, runSafeguards, type RunSafeguards } from "./lib/run-safeguards";
import { takeBookmark } from "./lib/take-bookmark";
import { usingD1 } from "./lib/using-d1";
import { writeBackupFile } from "./lib/write-backup-file";

async function main(argv: string[]): Promise<number> {
  const cli = parseMigrateArgs(argv);
  switch (cli.kind) {
    case "make": {
      const file = await makeMigration("migrations", cli.name, new Date());
      console.log(`created  ${file} (registered in migrations/index.ts)`);
      return 0;
    }
    case "list": {
      const { checksums } = await currentChecksums(migrations);
      const { rows, recorded } = await usingD1(cli.target, async (db) => ({
        rows: await listMigrations(db, migrations),
        recorded: await readRecordedChecksums(db),
      }));
      const applied = rows.filter((row) => row.executedAt).map((row) => row.name);
      const { edited } = compareChecksums({ applied, recorded, current: checksums, accept: [] });
      const width = Math.max(4, ...rows.map((row) => row.name.length));
      console.log(`${"name".padEnd(width)}  status`);
      for (const row of rows) {
        const mark = edited.some((migration) => migration.name === row.name) ? "  EDITED since applied" : "";
        console.log(`${row.name.padEnd(width)}  ${row.executedAt ? `applied ${row.executedAt.toISOString()}${mark}` : "pending"}`);
      }
      for (const line of edited.flatMap(describeEdit)) console.error(line);
      return edited.length > 0 ? 1 : 0;
    }
    case "check": {
      const { checksums } = await currentChecksums(migrations);
      const { out, err, exitCode } = await checkDatabase(cli.target, migrations, checksums);
      for (const line of out) console.log(line);
      for (const line of err) console.error(line);
      return exitCode;
    }
    case "sql": {
      const { checksums } = await currentChecksums(migrations);
      const report = await usingD1(cli.target, (db) =>
        runMigrations(db, cli.command, {
          migrations,
          mode: "preview",
          beforeCommit: runSafeguards(db, { checksums, acceptEdited: cli.acceptEdited, log: console.error }).beforeCommit,
        }),
      );
      if (report.error) return printRun(report);
      for (const statement of report.statements) console.log(`${inlineParameters(statement.sql, statement.parameters)};`);
      if (report.statements.length === 0) console.error("nothing to do: no statements");
      // On stderr, so stdout stays a runnable script.
      for (const change of report.destructiveChanges) {
        const [what, howToProceed] = formatDestructiveChange(change);
        console.error(`note: ${what}`);
        console.error(howToProceed);
      }
      return 0;
    }
    case "run": {
      const label = `${cli.target.remote ? "remote" : "local"}-${cli.command.verb}`;
      const { checksums } = await currentChecksums(migrations);
      let safeguards: RunSafeguards | undefined;
      const report = await usingD1(cli.target, (db) => {
        safeguards = runSafeguards(db, {
          checksums,
          acceptEdited: cli.acceptEdited,
          takeBookmark: cli.target.remote && cli.bookmark ? () => takeBookmark(cli.target) : undefined,
          log: console.log,
        });
        return runMigrations(db, cli.command, {
          migrations,
          force: cli.force,
          beforeCommit: safeguards.beforeCommit,
          // Written before the batch is sent: if writing fails, nothing is applied.
          saveBackup: async (backup) => {
            const bookmark = safeguards?.bookmark();
            const file = await writeBackupFile(
              cli.backupDir ?? "migrations/backups",
              bookmark ? { ...backup, sql: `-- Time Travel bookmark before this run: ${bookmark.bookmark} (${bookmark.restoreCommand})\n${backup.sql}` } : backup,
              bookmark ? `${label}-${bookmark.bookmark}` : label,
              new Date(),
            );
            const rows = backup.tables.map(({ table, rows }) => `${rows} row(s) of "${table}"`).join(", ");
            console.log(`backup   ${file} (${rows}); restore with: wrangler d1 execute <database> --file ${file}`);
          },
        });
      });
      const code = printRun(report);
      if (!report.error) for (const line of safeguards?.summary() ?? []) console.log(line);
      return code;
    }
  }
}

function printRun(report: Parameters<typeof formatRunReport>[0]): number {
  const { lines, exitCode } = formatRunReport(report);
  for (const line of lines) (exitCode === 0 ? console.log : console.error)(line);
  return exitCode;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => exitWithError(error, USAGE),
);
