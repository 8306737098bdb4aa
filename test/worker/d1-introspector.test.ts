import { env } from "cloudflare:workers";
import { Kysely, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { ProjectD1Dialect } from "../../src/db/d1-dialect";
import { runMigrations } from "../../src/db/migration/run-migrations";

describe("D1 introspection", () => {
  it("migrates a database D1 has already written to (so _cf_* tables exist)", async () => {
    await env.DB.exec("create table scratch (id integer primary key)");
    await env.DB.prepare("insert into scratch (id) values (1)").run();
    const internal = await env.DB.prepare("select name from sqlite_master where name like '\\_cf\\_%' escape '\\'").all();
    expect(internal.results.length).toBeGreaterThan(0);

    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations });
    expect(report.error).toBeUndefined();

    const db = new Kysely<any>({ dialect: new ProjectD1Dialect({ database: env.DB }) });
    const names = (await db.introspection.getTables()).map((table) => table.name);
    expect(names).toEqual(["account", "rateLimit", "scratch", "session", "user", "verification"]);
    expect(names.some((name) => name.startsWith("_cf_") || name.startsWith("sqlite_"))).toBe(false);
    await sql`drop table scratch`.execute(db);
  });
});
