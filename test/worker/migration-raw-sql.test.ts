import { env } from "cloudflare:workers";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../support/run-migrations";
import { oneMigration } from "../support/migration-fixtures/raw-sql-migrations";
import { d1Reader, ledgerSnapshot, schemaSnapshot, tableRows } from "../support/migration-fixtures/schema-snapshot";

// How the migration dialect treats raw SQL inside a run: reads run at once and
// return their rows, writes are buffered into the batch, and nothing reaches
// D1 outside the batch. Tests share this file's database; none changes it.
const read = d1Reader(env.DB);

async function databaseState() {
  return { schema: await schemaSnapshot(read), ledger: await ledgerSnapshot(read), shelf: await tableRows(read, "shelf") };
}

describe("raw SQL in a migration run", () => {
  let before: Awaited<ReturnType<typeof databaseState>>;

  beforeAll(async () => {
    const primed = await runMigrations(env.DB, { verb: "latest" }, { migrations: {} });
    if (primed.error) throw primed.error;
    await env.DB.batch([
      env.DB.prepare(`create table "shelf" ("id" integer primary key, "label" text not null)`),
      env.DB.prepare(`insert into "shelf" values (1, 'a'), (2, 'b')`),
    ]);
    before = await databaseState();
  });

  it("a select that carries a second statement is refused, and the second statement never runs", async () => {
    // D1's prepare() runs every statement of the string, so this used to drop "shelf" at once, outside the batch.
    const report = await runMigrations(env.DB, { verb: "latest" }, {
      migrations: oneMigration((db) => sql`select 1 as "one"; drop table "shelf"`.execute(db)),
    });

    expect(String(report.error)).toMatch(/several SQL statements in one query/);
    expect(await databaseState()).toEqual(before);
  });

  it("a buffered write that carries a second statement cannot slip a drop past the guards", async () => {
    const report = await runMigrations(env.DB, { verb: "latest" }, {
      migrations: oneMigration((db) => sql`create table "scratch" ("id" integer); drop table "shelf"`.execute(db)),
    });

    expect(String(report.error)).toMatch(/several SQL statements in one query/);
    expect(await databaseState()).toEqual(before);
  });

  it("a trigger whose body holds several statements is one statement, buffered whole", async () => {
    const trigger = `create trigger "shelf_label" after insert on "shelf" begin
      update "shelf" set "label" = case when new."label" = '' then 'x;y' else new."label" end where "id" = new."id";
      delete from "shelf" where "id" < 0;
    end`;

    const report = await runMigrations(env.DB, { verb: "latest" }, {
      migrations: oneMigration((db) => sql.raw(trigger).execute(db)),
      mode: "preview",
    });

    expect(report.error).toBeUndefined();
    expect(report.statements[0]!.sql).toBe(trigger);
  });

  it("reads run at once and return their rows: after a comment, with a CTE, VALUES and table pragmas", async () => {
    const seen: unknown[] = [];
    const report = await runMigrations(env.DB, { verb: "latest" }, {
      migrations: oneMigration(async (db) => {
        for (const query of [
          sql`-- how many?\n/* shelves */ SELECT count(*) as "n" from "shelf"`,
          sql`with "c" as (select count(*) as "n" from "shelf") select "n" from "c"`,
          sql`values (${7})`,
          sql`pragma table_info("shelf")`,
        ]) {
          seen.push((await query.execute(db)).rows);
        }
      }),
      mode: "preview",
    });

    expect(report.error).toBeUndefined();
    expect(seen).toEqual([[{ n: 2 }], [{ n: 2 }], [{ column1: 7 }], [expect.objectContaining({ name: "id" }), expect.objectContaining({ name: "label" })]]);
    // Only the ledger row was buffered.
    expect(report.statements).toHaveLength(1);
  });

  it("writes behind a CTE and pragmas that set a value, in either form, are buffered into the batch", async () => {
    const writes = [
      `with "v" ("id", "label") as (values (3, 'c')) insert into "shelf" select "id", "label" from "v"`,
      `pragma defer_foreign_keys = on`,
      `pragma defer_foreign_keys(1)`,
    ];

    const report = await runMigrations(env.DB, { verb: "latest" }, {
      migrations: oneMigration(async (db) => {
        for (const write of writes) expect((await sql.raw(write).execute(db)).rows).toEqual([]);
      }),
      mode: "preview",
    });

    expect(report.error).toBeUndefined();
    expect(report.statements.map((statement) => statement.sql).slice(0, writes.length)).toEqual(writes);
    expect(await databaseState()).toEqual(before);
  });

  it.each([
    ["the query builder", (db: Parameters<Parameters<typeof oneMigration>[0]>[0]) => db.insertInto("shelf").values({ id: 3, label: "c" }).returning("id").execute()],
    ["raw SQL", (db: Parameters<Parameters<typeof oneMigration>[0]>[0]) => sql`insert into "shelf" values (3, 'c') returning "id"`.execute(db)],
  ])("a write with RETURNING (%s) fails the run instead of returning no rows", async (_, write) => {
    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: oneMigration(write) });

    expect(String(report.error)).toMatch(/RETURNING/);
    expect(await databaseState()).toEqual(before);
  });
});
