/**
 * `pnpm billing:plans [--file billing/plans.json] [--local|--remote] [--env <name>]
 * [--persist-to <dir>] [--config <path>] [--dry-run]`: upserts the plan catalog
 * from a committed file into D1, by plan code, in one atomic batch.
 *
 * Exit codes: 0 done, 1 refused or failed (nothing written), 2 bad usage or an
 * invalid file (one line saying what to fix; nothing written).
 */
import { billingPlans } from "./commands/billing-plans";
import { consoleIo } from "./lib/cli-io";
import { exitWithError } from "./lib/exit-with-error";

billingPlans(process.argv.slice(2), consoleIo).then((code) => process.exit(code), (error: unknown) => exitWithError(error));
