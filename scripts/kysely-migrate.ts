/**
 * `pnpm kysely:migrate <command>`: see commands/kysely-migrate.ts.
 * Exit codes: 0 done, 1 a migration failed or was refused (nothing applied),
 * drift or an edited migration found (check, list), 2 bad usage.
 */
import { kyselyMigrate } from "./commands/kysely-migrate";
import { consoleIo } from "./lib/cli-io";
import { exitWithError } from "./lib/exit-with-error";
import { USAGE } from "./lib/parse-migrate-args";

kyselyMigrate(process.argv.slice(2), consoleIo).then(
  (code) => process.exit(code),
  (error: unknown) => exitWithError(error, USAGE),
);
