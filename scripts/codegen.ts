/**
 * `pnpm codegen [--verify]`: writes src/db/generated.ts (Kysely's DB types).
 *
 * Every migration is applied to a throwaway local D1, which kysely-codegen
 * then introspects, so the types never depend on a developer's own database.
 * `--verify` writes nothing and exits 1 when the committed file is stale.
 */
import { codegen, USAGE } from "./commands/codegen";
import { consoleIo } from "./lib/cli-io";
import { exitWithError } from "./lib/exit-with-error";

codegen(process.argv.slice(2), consoleIo).then(
  (code) => process.exit(code),
  (error: unknown) => exitWithError(error, USAGE),
);
