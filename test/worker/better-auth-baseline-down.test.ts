import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { runMigrations } from "../support/run-migrations";
import { callWorker, signedInUser, type TestUser } from "../support/auth-session";

const BASELINE = "20261124120000_better_auth";
// Only the baseline, so `down` reverts exactly it however many migrations follow it.
const baselineOnly = { [BASELINE]: migrations[BASELINE]! };

/** Every schema object except D1's internal ones, as `sqlite_master` holds it. */
async function schemaObjects(): Promise<{ type: string; name: string; sql: string | null }[]> {
  const rows = await env.DB.prepare(
    `select type, name, sql from sqlite_master
     where name not like '\\_cf\\_%' escape '\\' and name not like 'sqlite\\_%' escape '\\' order by name`,
  ).all<{ type: string; name: string; sql: string | null }>();
  return rows.results;
}

async function ledger(): Promise<string[]> {
  const rows = await env.DB.prepare(`select name from kysely_migration order by name`).all<{ name: string }>();
  return rows.results.map(({ name }) => name);
}

async function userIds(): Promise<string[]> {
  const rows = await env.DB.prepare(`select id from "user" order by id`).all<{ id: string }>();
  return rows.results.map(({ id }) => id);
}

// Tests share this file's database and run in order.
describe("reverting the auth baseline", () => {
  let linus: TestUser;

  beforeAll(async () => {
    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: baselineOnly });
    if (report.error) throw report.error;
    linus = await signedInUser("linus@example.com");
  });

  // Forcing a run lets it drop rows it has backed up; it must not get past the
  // baseline's own refusal to delete every user.
  it.each([{ force: false }, { force: true }])(
    "refuses while user holds rows (force: $force), says why, and changes nothing",
    async ({ force }) => {
      const schemaBefore = await schemaObjects();

      const report = await runMigrations(env.DB, { verb: "down" }, { migrations: baselineOnly, force });

      expect(report.error).toBeInstanceOf(Error);
      expect((report.error as Error).message).toMatch(/refusing to revert the auth schema: "user" holds 1 row\(s\)/);
      expect(report.results).toEqual([{ migrationName: BASELINE, direction: "Down", status: "Error" }]);
      expect(await schemaObjects()).toEqual(schemaBefore);
      expect(await ledger()).toEqual([BASELINE]);
      expect(await userIds()).toEqual([linus.id]);
    },
  );

  it("with no users left, drops exactly the auth tables and their indexes", async () => {
    const deleted = await callWorker("/api/auth/delete-user", {
      method: "POST",
      cookie: linus.cookie,
      ip: linus.ip,
      body: JSON.stringify({ password: linus.password }),
    });
    expect(deleted.status).toBe(200);
    expect(await userIds()).toEqual([]);
    const before = await schemaObjects();
    const authObjects = before.filter(({ name }) => !name.startsWith("kysely_migration"));
    expect(authObjects.map(({ name }) => name).sort()).toEqual([
      "account",
      "account_userId_idx",
      "rateLimit",
      "session",
      "session_userId_idx",
      "user",
      "verification",
      "verification_identifier_idx",
    ]);

    // Forced: the rate limiter's counters (rows of "rateLimit") go with their table.
    const report = await runMigrations(env.DB, { verb: "down" }, { migrations: baselineOnly, force: true });

    expect(report.error).toBeUndefined();
    expect(report.results).toEqual([{ migrationName: BASELINE, direction: "Down", status: "Success" }]);
    expect(await schemaObjects()).toEqual(before.filter((object) => !authObjects.includes(object)));
    expect(await ledger()).toEqual([]);
  });
});
