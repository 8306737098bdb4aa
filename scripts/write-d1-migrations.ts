/**
 * `pnpm migrations:d1 [--verify]`: see commands/write-d1-migrations.ts.
 * Exit codes: 0 written (or up to date), 1 stale (--verify) or unreadable files, 2 bad usage.
 */
import { writeD1Migrations, USAGE } from "./commands/write-d1-migrations";
import { consoleIo } from "./lib/cli-io";
import { exitWithError } from "./lib/exit-with-error";

writeD1Migrations(process.argv.slice(2), consoleIo).then(
  (code) => process.exit(code),
  (error: unknown) => exitWithError(error, USAGE),
);
