import { env } from "cloudflare:workers";
import { sql, type Kysely } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { UnsafeMigrationError } from "../../src/db/migration/unsafe-migration-error";
import { migrateToLatest } from "../support/migrate-to-latest";
import { runMigrations } from "../support/run-migrations";

// Issue 9's reproductions: on main these were applied without --force and
// D1's ON DELETE CASCADE deleted every session. Tests share this file's database.
describe("the two reproductions on the shipped schema: a rebuild of user spelled so no regex sees its drop", () => {
  beforeAll(async () => {
    // The shipped run is not what is tested here: the isolate's migrated image.
    await migrateToLatest(env.DB);
    await env.DB.batch([
      env.DB.prepare(`insert into "user" ("id", "name", "email", "emailVerified", "createdAt", "updatedAt") values ('u1', 'Ada', 'ada@example.com', 0, 0, 0)`),
      env.DB.prepare(`insert into "session" ("id", "expiresAt", "token", "createdAt", "updatedAt", "userId") values ('s1', 0, 't1', 0, 0, 'u1')`),
    ]);
  });

  it.each([`drop table"user"`, `drop /* x */ table "user"`])("%s is refused without --force; every session survives", async (drop) => {
    const rebuild = {
      "20991231000000_rebuild_user": {
        async up(db: Kysely<any>) {
          await sql.raw(`create table "user_new" as select * from "user"`).execute(db);
          await sql.raw(drop).execute(db);
          await sql.raw(`alter table "user_new" rename to "user"`).execute(db);
        },
      },
    };

    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: { ...migrations, ...rebuild } });

    expect(report.error).toBeInstanceOf(UnsafeMigrationError);
    expect((report.error as UnsafeMigrationError).changes.map((change) => `${change.kind} ${change.table}`)).toEqual(
      expect.arrayContaining(["drops-rows user", "changes-children user"]),
    );
    expect(await env.DB.prepare(`select count(*) as n from "session"`).first("n")).toBe(1);
  });
});
