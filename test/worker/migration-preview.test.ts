import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MIGRATION_TABLE } from "kysely/migration";
import type { BufferedStatement } from "../../src/db/migration/batched-d1-dialect";
import { runMigrations } from "../support/run-migrations";
import { stepMigrations } from "../support/migration-fixtures/inject-failure";
import { librarySteps } from "../support/migration-fixtures/library-migrations";
import { d1Reader, ledgerSnapshot, schemaSnapshot } from "../support/migration-fixtures/schema-snapshot";

// Tests share this file's database and run in order.
const read = d1Reader(env.DB);
const library = stepMigrations(librarySteps);
const NAMES = Object.keys(library).sort();

async function databaseState() {
  return { schema: await schemaSnapshot(read), ledger: await ledgerSnapshot(read) };
}

/** The statements with the ledger rows' timestamps (the only values that depend on the clock) blanked. */
function withoutTimestamps(statements: BufferedStatement[]): BufferedStatement[] {
  return statements.map((statement) =>
    statement.sql.startsWith(`insert into "${DEFAULT_MIGRATION_TABLE}"`)
      ? { ...statement, parameters: [statement.parameters[0], "<timestamp>"] }
      : statement,
  );
}

describe("previewing a run", () => {
  beforeAll(async () => {
    // Kysely's Migrator creates its ledger tables outside the batch on first contact; do that first.
    const primed = await runMigrations(env.DB, { verb: "latest" }, { migrations: {} });
    if (primed.error) throw primed.error;
  });

  let previewed: BufferedStatement[];

  it("captures every statement of latest and leaves the database unchanged", async () => {
    const before = await databaseState();

    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: library, mode: "preview" });

    expect(report.error).toBeUndefined();
    expect(report.results).toEqual(NAMES.map((migrationName) => ({ migrationName, direction: "Up", status: "Success" })));
    expect(report.statements.map((statement) => statement.sql)).toContain(`create index "book_authorId_idx" on "book" ("authorId")`);
    expect(await databaseState()).toEqual(before);
    previewed = report.statements;
  });

  it("the preview is exactly what the run then applies", async () => {
    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: library });

    expect(report.error).toBeUndefined();
    expect(withoutTimestamps(report.statements)).toEqual(withoutTimestamps(previewed));
  });

  it("previewing down --all lists the drops and what the guard would say, and changes nothing", async () => {
    const before = await databaseState();

    const report = await runMigrations(env.DB, { verb: "down-all" }, { migrations: library, mode: "preview" });

    expect(report.error).toBeUndefined();
    expect(report.statements.map((statement) => statement.sql)).toEqual([
      `drop table "tag"`,
      `alter table "book" drop column "isbn"`,
      `delete from "${DEFAULT_MIGRATION_TABLE}" where "name" = ?`,
      `drop table "book"`,
      `drop table "author"`,
      `delete from "${DEFAULT_MIGRATION_TABLE}" where "name" = ?`,
    ]);
    expect(report.destructiveChanges.map((change) => [change.kind, change.table, change.kind === "changes-children" ? undefined : change.rows])).toEqual([
      ["drops-rows", "tag", 1],
      ["drops-column", "book", 1],
      ["drops-rows", "book", 2],
      ["drops-rows", "author", 2],
    ]);
    expect(await databaseState()).toEqual(before);
  });
});
