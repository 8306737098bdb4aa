/**
 * `pnpm migrations:sql [--verify] [--out <dir>]`: writes, for every registered
 * migration, `<dir>/<name>.up.sql` and `<name>.down.sql` (default dir:
 * migrations/sql), captured from the runner itself on a throwaway local D1.
 * The directory is generated as a whole: files of unregistered migrations go.
 * `--verify` writes nothing and exits 1 listing stale, missing and extra files.
 */
import { writeSqlScripts, USAGE } from "./commands/write-sql-scripts";
import { consoleIo } from "./lib/cli-io";
import { exitWithError } from "./lib/exit-with-error";

writeSqlScripts(process.argv.slice(2), consoleIo).then(
  (code) => process.exit(code),
  (error: unknown) => exitWithError(error, USAGE),
);
