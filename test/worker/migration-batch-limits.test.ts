import { env } from "cloudflare:workers";
import { sql, type Kysely } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { formatRunReport } from "../../scripts/lib/format-run-report";
import { BATCH_LIMITS, BatchTooLargeError } from "../../src/db/migration/batch-limits";
import { RAW_SQL_MIGRATION } from "../support/migration-fixtures/raw-sql-migrations";
import { d1Reader, ledgerSnapshot, schemaSnapshot } from "../support/migration-fixtures/schema-snapshot";
import { runMigrations } from "../support/run-migrations";

// A run that D1 would refuse (or that would outgrow one batch) is refused
// before it is sent, saying how to split it. Tests share this file's database; none changes it.
const read = d1Reader(env.DB);
const state = async () => ({ schema: await schemaSnapshot(read), ledger: await ledgerSnapshot(read) });

function inserting(rows: number, columns: number): Record<string, { up(db: Kysely<any>): Promise<void> }> {
  return {
    [RAW_SQL_MIGRATION]: {
      async up(db) {
        await db.schema.createTable("wide").ifNotExists().addColumn("id", "integer", (c) => c.primaryKey()).addColumn("a", "text").addColumn("b", "text").execute();
        const row = (i: number) => Object.fromEntries([["id", i], ["a", "x"], ["b", "y"]].slice(0, columns));
        await db.insertInto("wide").values(Array.from({ length: rows }, (_, i) => row(i))).execute();
      },
    },
  };
}

describe("batch limits", () => {
  let before: Awaited<ReturnType<typeof state>>;
  beforeAll(async () => {
    await runMigrations(env.DB, { verb: "latest" }, { migrations: {} });
    before = await state();
  });

  it.each([
    ["102 bound parameters in one statement", inserting(34, 3), /binds 102 parameters; D1 accepts at most 100 per statement: insert fewer rows per statement/],
    ["a statement over 100,000 bytes", {
      [RAW_SQL_MIGRATION]: { up: async (db: Kysely<any>) => void (await db.schema.createTable("long").addColumn("id", "integer").addCheckConstraint("c", sql.raw(`'${"z".repeat(BATCH_LIMITS.statementBytes)}' is not null`)).execute()) },
    }, /bytes of SQL; D1 accepts at most 100000: split it/],
    ["more statements than one batch may hold", {
      [RAW_SQL_MIGRATION]: {
        async up(db: Kysely<any>) {
          await db.schema.createTable("many").ifNotExists().addColumn("id", "integer").execute();
          for (let i = 0; i < BATCH_LIMITS.batchStatements; i++) await db.insertInto("many").values({ id: i }).execute();
        },
      },
    }, /the run is 100[0-9] statements .* more than the 1000 one batch may hold: apply fewer migrations per run/],
  ])("%s: refused before sending, saying how to split; nothing changes", async (_, migrations, message) => {
    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations });

    expect(report.error).toBeInstanceOf(BatchTooLargeError);
    expect(String(report.error)).toMatch(message);
    expect(formatRunReport(report).lines.at(-1)).toBe("nothing was applied: the run was refused before it was sent");
    expect(await state()).toEqual(before);
  });
});
