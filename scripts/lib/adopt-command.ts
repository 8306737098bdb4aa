import type { Migration } from "kysely/migration";
import { adoptionStatements, readLedgerVersion, readOldLedgers } from "../../src/db/migration/adopt-ledger";
import { diffSchemaFacts, formatSchemaDifference } from "../../src/db/migration/diff-schema-facts";
import { checksumStatements, readAppliedMigrations } from "../../src/db/migration/migration-checksums";
import { planAdoption, type AdoptableSource } from "../../src/db/migration/plan-adoption";
import { readSchemaFacts } from "../../src/db/migration/read-schema-facts";
import { isSqlFileMigration } from "../../src/db/migration/sql-file-migration";
import type { BufferedStatement } from "../../src/db/migration/batched-d1-dialect";
import { quoteText } from "../../src/db/migration/sql-identifier";
import { statementText } from "../../src/db/migration/statement-text";
import { BETTER_AUTH_TABLES, betterAuthSchemaProblems } from "./better-auth-schema-check";
import type { CommandOutput } from "./check-database";
import type { TargetOptions } from "./cli-flags";
import type { CurrentChecksums } from "./current-checksums";
import { d1MigrationSettings } from "./read-sql-migrations";
import { usingD1 } from "./using-d1";

/** The baseline migration: Better Auth's tables, `if not exists`. */
export const BETTER_AUTH_BASELINE = "20261124120000_better_auth";

/**
 * `pnpm kysely:migrate adopt` (and `sql adopt`, with `preview`): records, in
 * one atomic batch and without running them, the migrations another tool
 * applied — those wrangler's ledger (`migrations_table`) names, or
 * drizzle-orm's `__drizzle_migrations` lists by file hash — plus the Better
 * Auth baseline when Better Auth's own schema check passes on the existing
 * tables. Refuses, writing nothing, on a ledger entry the registry lacks, a
 * Better Auth mismatch, or a schema that differs from what the adopted
 * migrations create. The old ledger is left as it is.
 *
 * @example
 * ```ts
 * const { out, err, exitCode } = await adoptCommand(target, migrations, () => currentChecksums(migrations), { preview: false })
 * ```
 */
export async function adoptCommand(
  target: TargetOptions,
  migrations: Record<string, Migration>,
  loadChecksums: () => Promise<CurrentChecksums>,
  { preview, now = new Date() }: { preview: boolean; now?: Date },
): Promise<CommandOutput> {
  const { migrationsTable } = await d1MigrationSettings(target.config, target.env);
  const registry = Object.keys(migrations).sort();
  const sources = new Map<string, AdoptableSource>(
    registry.flatMap((name) => {
      const migration = migrations[name]!;
      return isSqlFileMigration(migration) ? [[name, migration.source] as const] : [];
    }),
  );
  return usingD1(target, async (database) => {
    const ledgers = await readOldLedgers(database, migrationsTable);
    const authTables = await existingTables(database, BETTER_AUTH_TABLES);
    let baseline: string | undefined;
    if (authTables.length > 0) {
      const problems = await betterAuthSchemaProblems(database);
      if (problems.length > 0) {
        return fail([
          `error: Better Auth's schema check does not match its tables here (${authTables.join(", ")}): ${problems.join("; ")}`,
          `  to proceed: bring them in line with this Worker's Better Auth config (a SQL migration, applied the way you applied the others), then adopt again; nothing was adopted`,
        ]);
      }
      baseline = BETTER_AUTH_BASELINE;
    }
    const plan = planAdoption({ registry, sources, ledgers, runnerApplied: await readAppliedMigrations(database), baseline });
    const from = ledgers.map((ledger) => ledger.table).join(" and ") || "no ledger";
    switch (plan.kind) {
      case "refuse":
        return fail(plan.lines);
      case "nothing":
        return done([
          `nothing to adopt: the database has no ${migrationsTable} or __drizzle_migrations ledger and no Better Auth tables; 'pnpm kysely:migrate latest' migrates it from scratch`,
        ]);
      case "already":
        return done([`nothing to do: the ${plan.names.length} migration(s) from ${from} are in the runner's ledger already`]);
    }

    // Only now: on a fresh clone this replays every migration on a throwaway D1.
    const { checksums, schemaAfter, captureError } = await loadChecksums();
    const last = plan.names.at(-1)!;
    const expected = schemaAfter[last];
    if (!expected) {
      const why = captureError ? `${captureError.migration} fails on a fresh database: ${messageOf(captureError.error)}` : "its capture failed";
      return fail([`error: cannot build the schema the adopted migrations create: ${why}; nothing was adopted`]);
    }
    const live = await readSchemaFacts(async (sql) => (await database.prepare(sql).all<Record<string, unknown>>()).results);
    const differences = diffSchemaFacts(new Map(expected), withoutTable(live, migrationsTable));
    if (differences.length > 0) {
      return fail([
        ...differences.map((difference) => `drift    ${formatSchemaDifference(difference)}`),
        `error: the schema differs from what ${plan.names.length} adopted migration(s) up to ${last} create: ${differences.length} difference(s) (+ only in the database, - only in the migrations, ~ migrations → database)`,
        "  to proceed: make the database and the migrations agree (a SQL migration applied the old way, or an edit of a migration that was never applied elsewhere), then adopt again; nothing was adopted",
      ]);
    }

    const bookkeeping = checksumStatements(
      [],
      checksums,
      plan.names.flatMap((name) => (checksums[name] ? [{ name, checksum: checksums[name]!, source: "adopted" as const }] : [])),
      now,
    );
    const statements = adoptionStatements(plan.names, now, await readLedgerVersion(database), bookkeeping);
    // A runnable script: the values inlined as SQLite literals.
    if (preview) return { out: statements.map((statement) => `${statementText({ ...statement, inlined: inlineParameters(statement) })};`), err: [], exitCode: 0 };

    try {
      await database.batch(statements.map((statement) => database.prepare(statement.sql).bind(...statement.parameters)));
    } catch (error) {
      // Another adopt (or run) committed first: its ledger tells whether it did this one's work.
      const applied = await readAppliedMigrations(database);
      if (plan.names.every((name) => applied.includes(name))) {
        return done(plan.names.map((name) => `adopted by another run  ${name}`));
      }
      return fail([`error: the adoption batch failed: ${messageOf(error)}`, "nothing was adopted: the adoption is one atomic D1 batch"]);
    }
    return done([
      ...plan.names.map((name) => `adopted  ${name}`),
      `recorded ${plan.names.length} migration(s) as applied, without running them; ${from} left as it was`,
      `next: 'pnpm kysely:migrate list' shows what is pending; 'pnpm db:migrate:${target.remote ? "remote" : "local"}' applies it`,
    ]);
  });
}

async function existingTables(database: D1Database, names: readonly string[]): Promise<string[]> {
  const { results } = await database
    .prepare(`select name from sqlite_master where type = 'table' and name in (${names.map(() => "?").join(", ")}) order by name`)
    .bind(...names)
    .all<{ name: string }>();
  return results.map((row) => row.name);
}

/** The facts without those of `table` (a `migrations_table` other than the default, which the drift check already skips). */
function withoutTable(facts: Map<string, string>, table: string): Map<string, string> {
  const quoted = JSON.stringify(table);
  return new Map([...facts].filter(([key]) => !key.includes(` ${quoted}`) && !key.includes(`${quoted}.`)));
}

function inlineParameters({ sql, parameters }: BufferedStatement): string {
  let next = 0;
  return sql.replace(/\?/g, () => {
    const value = parameters[next++];
    return typeof value === "number" ? String(value) : quoteText(String(value));
  });
}

function done(out: string[]): CommandOutput {
  return { out, err: [], exitCode: 0 };
}

function fail(err: string[]): CommandOutput {
  return { out: [], err, exitCode: 1 };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
