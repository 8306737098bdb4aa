import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Migration } from "kysely/migration";
import { lintRun, readLiveRows, type LintFinding } from "../../src/db/migration/lint-run";
import { readAppliedMigrations } from "../../src/db/migration/migration-checksums";
import { runMigrations, type MigrationCommand } from "../../src/db/migration/run-migrations";
import { sqliteWasmAnalyser } from "../../src/db/migration/sqlite-wasm-analyser";
import type { TargetOptions } from "./cli-flags";
import { usingD1 } from "./using-d1";

/** What to lint: the target's pending migrations, one migration by name, or every migration. */
export type LintSelection = { kind: "pending" } | { kind: "named"; name: string } | { kind: "all" };

/** The outcome of `kysely:migrate lint`, before it is printed. */
export interface LintResult {
  /** Where the migrations were read: the target, or a throwaway local D1 (`--all`, an applied migration). */
  database: string;
  /** The migrations linted, in run order. */
  migrations: string[];
  findings: LintFinding[];
  /** Set when the run could not be previewed (a migration's `up` threw, the ledger is ahead of the registry); then `findings` is empty. */
  error?: string;
}

/**
 * `pnpm kysely:migrate lint`: previews the selected migrations (applies
 * nothing) and applies the lint rules to what SQLite reports of each statement.
 *
 * - pending (the default): the target's pending migrations, with its rows;
 * - a name: that migration alone; if the target has applied it already, it is
 *   read on a throwaway local D1 migrated to the migration before it;
 * - all: every migration, from an empty throwaway local D1 (what CI lints).
 * On a throwaway database no table has rows, so the data-dependent rules
 * (DS101, DS103, MF102, MF103) cannot fire there.
 *
 * @example
 * ```ts
 * const result = await lintCommand(target, migrations, { kind: "pending" }, betterAuthColumns())
 * ```
 */
export async function lintCommand(
  target: TargetOptions,
  migrations: Record<string, Migration>,
  selection: LintSelection,
  betterAuthColumns: Record<string, string[]>,
): Promise<LintResult> {
  const names = Object.keys(migrations).sort();
  if (selection.kind === "named" && !migrations[selection.name]) {
    throw new Error(`no migration named '${selection.name}' in migrations/index.ts; 'pnpm kysely:migrate list' shows them`);
  }
  if (selection.kind === "all") return usingThrowaway(migrations, [], { verb: "latest" }, undefined, betterAuthColumns);

  const where = target.remote ? `remote D1${target.env ? ` (env ${target.env})` : ""}` : `local D1 (${target.persistTo ?? ".wrangler/state"})`;
  const onTarget = await usingD1(target, async (database) => {
    const applied = await readAppliedMigrations(database);
    if (selection.kind === "named" && applied.includes(selection.name)) return { applied };
    const command: MigrationCommand = selection.kind === "named" ? { verb: "to", target: selection.name } : { verb: "latest" };
    return { applied, result: await lintDatabase(database, where, migrations, command, selection.kind === "named" ? selection.name : undefined, betterAuthColumns) };
  });
  if (onTarget.result) return onTarget.result;
  // Applied on the target: read it where it is pending, right after the migrations before it.
  const name = (selection as { name: string }).name;
  return usingThrowaway(migrations, names.slice(0, names.indexOf(name)), { verb: "to", target: name }, name, betterAuthColumns);
}

async function usingThrowaway(
  migrations: Record<string, Migration>,
  before: string[],
  command: MigrationCommand,
  only: string | undefined,
  betterAuthColumns: Record<string, string[]>,
): Promise<LintResult> {
  const persistTo = await mkdtemp(path.join(tmpdir(), "kysely-migrate-lint-"));
  try {
    return await usingD1({ remote: false, env: undefined, persistTo, config: "wrangler.toml" }, async (database) => {
      const last = before.at(-1);
      if (last) {
        // force: the throwaway database's rows are nobody's.
        const report = await runMigrations(database, { verb: "to", target: last }, { migrations, analyser: sqliteWasmAnalyser(), force: true });
        if (report.error) return { database: "a throwaway local D1", migrations: [], findings: [], error: `the migrations before it fail on a fresh database: ${messageOf(report.error)}` };
      }
      return lintDatabase(database, "a throwaway local D1 (no rows)", migrations, command, only, betterAuthColumns);
    });
  } finally {
    await rm(persistTo, { recursive: true, force: true });
  }
}

/**
 * Previews `command` on `database` and lints what it would run (`only`: that
 * migration's statements). Reads only, apart from the Migrator's ledger tables
 * that its first contact with a database creates (empty).
 *
 * @example
 * ```ts
 * const result = await lintDatabase(env.DB, "local D1", migrations, { verb: "latest" }, undefined, betterAuthColumns())
 * ```
 */
export async function lintDatabase(
  database: D1Database,
  where: string,
  migrations: Record<string, Migration>,
  command: MigrationCommand,
  only: string | undefined,
  betterAuthColumns: Record<string, string[]>,
): Promise<LintResult> {
  const report = await runMigrations(database, command, { migrations, analyser: sqliteWasmAnalyser(), mode: "preview" });
  const run = report.results.filter((result) => result.direction === "Up").map((result) => result.migrationName);
  const linted = only === undefined ? run : run.filter((name) => name === only);
  if (report.error) {
    const failed = report.results.find((result) => result.status === "Error")?.migrationName;
    return { database: where, migrations: linted, findings: [], error: `${failed ? `${failed}: ` : ""}${messageOf(report.error)}` };
  }
  const findings = await lintRun({ statements: report.statements, effects: report.effects, migrations, betterAuthColumns, live: readLiveRows(database), only });
  return { database: where, migrations: linted, findings };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
