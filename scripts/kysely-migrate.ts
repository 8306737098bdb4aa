/**
 * `pnpm kysely:migrate <command>`: Kysely's Migrator over the D1 binding.
 * Exit codes: 0 done, 1 a migration failed or was refused (nothing applied),
 * drift or an edited migration found (check, list), 2 bad usage.
 */
import { migrations } from "../migrations/index";
import { inlineParameters } from "../src/db/migration/inline-parameters";
import { runMigrations } from "../src/db/migration/run-migrations";
import { checkDatabase, type CommandOutput } from "./lib/check-database";
import { currentChecksums } from "./lib/current-checksums";
import { exitWithError } from "./lib/exit-with-error";
import { formatDestructiveChange } from "./lib/format-destructive-change";
import { formatRunReport } from "./lib/format-run-report";
import { makeMigration } from "./lib/make-migration";
import { parseMigrateArgs, USAGE } from "./lib/parse-migrate-args";
import { listCommand } from "./lib/list-command";
import { runSafeguards, type RunSafeguards } from "./lib/run-safeguards";
import { takeBookmark } from "./lib/take-bookmark";
import { usingD1 } from "./lib/using-d1";
import { saveRunBackup } from "./lib/save-run-backup";

async function main(argv: string[]): Promise<number> {
  const cli = parseMigrateArgs(argv);
  switch (cli.kind) {
    case "make": {
      const file = await makeMigration("migrations", cli.name, new Date());
      console.log(`created  ${file} (registered in migrations/index.ts)`);
      return 0;
    }
    case "list":
      return printLines(await listCommand(cli.target, migrations, (await currentChecksums(migrations)).checksums));
    case "check":
      return printLines(await checkDatabase(cli.target, migrations, await currentChecksums(migrations)));
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
            const file = await saveRunBackup(backup, {
              dir: cli.backupDir ?? "migrations/backups",
              label,
              bookmark: safeguards?.bookmark(),
              now: new Date(),
            });
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

function printLines({ out, err, exitCode }: CommandOutput): number {
  for (const line of out) console.log(line);
  for (const line of err) console.error(line);
  return exitCode;
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
