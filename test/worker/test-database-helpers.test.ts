import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { BILLING_TABLES, billingCounts, billingSnapshot } from "../support/billing-api";
import { seedBilling } from "../support/billing-seed";
import { emptyDatabase } from "../support/empty-database";
import { migrateToLatest } from "../support/migrate-to-latest";
import { d1Reader, schemaSnapshot } from "../support/migration-fixtures/schema-snapshot";
import { runMigrations } from "../support/run-migrations";

// The helpers every other worker file stands on: emptying a database between
// files, migrateToLatest's replay of the isolate's first real run, and the
// "no billing row changed" reads many files compare before and after.

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

  it("billingCounts and billingSnapshot read every billing table, each under its own name", async () => {
    await emptyDatabase(env.DB);
    await migrateToLatest(env.DB);
    await env.DB.batch(
      ["u1", "u2"].map((id) => env.DB.prepare(`insert into "user" (id, name, email, emailVerified, createdAt, updatedAt) values (?, ?, ?, 0, 0, 0)`).bind(id, id, `${id}@example.com`)),
    );
    await seedBilling(env.DB, ["u1", "u2"]);
    // Rows taken away so that no two seeded tables hold the same number: a helper that read one table under another's name fails.
    await env.DB.batch([
      env.DB.prepare(`delete from payment_attempts where status = 'failed' or userId = 'u1'`),
      env.DB.prepare(`delete from direct_debit_tokens where userId = 'u1' and status = 'revoked'`),
    ]);

    const counts: Record<string, number> = {};
    const snapshot: Record<string, unknown[]> = {};
    for (const table of BILLING_TABLES) {
      counts[table] = (await read(`select count(*) as n from "${table}"`))[0]!.n as number;
      snapshot[table] = await read(`select * from "${table}" order by rowid`);
    }
    expect(counts).toMatchObject({ subscription_plans: 2, user_subscriptions: 4, direct_debit_tokens: 3, payment_attempts: 1 });
    expect(await billingCounts()).toEqual(counts);
    expect(await billingSnapshot()).toEqual(snapshot);
  });
});
