import { readFile } from "node:fs/promises";
import { migrations } from "../../migrations/index";
import { runBatch } from "../../src/billing/d1-batch";
import { parsePlanCatalog, planCatalogChanges, PlanCatalogError, PlanPriceLockedError } from "../../src/billing/plan-catalog";
import { createDb } from "../../src/db/create-db";
import type { CliIo } from "../lib/cli-io";
import { parseFlags, parseTarget, TARGET_BOOLEAN_FLAGS, TARGET_VALUE_FLAGS, UsageError, type TargetOptions } from "../lib/cli-flags";
import { requireMigrated } from "../lib/require-migrated";
import { usingD1 } from "../lib/using-d1";

export const USAGE = "usage: pnpm billing:plans [--file billing/plans.json] [--local|--remote] [--env <name>] [--persist-to <dir>] [--config <path>] [--dry-run]";
const VALUE_FLAGS = [...TARGET_VALUE_FLAGS, "--file"];
const BOOLEAN_FLAGS = [...TARGET_BOOLEAN_FLAGS, "--dry-run"];

interface Cli {
  file: string;
  dryRun: boolean;
  target: TargetOptions;
}

function parseArgs(argv: readonly string[]): Cli {
  try {
    const parsed = parseFlags(argv, VALUE_FLAGS, BOOLEAN_FLAGS);
    if (parsed.positional.length > 0) throw new UsageError(`unexpected argument '${parsed.positional[0]}'`);
    return {
      file: parsed.values.get("--file") ?? "billing/plans.json",
      dryRun: parsed.flags.has("--dry-run"),
      target: parseTarget(parsed),
    };
  } catch (error) {
    // One line, usage included: this command's usage fits on it.
    throw error instanceof UsageError ? new UsageError(`${error.message} (${USAGE})`) : error;
  }
}

/**
 * `pnpm billing:plans`: upserts the plan catalog from a committed file into D1,
 * by plan code, in one atomic batch. Resolves to the exit code: 0 done,
 * 1 refused (a price change under live subscribers), 2 an invalid file (one
 * line on stderr; nothing written); rejects with a `UsageError` on bad flags.
 *
 * @example
 * ```ts
 * const code = await billingPlans(["--persist-to", dir, "--dry-run"], consoleIo)
 * ```
 */
export async function billingPlans(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await syncPlans(parseArgs(argv), io);
  } catch (error) {
    // An invalid file is bad input (2); a refused price change is a conflict with the database (1).
    if (!(error instanceof PlanCatalogError || error instanceof PlanPriceLockedError)) throw error;
    io.err(`error: ${error.message}`);
    return error instanceof PlanCatalogError ? 2 : 1;
  }
}

async function syncPlans(cli: Cli, io: CliIo): Promise<number> {
  const text = await readFile(cli.file, "utf8").catch(() => {
    throw new PlanCatalogError(`cannot read ${cli.file}; pass --file <path> to a plan catalog`);
  });
  // Every plan is validated before the database is opened: one bad entry writes nothing.
  const plans = parsePlanCatalog(text, cli.file);
  return usingD1(cli.target, async (d1) => {
    await requireMigrated(d1, migrations, cli.target);
    const db = createDb(d1);
    const { changes, queries } = await planCatalogChanges(db, plans, new Date().toISOString());
    if (!cli.dryRun) await runBatch(d1, queries);
    const verb = { create: cli.dryRun ? "would create" : "created", update: cli.dryRun ? "would update" : "updated", unchanged: "unchanged" };
    for (const change of changes) io.out(`${verb[change.action].padEnd(12)} ${change.code}`);
    return 0;
  });
}

