/**
 * `pnpm billing:plans [--file billing/plans.json] [--local|--remote] [--env <name>]
 * [--persist-to <dir>] [--config <path>] [--dry-run]`: upserts the plan catalog
 * from a committed file into D1, by plan code, in one atomic batch.
 *
 * Exit codes: 0 done, 1 refused or failed (nothing written), 2 bad usage or an
 * invalid file (one line saying what to fix; nothing written).
 */
import { readFile } from "node:fs/promises";
import { runBatch } from "../src/billing/d1-batch";
import { parsePlanCatalog, planCatalogChanges, PlanCatalogError, PlanPriceLockedError } from "../src/billing/plan-catalog";
import { createDb } from "../src/db/create-db";
import { exitWithError } from "./lib/exit-with-error";
import { UsageError, type TargetOptions } from "./lib/parse-migrate-args";
import { usingD1 } from "./lib/using-d1";

const USAGE = "usage: pnpm billing:plans [--file billing/plans.json] [--local|--remote] [--env <name>] [--persist-to <dir>] [--config <path>] [--dry-run]";
const VALUE_FLAGS = new Set(["--file", "--env", "--persist-to", "--config"]);
const BOOLEAN_FLAGS = new Set(["--local", "--remote", "--dry-run"]);

interface Cli {
  file: string;
  dryRun: boolean;
  target: TargetOptions;
}

function parseArgs(argv: readonly string[]): Cli {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (VALUE_FLAGS.has(arg)) {
      const value = argv[++i];
      if (value === undefined || value.startsWith("--")) throw new UsageError(`${arg} needs a value`);
      values.set(arg, value);
    } else if (BOOLEAN_FLAGS.has(arg)) {
      flags.add(arg);
    } else {
      throw new UsageError(`unexpected argument '${arg}'`);
    }
  }
  if (flags.has("--local") && flags.has("--remote")) throw new UsageError("choose one of --local and --remote");
  if (flags.has("--remote") && values.has("--persist-to")) throw new UsageError("--persist-to is for the local database; drop it or drop --remote");
  return {
    file: values.get("--file") ?? "billing/plans.json",
    dryRun: flags.has("--dry-run"),
    target: {
      remote: flags.has("--remote"),
      env: values.get("--env"),
      persistTo: values.get("--persist-to"),
      config: values.get("--config") ?? "wrangler.toml",
    },
  };
}

async function main(argv: string[]): Promise<number> {
  const cli = parseArgs(argv);
  const text = await readFile(cli.file, "utf8").catch(() => {
    throw new PlanCatalogError(`cannot read ${cli.file}; pass --file <path> to a plan catalog`);
  });
  // Every plan is validated before the database is opened: one bad entry writes nothing.
  const plans = parsePlanCatalog(text, cli.file);
  return usingD1(cli.target, async (d1) => {
    const db = createDb(d1);
    const { changes, queries } = await planCatalogChanges(db, plans, new Date().toISOString());
    if (!cli.dryRun) await runBatch(d1, queries);
    const verb = { create: cli.dryRun ? "would create" : "created", update: cli.dryRun ? "would update" : "updated", unchanged: "unchanged" };
    for (const change of changes) console.log(`${verb[change.action].padEnd(12)} ${change.code}`);
    return 0;
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message} (${USAGE})`);
      process.exit(2);
    }
    // An invalid file is bad input (2); a refused price change is a conflict with the database (1).
    if (error instanceof PlanCatalogError || error instanceof PlanPriceLockedError) {
      console.error(`error: ${error.message}`);
      process.exit(error instanceof PlanCatalogError ? 2 : 1);
    }
    exitWithError(error);
  },
);
