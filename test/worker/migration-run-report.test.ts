import { env } from "cloudflare:workers";
import { sql, type Kysely } from "kysely";
import { beforeEach, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { formatRunReport } from "../../scripts/lib/format-run-report";
import { BatchOutcomeUnknownError } from "../../src/db/migration/apply-batch";
import { stepMigrations } from "../support/migration-fixtures/inject-failure";
import { librarySteps } from "../support/migration-fixtures/library-migrations";
import { ledgerSnapshot } from "../support/migration-fixtures/schema-snapshot";
import { d1Reader } from "../support/migration-fixtures/schema-snapshot";
import { runMigrations } from "../support/run-migrations";

// Each report line says what happened to that migration in this run.
// Tests share this file's database; each leaves it with no migration applied.
const read = d1Reader(env.DB);
const SHIPPED = Object.keys(migrations).sort();
const LIBRARY = Object.keys(librarySteps).sort();

/** `env.DB`, except that each batch() commits and then loses its answer, as a long batch over `fetch` does. */
function answerLostAfterCommit(database: D1Database): D1Database {
  return new Proxy(database, {
    get(target, property) {
      if (property === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          await target.batch(statements);
          throw new TypeError("fetch failed");
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("run reports tell what happened in this run", () => {
  beforeEach(async () => {
    const down = await runMigrations(env.DB, { verb: "down-all" }, { migrations: { ...stepMigrations(librarySteps) }, force: true });
    if (down.error) throw down.error;
  });

  it("down --all refused as a whole reverts nothing and says so for every migration", async () => {
    await runMigrations(env.DB, { verb: "latest" }, { migrations });
    await env.DB.prepare(`insert into "rateLimit" (id, key, count, lastRequest) values ('r1', 'k', 1, 1)`).run();

    const { lines, exitCode } = formatRunReport(await runMigrations(env.DB, { verb: "down-all" }, { migrations }));

    expect(exitCode).toBe(1);
    expect(lines.slice(0, SHIPPED.length)).toEqual([...SHIPPED].reverse().map((name) => `not run  ${name}`));
    expect(lines.at(-1)).toBe("nothing was applied: the run was refused before it was sent");
    await runMigrations(env.DB, { verb: "down-all" }, { migrations, force: true, saveBackup: async () => {} });
  });

  it("a latest whose second migration fails applies neither, and names the one that failed", async () => {
    const [first, second] = LIBRARY as [string, string];
    const failing = { ...stepMigrations(librarySteps) };
    failing[second] = {
      async up(db: Kysely<any>) {
        await sql`select 1`.execute(db);
        throw new Error("the second migration refuses");
      },
    };

    const { lines, exitCode } = formatRunReport(await runMigrations(env.DB, { verb: "latest" }, { migrations: failing }));

    expect(exitCode).toBe(1);
    expect(lines).toEqual([
      `not run  ${first}`,
      `failed   ${second}`,
      `error: ${second}: the second migration refuses`,
      "nothing was applied: the run is one atomic D1 batch",
    ]);
    expect((await ledgerSnapshot(read)).migrations).toEqual([]);
  });

  it("a batch whose answer is lost (fetch failed) is an unknown outcome, never a statement failure or another run", async () => {
    const report = await runMigrations(answerLostAfterCommit(env.DB), { verb: "latest" }, { migrations: stepMigrations(librarySteps) });

    expect(report.error).toBeInstanceOf(BatchOutcomeUnknownError);
    expect(report.doneByAnotherRun).toBeUndefined();
    expect(formatRunReport(report)).toEqual({
      lines: [
        ...LIBRARY.map((name) => `unknown  ${name}`),
        "error: the batch was sent but its answer was lost (fetch failed); outcome unknown: check with `kysely:migrate list`",
        "outcome unknown: the run is one atomic D1 batch, applied whole or not at all; check with `kysely:migrate list`",
      ],
      exitCode: 1,
    });
    // Here the batch did commit: the ledger, not the report, is the record.
    expect((await ledgerSnapshot(read)).migrations).toMatchObject(LIBRARY.map((name) => ({ name })));
  });

  it("a failure at commit (a deferred foreign key) shows SQLite's reason, not D1's internal-error reference", async () => {
    const deferred = {
      "20000601000000_deferred_orphan": {
        async up(db: Kysely<any>) {
          await sql`create table "crate" ("id" integer primary key)`.execute(db);
          await sql`create table "bottle" ("id" integer primary key, "crateId" integer references "crate" ("id") deferrable initially deferred)`.execute(db);
          await sql`insert into "bottle" values (1, 99)`.execute(db);
        },
      },
    };

    const { lines } = formatRunReport(await runMigrations(env.DB, { verb: "latest" }, { migrations: deferred }));

    expect(lines[1]).toMatch(/^error: .*the batch failed at commit: FOREIGN KEY constraint failed/);
    expect(lines.join("\n")).not.toMatch(/internal error/);
  });
});
