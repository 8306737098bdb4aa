import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { emptyDatabase } from "../support/empty-database";
import { migrateToLatest } from "../support/migrate-to-latest";
import { d1Reader, schemaSnapshot } from "../support/migration-fixtures/schema-snapshot";
import { runMigrations } from "../support/run-migrations";

// The helpers every other worker file stands on: emptying a database between
// files, and migrateToLatest's replay of the isolate's first real run.

const read = d1Reader(env.DB);

/** sqlite_master in creation order (what a replay must reproduce), the ledger's names and lock rows. */
async function image() {
  return {
    objects: await read(`select type, name, tbl_name, sql from sqlite_master where name not like '\\_cf\\_%' escape '\\' order by rowid`),
    schema: await schemaSnapshot(read),
    migrations: (await read(`select name from kysely_migration order by name`)).map((row) => row.name),
    locks: await read(`select * from kysely_migration_lock order by id`),
  };
}

describe("test database helpers", () => {
  it("emptyDatabase leaves a database with rows, a trigger, a view and foreign keys as empty as a new one", async () => {
    await migrateToLatest(env.DB);
    await env.DB.batch([
      env.DB.prepare(`create table parent_x (id text primary key)`),
      env.DB.prepare(`create table child_x (id text primary key, parentId text not null references parent_x (id))`),
      env.DB.prepare(`create view child_view as select * from child_x`),
      env.DB.prepare(`create trigger child_x_guard before delete on parent_x begin select raise(abort, 'kept'); end`),
      env.DB.prepare(`insert into parent_x values ('p')`),
      env.DB.prepare(`insert into child_x values ('c', 'p')`),
      env.DB.prepare(`insert into "user" (id, name, email, emailVerified, createdAt, updatedAt) values ('u', 'u', 'u@example.com', 0, 0, 0)`),
    ]);

    await emptyDatabase(env.DB);

    expect(await read(`select name from sqlite_master where name not like '\\_cf\\_%' escape '\\'`)).toEqual([]);
  });

  it("migrateToLatest on an empty database leaves exactly what a real run of every migration leaves", async () => {
    await emptyDatabase(env.DB);
    const real = await runMigrations(env.DB, { verb: "latest" }, { migrations });
    expect(real.error).toBeUndefined();
    const expected = await image();
    expect(expected.migrations).toEqual(Object.keys(migrations).sort());

    // The isolate's image exists after this call at the latest, so the second one replays it.
    await emptyDatabase(env.DB);
    await migrateToLatest(env.DB);
    await emptyDatabase(env.DB);
    await migrateToLatest(env.DB);

    expect(await image()).toEqual(expected);
    const again = await runMigrations(env.DB, { verb: "latest" }, { migrations });
    expect(again.error).toBeUndefined();
    expect(again.results).toEqual([]);
  });
});
