import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { diffSchemaFacts, formatSchemaDifference } from "../../src/db/migration/diff-schema-facts";
import { readSchemaFacts, type SchemaFacts } from "../../src/db/migration/read-schema-facts";
import { migrateToLatest } from "../support/migrate-to-latest";

// The drift check compares SQLite's own facts about two schemas. Here: the
// real migrations on local D1, then hand-made changes of every kind it must
// see, and changes of spelling it must not.

const read = async (sql: string) => (await env.DB.prepare(sql).all<Record<string, unknown>>()).results;
const exec = (...statements: string[]) => env.DB.batch(statements.map((sql) => env.DB.prepare(sql)));

async function changesBy(...statements: string[]): Promise<string[]> {
  const before = await readSchemaFacts(read);
  await exec(...statements);
  return diffSchemaFacts(before, await readSchemaFacts(read)).map(formatSchemaDifference);
}

describe("schema facts and their diff", () => {
  let migrated: SchemaFacts;
  beforeAll(async () => {
    await migrateToLatest(env.DB);
    migrated = await readSchemaFacts(read);
  });

  it("reads columns, checks, indexes, unique constraints and foreign keys with their actions", () => {
    expect(migrated.get(`table "user"`)).toBe("");
    expect(migrated.get(`column "user"."email"`)).toBe("#2 TEXT not null");
    expect(migrated.get(`unique constraint on "user"("email")`)).toBe("");
    expect(migrated.get(`primary key on "user"("id")`)).toBe("");
    expect(migrated.get(`index "session_userId_idx" on "session"`)).toBe(`("userId")`);
    expect(migrated.get(`foreign key "session"("userId") references "user"("id")`)).toBe("on update no action on delete cascade");
    expect(migrated.get(`check on "billing_webhook_events" named "billing_webhook_events_outcome_enum"`)).toBe(`outcome in ('applied', 'ignored')`);
    expect(migrated.get(`check on "billing_webhook_events" named "billing_webhook_events_id_length"`)).toBe(`length (id) between 1 and 64`);
  });

  it("leaves out D1's tables, SQLite's and the migration ledgers", () => {
    const tables = [...migrated.keys()].filter((key) => key.startsWith("table ")).join("\n");
    expect(tables).not.toMatch(/_cf_|sqlite_|kysely_migration|d1_migrations/);
  });

  it("sees a column added by hand, with its type and default", async () => {
    expect(await changesBy(`alter table "user" add column "nickname" text not null default 'x'`)).toEqual([
      `+ column "user"."nickname": #7 TEXT not null default 'x'`,
    ]);
  });

  it("sees a partial index, its WHERE, and a trigger", async () => {
    expect(
      await changesBy(
        `create index "user_unverified_idx" on "user" ("createdAt" desc) where "emailVerified" = 0`,
        `create trigger "user_touch" after update on "user" begin update "user" set "updatedAt" = 'x' where id = new.id; end`,
      ),
    ).toEqual([
      `+ index "user_unverified_idx" on "user": ("createdAt" desc) where emailverified = 0`,
      `+ trigger "user_touch" on "user": create trigger user_touch after update on user begin update user set updatedat = 'x' where id = new.id; end`,
    ]);
    expect(await changesBy(`drop index "user_unverified_idx"`, `create index "user_unverified_idx" on "user" ("createdAt" desc) where "emailVerified" = 1`)).toEqual([
      `~ index "user_unverified_idx" on "user": ("createdAt" desc) where emailverified = 0 → ("createdAt" desc) where emailverified = 1`,
    ]);
  });

  it("sees a changed foreign key action, CHECK and NOT NULL, and nothing else", async () => {
    await exec(`create table "note" ("id" text primary key, "userId" text references "user"("id") on delete cascade, "size" integer not null check ("size" > 0), constraint "note_id_length" check (length("id") < 10))`);
    expect(
      await changesBy(
        `drop table "note"`,
        `create table "note" ("id" text primary key, "userId" text references "user"("id") on delete set null, "size" integer check ("size" >= 0), constraint "note_id_length" check (length("id") < 10))`,
      ),
    ).toEqual([
      `- check on "note"."size" (size > 0)`,
      `+ check on "note"."size" (size >= 0)`,
      `~ column "note"."size": #2 INTEGER not null → #2 INTEGER`,
      `~ foreign key "note"("userId") references "user"("id"): on update no action on delete cascade → on update no action on delete set null`,
    ]);
  });

  it("ignores spelling: keyword case, quoting, whitespace and comments (a column's own case is kept: rows carry it)", async () => {
    await exec(`create table "spelled" ("id" integer primary key, "kind" text check ("kind" in ('a', 'b')))`);
    expect(
      await changesBy(`drop table "spelled"`, `CREATE TABLE spelled (  id INTEGER PRIMARY KEY, -- the key\n [kind] text CHECK (Kind IN ('a','b')))`),
    ).toEqual([]);
  });
});
