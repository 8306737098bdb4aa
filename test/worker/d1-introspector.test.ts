import { env } from "cloudflare:workers";
import { Kysely } from "kysely";
import { D1Dialect } from "kysely-d1";
import { beforeAll, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { ProjectD1Dialect } from "../../src/db/d1-dialect";
import { runMigrations } from "../support/run-migrations";

const AUTH_TABLES = ["account", "rateLimit", "session", "user", "verification"];

/** User tables as sqlite_master lists them, without D1's, SQLite's and the Migrator's own. */
async function userTables(): Promise<string[]> {
  const rows = await env.DB.prepare(
    `select name from sqlite_master where type in ('table', 'view')
       and name not like '\\_cf\\_%' escape '\\' and name not like 'sqlite\\_%' escape '\\'
       and name not like 'kysely\\_migration%' escape '\\'
     order by name`,
  ).all<{ name: string }>();
  return rows.results.map(({ name }) => name);
}

// Tests share this file's database and run in order.
describe("D1 introspection", () => {
  const db = new Kysely<any>({ dialect: new ProjectD1Dialect({ database: env.DB }) });

  beforeAll(async () => {
    // Write first, so D1 has its internal _cf_* tables before anything introspects.
    await env.DB.exec("create table scratch (id integer primary key, note text not null default '')");
    await env.DB.prepare("insert into scratch (id) values (1)").run();
  });

  it("D1 has internal _cf_* tables that Kysely's stock SQLite introspector cannot read", async () => {
    const internal = await env.DB.prepare("select name from sqlite_master where name like '\\_cf\\_%' escape '\\'").all();
    expect(internal.results.length).toBeGreaterThan(0);

    const stock = new Kysely<any>({ dialect: new D1Dialect({ database: env.DB }) });
    await expect(stock.introspection.getTables()).rejects.toThrow(/SQLITE_AUTH/);
  });

  it("lets the Migrator run on that database", async () => {
    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations });

    expect(report.error).toBeUndefined();
    expect(report.results.map((result) => result.migrationName)).toEqual(Object.keys(migrations).sort());
  });

  it("lists exactly the user tables: no _cf_*, no sqlite_*, no Migrator tables", async () => {
    const names = (await db.introspection.getTables()).map((table) => table.name);

    expect(names).toEqual(await userTables());
    expect(names).toEqual(expect.arrayContaining([...AUTH_TABLES, "scratch"]));
  });

  it("includes the Migrator's tables when asked to", async () => {
    const names = (await db.introspection.getTables({ withInternalKyselyTables: true })).map((table) => table.name);

    expect(names).toEqual(expect.arrayContaining(["kysely_migration", "kysely_migration_lock"]));
    expect(names.some((name) => name.startsWith("_cf_") || name.startsWith("sqlite_"))).toBe(false);
  });

  it("describes columns: type, nullability, defaults, and a lone integer primary key as auto-incrementing", async () => {
    const tables = await db.introspection.getTables();
    const columns = (table: string) => Object.fromEntries(tables.find((t) => t.name === table)!.columns.map((c) => [c.name, c]));

    expect(columns("scratch")).toMatchObject({
      id: { dataType: "INTEGER", isAutoIncrementing: true },
      note: { dataType: "TEXT", isNullable: false, hasDefaultValue: true, isAutoIncrementing: false },
    });
    expect(columns("user")).toMatchObject({
      id: { dataType: "TEXT", isNullable: false, isAutoIncrementing: false },
      email: { dataType: "TEXT", isNullable: false, hasDefaultValue: false },
      image: { dataType: "TEXT", isNullable: true },
      createdAt: { dataType: "date", isNullable: false },
    });
    expect(columns("rateLimit").lastRequest).toMatchObject({ dataType: "bigint", isNullable: false });
  });
});
