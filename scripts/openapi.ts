/**
 * `pnpm openapi [--verify]`: writes public/api/billing/openapi.json and
 * public/api/reference.html (see scripts/commands/openapi.ts).
 */
import { openapi, USAGE } from "./commands/openapi";
import { consoleIo } from "./lib/cli-io";
import { exitWithError } from "./lib/exit-with-error";

openapi(process.argv.slice(2), consoleIo).then(
  (code) => process.exit(code),
  (error: unknown) => exitWithError(error, USAGE),
);
