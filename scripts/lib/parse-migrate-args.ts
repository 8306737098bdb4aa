import type { MigrationCommand } from "../../src/db/migration/run-migrations";
import type { LintSelection } from "./lint-command";
import {
  parseFlags,
  parseTarget,
  TARGET_BOOLEAN_FLAGS,
  TARGET_VALUE_FLAGS,
  UsageError,
  type TargetOptions,
} from "./cli-flags";

export type MigrateCliCommand =
  | {
      kind: "run";
      command: MigrationCommand;
      target: TargetOptions;
      force: boolean;
      backupDir?: string;
      /** `--accept-edited <name>[,<name>…]`. */
      acceptEdited: string[];
      /** False with `--no-bookmark` (only with `--remote`). */
      bookmark: boolean;
    }
  | { kind: "sql"; command: MigrationCommand; target: TargetOptions; acceptEdited: string[] }
  | { kind: "list"; target: TargetOptions }
  | { kind: "check"; target: TargetOptions }
  | { kind: "lint"; target: TargetOptions; selection: LintSelection; json: boolean }
  /** `adopt`, or `sql adopt` (`preview`). */
  | { kind: "adopt"; target: TargetOptions; preview: boolean }
  | { kind: "make"; name: string };

export const USAGE = `usage: pnpm kysely:migrate <command> [flags]

commands:
  latest             apply every pending migration
  up                 apply the next pending migration
  down [--all]       revert the last applied migration (--all: every one)
  to <name>          migrate up or down until <name> is the last applied
  list               show every migration: applied or pending
  check              compare the database's schema with what its applied
                     migrations create; exit 1 on drift or an edited migration
  lint [<name>|--all] [--json]
                     check pending migrations (or <name>; --all: every one,
                     on a throwaway database) for destructive, data-dependent,
                     Better Auth and D1-limit problems; applies nothing;
                     exit 1 on an error (docs/migrations.md, "Lint")
  adopt              record the migrations wrangler (migrations_table) or
                     drizzle-orm (__drizzle_migrations) applied, and the Better
                     Auth baseline, as applied, without running them
  sql [latest|down|to <name>|adopt]
                     print the statements a run would execute; applies nothing
  make <name>        create migrations/<timestamp>_<name>.ts and register it

flags:
  --local            the local D1 in .wrangler/state (default)
  --remote           the Cloudflare D1 named in wrangler.toml
  --env <name>       a wrangler environment
  --persist-to <dir> where local state lives (default: .wrangler/state)
  --config <path>    the wrangler config (default: wrangler.toml)
  --force            run a change that drops rows, after writing a backup
  --backup-dir <dir> where --force writes that backup (default: migrations/backups)
  --accept-edited <name>[,<name>]
                     run although these applied migrations were edited since
                     (their new checksums replace the recorded ones)
  --no-bookmark      a --remote run that changes anything goes on without
                     first taking a Time Travel bookmark`;

const VALUE_FLAGS = [...TARGET_VALUE_FLAGS, "--backup-dir", "--accept-edited"];
const BOOLEAN_FLAGS = [...TARGET_BOOLEAN_FLAGS, "--all", "--force", "--no-bookmark", "--json"];

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

  const acceptEdited = values.get("--accept-edited")?.split(",") ?? [];
  if (acceptEdited.some((name) => name === "")) throw new UsageError("--accept-edited takes migration names separated by commas");
  if (flags.has("--no-bookmark") && !target.remote) throw new UsageError("--no-bookmark goes with --remote: only a remote run takes a bookmark");

  const [verb, ...rest] = positional;
  const allowOnly = (allowed: string[]) => {
    if (acceptEdited.length > 0 && !allowed.includes("--accept-edited")) throw new UsageError(`--accept-edited does not apply to '${verb}'`);
    for (const flag of flags) {
      if (!["--local", "--remote", ...allowed].includes(flag)) throw new UsageError(`${flag} does not apply to '${verb}'`);
    }
  };
  const runFlags = { force: flags.has("--force"), backupDir, acceptEdited, bookmark: !flags.has("--no-bookmark") };
  const noMoreArguments = (count: number) => {
    if (rest.length > count) throw new UsageError(`unexpected argument '${rest[count]}'`);
  };

  switch (verb) {
    case undefined:
      throw new UsageError("missing command");
    case "latest":
    case "up":
      allowOnly(RUN_FLAGS);
      noMoreArguments(0);
      return { kind: "run", command: { verb }, target, ...runFlags };
    case "down":
      allowOnly(["--all", ...RUN_FLAGS]);
      noMoreArguments(0);
      return { kind: "run", command: { verb: flags.has("--all") ? "down-all" : "down" }, target, ...runFlags };
    case "to":
      allowOnly(RUN_FLAGS);
      noMoreArguments(1);
      return { kind: "run", command: { verb: "to", target: requireName(rest[0], "to") }, target, ...runFlags };
    case "list":
      allowOnly([]);
      noMoreArguments(0);
      return { kind: "list", target };
    case "check":
      allowOnly([]);
      noMoreArguments(0);
      return { kind: "check", target };
    case "lint": {
      allowOnly(["--all", "--json"]);
      noMoreArguments(1);
      if (flags.has("--all") && rest[0] !== undefined) throw new UsageError("'lint' takes a migration name or --all, not both");
      if (flags.has("--all") && (target.remote || target.persistTo !== undefined || values.has("--env"))) {
        throw new UsageError("lint --all reads every migration on a throwaway database; it takes no database flags");
      }
      const selection: LintSelection = flags.has("--all") ? { kind: "all" } : rest[0] !== undefined ? { kind: "named", name: rest[0] } : { kind: "pending" };
      return { kind: "lint", target, selection, json: flags.has("--json") };
    }
    case "adopt":
      allowOnly([]);
      noMoreArguments(0);
      return { kind: "adopt", target, preview: false };
    case "sql":
      if (rest[0] === "adopt") {
        allowOnly([]);
        noMoreArguments(1);
        return { kind: "adopt", target, preview: true };
      }
      allowOnly(["--all", "--accept-edited"]);
      return { kind: "sql", command: parseSqlCommand(rest, flags.has("--all")), target, acceptEdited };
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

const RUN_FLAGS = ["--force", "--accept-edited", "--no-bookmark"];

function parseSqlCommand(rest: string[], all: boolean): MigrationCommand {
  const [what = "latest", name] = rest;
  if (what === "latest" && rest.length <= 1 && !all) return { verb: "latest" };
  if (what === "down" && rest.length <= 1) return { verb: all ? "down-all" : "down" };
  if (what === "to" && rest.length === 2 && !all) return { verb: "to", target: requireName(name, "sql to") };
  throw new UsageError(`'sql' takes latest, down [--all], to <name> or adopt`);
}

function requireName(name: string | undefined, verb: string): string {
  if (!name) throw new UsageError(`'${verb}' needs a migration name`);
  return name;
}
