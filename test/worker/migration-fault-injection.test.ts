import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { formatRunReport } from "../../scripts/lib/format-run-report";
import { BatchStatementError } from "../../src/db/migration/apply-batch";
import { ledgerEntries, migrationOfStatement } from "../../src/db/migration/ledger-entries";
import { runMigrations, type MigrationCommand } from "../support/run-migrations";
import { countSteps, INJECTED_FAILURE_TABLE, stepMigrations, withInjectedFailure } from "../support/migration-fixtures/inject-failure";
import { librarySteps } from "../support/migration-fixtures/library-migrations";
import { d1Reader, ledgerSnapshot, schemaSnapshot, tableRows } from "../support/migration-fixtures/schema-snapshot";

// Tests share this file's database and run in order: latest, then down --all.
const read = d1Reader(env.DB);
const NAMES = Object.keys(librarySteps).sort();
const UP_WRITES = countSteps(librarySteps, "up");
const DOWN_WRITES = countSteps(librarySteps, "down");

async function databaseState() {
  return { schema: await schemaSnapshot(read), ledger: await ledgerSnapshot(read) };
}

/**
 * Runs `command` once per position k, with a failing write slipped in before
 * the run's k-th statement; returns the k whose failed run changed the schema
 * or the ledger.
 */
async function injectEveryFailure(command: MigrationCommand, direction: "up" | "down", positions: number): Promise<number[]> {
  const traces: number[] = [];
  for (let k = 0; k < positions; k++) {
    const before = await databaseState();
    const report = await runMigrations(env.DB, command, {
      migrations: withInjectedFailure(librarySteps, direction, k),
      force: true,
    });

    // The error points at exactly the injected statement: the k-th one that is not a ledger write.
    const ledger = new Set(ledgerEntries(report.statements).map((entry) => entry.index));
    const ownStatements = report.statements.flatMap((_, index) => (ledger.has(index) ? [] : [index]));
    expect(ownStatements).toHaveLength(positions + 1);
    expect(report.error).toBeInstanceOf(BatchStatementError);
    const error = report.error as BatchStatementError;
    expect(error.statementIndex).toBe(ownStatements[k]);
    expect(error.statement.sql).toContain(INJECTED_FAILURE_TABLE);
    expect(error.databaseMessage).toContain(`no such table: ${INJECTED_FAILURE_TABLE}`);

    if (JSON.stringify(await databaseState()) !== JSON.stringify(before)) traces.push(k);
  }
  return traces;
}

// Each injected run is bisected: ~1 s a run locally, more on a loaded machine.
describe("a statement failing anywhere in a run leaves no trace", { timeout: 60_000 }, () => {
  beforeAll(async () => {
    // Kysely's Migrator creates its ledger tables outside the batch on first contact; do that first.
    const primed = await runMigrations(env.DB, { verb: "latest" }, { migrations: {} });
    if (primed.error) throw primed.error;
  });

  it(`0 of ${UP_WRITES} injected failures in a two-migration latest leave a trace`, async () => {
    expect(UP_WRITES).toBeGreaterThan(NAMES.length);
    expect(await injectEveryFailure({ verb: "latest" }, "up", UP_WRITES)).toEqual([]);
    expect((await ledgerSnapshot(read)).migrations).toEqual([]);
  });

  it("the CLI report names the migration, the statement (index and SQL) and D1's message, and says nothing was applied", async () => {
    // Before the first statement of the second migration.
    const firstOfSecond = librarySteps[NAMES[0]!]!.up.length;
    const report = await runMigrations(env.DB, { verb: "latest" }, {
      migrations: withInjectedFailure(librarySteps, "up", firstOfSecond),
    });
    const error = report.error as BatchStatementError;
    expect(migrationOfStatement(report.statements, error.statementIndex)).toBe(NAMES[1]);

    const { lines, exitCode } = formatRunReport(report);

    expect(exitCode).toBe(1);
    expect(lines).toEqual([
      `not run  ${NAMES[0]}`,
      `not run  ${NAMES[1]}`,
      `error: ${NAMES[1]}: statement #${error.statementIndex + 1} of ${report.statements.length} failed: ${error.databaseMessage}`,
      // The scratch-D1 analyser cannot inline parameters (the CLI's SQLite-WASM one does).
      `  insert into "${INJECTED_FAILURE_TABLE}" ("beforeStep") values (?)\n-- parameters: [${firstOfSecond}]`,
      "nothing was applied: the run is one atomic D1 batch",
    ]);
    expect(error.databaseMessage).toMatch(/no such table/);
  });

  it("with no failure injected, the same latest applies both migrations with their rows", async () => {
    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: stepMigrations(librarySteps) });

    expect(report.error).toBeUndefined();
    expect(report.results.map((result) => result.status)).toEqual(["Success", "Success"]);
    expect((await ledgerSnapshot(read)).migrations).toMatchObject(NAMES.map((name) => ({ name })));
    expect(await tableRows(read, "tag")).toEqual([{ id: 1, bookId: 1, label: "fantasy" }]);
  });

  it(`0 of ${DOWN_WRITES} injected failures in a forced down --all leave a trace`, async () => {
    const rowsBefore = await tableRows(read, "book");
    expect(await injectEveryFailure({ verb: "down-all" }, "down", DOWN_WRITES)).toEqual([]);
    expect((await ledgerSnapshot(read)).migrations).toMatchObject(NAMES.map((name) => ({ name })));
    expect(await tableRows(read, "book")).toEqual(rowsBefore);
  });
});
