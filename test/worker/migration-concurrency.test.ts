import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { formatRunReport } from "../../scripts/lib/format-run-report";
import { LedgerChangedError } from "../../src/db/migration/apply-batch";
import { runMigrations, type MigrationCommand, type MigrationRunReport } from "../support/run-migrations";
import { barrier, waitingIn } from "../support/migration-fixtures/barrier";
import { stepMigrations } from "../support/migration-fixtures/inject-failure";
import { librarySteps } from "../support/migration-fixtures/library-migrations";
import { d1Reader, schemaSnapshot, tableRows } from "../support/migration-fixtures/schema-snapshot";

// Tests share this file's database and run in order; each starts from the state the previous one left.
const read = d1Reader(env.DB);
const library = stepMigrations(librarySteps);
const NAMES = Object.keys(library).sort();
const [FIRST, LAST] = [NAMES[0]!, NAMES.at(-1)!];

async function ledgerNames(): Promise<string[]> {
  return (await read(`select name from kysely_migration order by name`)).map((row) => String(row.name));
}

/** Two runs of the same registry started together; returns [the run that applied, the other]. */
async function race(
  command: MigrationCommand,
  migrations: Record<string, typeof library[string]>,
): Promise<[MigrationRunReport, MigrationRunReport]> {
  const reports = await Promise.all([1, 2].map(() => runMigrations(env.DB, command, { migrations, force: true })));
  const applied = reports.filter((report) => !report.error && report.results.length > 0);
  expect(applied).toHaveLength(1);
  return [applied[0]!, reports.find((report) => report !== applied[0])!];
}

describe("concurrent runners against one database", () => {
  let completeSchema: Record<string, unknown>;

  beforeAll(async () => {
    // The schema a single uncontested run leaves, to compare races against.
    for (const command of [{ verb: "latest" }, { verb: "down-all" }] as const) {
      const report = await runMigrations(env.DB, command, { migrations: library, force: true });
      if (report.error) throw report.error;
      if (command.verb === "latest") completeSchema = await schemaSnapshot(read);
    }
  });

  it("two latest runs that both planned before either committed: one applies, the other says another run did it", async () => {
    const registry = waitingIn(library, FIRST, "up", barrier(2));

    const [winner, loser] = await race({ verb: "latest" }, registry);

    expect(winner.results.map((result) => result.status)).toEqual(["Success", "Success"]);
    expect(loser.error).toBeInstanceOf(LedgerChangedError);
    expect(loser.doneByAnotherRun).toBe(true);
    expect(formatRunReport(loser)).toEqual({
      lines: NAMES.map((name) => `applied by another run  ${name}`),
      exitCode: 0,
    });
    expect(await ledgerNames()).toEqual(NAMES);
    expect(await schemaSnapshot(read)).toEqual(completeSchema);
    expect(await tableRows(read, "author")).toHaveLength(2);
  });

  it("two down runs that both planned before either committed revert the last migration once", async () => {
    const registry = waitingIn(library, LAST, "down", barrier(2));

    const [winner, loser] = await race({ verb: "down" }, registry);

    expect(winner.results).toEqual([{ migrationName: LAST, direction: "Down", status: "Success" }]);
    expect(loser.error).toBeInstanceOf(LedgerChangedError);
    expect(loser.doneByAnotherRun).toBe(true);
    expect(formatRunReport(loser).lines).toEqual([`reverted by another run  ${LAST}`]);
    expect(await ledgerNames()).toEqual([FIRST]);
    expect(await read(`select name from sqlite_master where name = 'tag'`)).toEqual([]);
  });

  it("a run that lost to a different change applies nothing and exits 1 with a conflict", async () => {
    await runMigrations(env.DB, { verb: "down-all" }, { migrations: library, force: true });
    const arrive = barrier(2);
    // Both plan; `up` (just FIRST) commits while `latest` (FIRST and LAST) still waits.
    const up = runMigrations(env.DB, { verb: "up" }, { migrations: waitingIn(library, FIRST, "up", arrive) });
    const afterUp = async () => {
      await arrive();
      await up;
    };
    const latest = runMigrations(env.DB, { verb: "latest" }, { migrations: waitingIn(library, FIRST, "up", afterUp) });

    const [winner, loser] = await Promise.all([up, latest]);

    expect(winner.results).toEqual([{ migrationName: FIRST, direction: "Up", status: "Success" }]);
    expect(loser.error).toBeInstanceOf(LedgerChangedError);
    expect(loser.doneByAnotherRun).toBe(false);
    expect(formatRunReport(loser)).toEqual({
      lines: [
        ...NAMES.map((name) => `not run  ${name}`),
        "error: another migration run changed the database while this run was planned; nothing was applied",
        "nothing was applied: the run is one atomic D1 batch",
      ],
      exitCode: 1,
    });
    expect(await ledgerNames()).toEqual([FIRST]);
    expect(await read(`select name from sqlite_master where name = 'tag'`)).toEqual([]);
  });

  it("two runs started together with no coordination still apply each migration exactly once", async () => {
    await runMigrations(env.DB, { verb: "down-all" }, { migrations: library, force: true });

    const [, other] = await race({ verb: "latest" }, library);

    // The other run either lost the race at commit or planned after the winner committed.
    expect(other.error === undefined ? other.results : other.doneByAnotherRun).toEqual(other.error === undefined ? [] : true);
    expect(await read(`select name, count(*) as n from kysely_migration group by name having n > 1`)).toEqual([]);
    expect(await ledgerNames()).toEqual(NAMES);
    expect(await schemaSnapshot(read)).toEqual(completeSchema);
  });
});
