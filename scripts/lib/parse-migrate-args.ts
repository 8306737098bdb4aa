import type { MigrationCommand } from "../../src/db/migration/run-migrations";
import {
  parseFlags,
  parseTarget,
  TARGET_BOOLEAN_FLAGS,
  TARGET_VALUE_FLAGS,
  UsageError,
  type TargetOptions,
} from "./cli-flags";

export type MigrateCliCommand =
  | { kind: "run"; command: MigrationCommand; target: TargetOptions; force: boolean; backupDir?: string }
  | { kind: "sql"; command: MigrationCommand; target: TargetOptions }
  | { kind: "list"; target: TargetOptions }
  | { kind: "make"; name: string };

export const USAGE = `usage: pnpm kysely:migrate <command> [flags]

commands:
  latest             apply every pending migration
  up                 apply the next pending migration
  down [--all]       revert the last applied migration (--all: every one)
  to <name>          migrate up or down until <name> is the last applied
  list               show every migration: applied or pending
  sql [latest|down|to <name>]
                     print the statements a run would execute; applies nothing
  make <name>        create migrations/<timestamp>_<name>.ts and register it

flags:
  --local            the local D1 in .wrangler/state (default)
  --remote           the Cloudflare D1 named in wrangler.toml
  --env <name>       a wrangler environment
  --persist-to <dir> where local state lives (default: .wrangler/state)
  --config <path>    the wrangler config (default: wrangler.toml)
  --force            run a change that drops rows, after writing a backup
  --backup-dir <dir> where --force writes that backup (default: migrations/backups)`;

const VALUE_FLAGS = [...TARGET_VALUE_FLAGS, "--backup-dir"];
const BOOLEAN_FLAGS = [...TARGET_BOOLEAN_FLAGS, "--all", "--force"];

/**
 * Parses `kysely:migrate` arguments; throws {@link UsageError} on anything off.
 *
 * @example
 * ```ts
 * parseMigrateArgs(["down", "--all", "--persist-to", "/tmp/db"])
 * ```
 */
export function parseMigrateArgs(argv: readonly string[]): MigrateCliCommand {
  const parsed = parseFlags(argv, VALUE_FLAGS, BOOLEAN_FLAGS);
  const { positional, values, flags } = parsed;
  const target = parseTarget(parsed);

  const backupDir = values.get("--backup-dir");
  if (backupDir !== undefined && !flags.has("--force")) {
    throw new UsageError("--backup-dir goes with --force: it is where the backup of the dropped rows is written");
  }

  const [verb, ...rest] = positional;
  const allowOnly = (allowed: string[]) => {
    for (const flag of flags) {
      if (!["--local", "--remote", ...allowed].includes(flag)) throw new UsageError(`${flag} does not apply to '${verb}'`);
    }
  };
  const noMoreArguments = (count: number) => {
    if (rest.length > count) throw new UsageError(`unexpected argument '${rest[count]}'`);
  };

  switch (verb) {
    case undefined:
      throw new UsageError("missing command");
    case "latest":
    case "up":
      allowOnly(["--force"]);
      noMoreArguments(0);
      return { kind: "run", command: { verb }, target, force: flags.has("--force"), backupDir };
    case "down":
      allowOnly(["--all", "--force"]);
      noMoreArguments(0);
      return {
        kind: "run",
        command: { verb: flags.has("--all") ? "down-all" : "down" },
        target,
        force: flags.has("--force"),
        backupDir,
      };
    case "to":
      allowOnly(["--force"]);
      noMoreArguments(1);
      return { kind: "run", command: { verb: "to", target: requireName(rest[0], "to") }, target, force: flags.has("--force"), backupDir };
    case "list":
      allowOnly([]);
      noMoreArguments(0);
      return { kind: "list", target };
    case "sql":
      allowOnly(["--all"]);
      return { kind: "sql", command: parseSqlCommand(rest, flags.has("--all")), target };
    case "make": {
      // make only writes files: a database flag here is a misunderstanding, not a no-op.
      const databaseFlag = [...flags, ...values.keys()][0];
      if (databaseFlag) throw new UsageError(`${databaseFlag} does not apply to 'make'`);
      noMoreArguments(1);
      const name = requireName(rest[0], "make");
      if (!/^[a-z][a-z0-9_]*$/.test(name)) {
        throw new UsageError(`migration name '${name}' must be snake_case (a-z, 0-9, _), e.g. add_invoices`);
      }
      return { kind: "make", name };
    }
    default:
      throw new UsageError(`unknown command '${verb}'`);
  }
}

function parseSqlCommand(rest: string[], all: boolean): MigrationCommand {
  const [what = "latest", name] = rest;
  if (what === "latest" && rest.length <= 1 && !all) return { verb: "latest" };
  if (what === "down" && rest.length <= 1) return { verb: all ? "down-all" : "down" };
  if (what === "to" && rest.length === 2 && !all) return { verb: "to", target: requireName(name, "sql to") };
  throw new UsageError(`'sql' takes latest, down [--all] or to <name>`);
}

function requireName(name: string | undefined, verb: string): string {
  if (!name) throw new UsageError(`'${verb}' needs a migration name`);
  return name;
}
