import { env } from "cloudflare:workers";
import { getMigrations } from "better-auth/db/migration";
import { describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { authOptions } from "../../src/auth/create-auth";
import { runMigrations } from "../support/run-migrations";
import { callWorker, freshClientIp, signUp } from "../support/auth-session";

const BASELINE = "20261124120000_better_auth";
const AUTH_TABLES = ["user", "session", "account", "verification", "rateLimit"];

/** Every row of a table, each value as SQLite's `quote()` spells it (type and bytes). */
async function exactRows(table: string): Promise<Record<string, string>[]> {
  const columns = await env.DB.prepare(`select name from pragma_table_info(?) order by cid`).bind(table).all<{ name: string }>();
  const select = columns.results.map(({ name }) => `quote("${name}") as "${name}"`).join(", ");
  const rows = await env.DB.prepare(`select ${select} from "${table}" order by id`).all<Record<string, string>>();
  return rows.results;
}

/** What `sqlite_master` says about the auth tables and their indexes. */
async function authSchema(): Promise<{ type: string; name: string; tbl_name: string; sql: string | null }[]> {
  const rows = await env.DB.prepare(
    `select type, name, tbl_name, sql from sqlite_master
     where tbl_name in (${AUTH_TABLES.map(() => "?").join(", ")}) order by name`,
  )
    .bind(...AUTH_TABLES)
    .all<{ type: string; name: string; tbl_name: string; sql: string | null }>();
  return rows.results;
}

// One fresh database for this file (storage is isolated per test file):
// Better Auth creates its tables itself, a user signs up, then our
// migrations adopt the database.
describe("adopting a database whose auth tables Better Auth created", () => {
  it("keeps the user byte for byte, records the baseline as applied, and the user can still sign in", async () => {
    expect(Object.keys(migrations)).toContain(BASELINE);
    // Better Auth's own migration, as `npx auth migrate` would run it (the raw
    // D1 binding: see better-auth-schema.test.ts for why).
    const betterAuth = await getMigrations({ ...authOptions(env), database: env.DB });
    expect(betterAuth.toBeCreated).toHaveLength(AUTH_TABLES.length);
    await betterAuth.runMigrations();
    const grace = await signUp("grace@example.com");

    const rowsBefore = { user: await exactRows("user"), session: await exactRows("session"), account: await exactRows("account") };
    const schemaBefore = await authSchema();
    expect(rowsBefore.user).toHaveLength(1);
    expect(rowsBefore.account).toHaveLength(1);
    expect(rowsBefore.session).toHaveLength(1);

    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations });

    expect(report.error).toBeUndefined();
    expect(report.results).toContainEqual({ migrationName: BASELINE, direction: "Up", status: "Success" });
    const rowsAfter = { user: await exactRows("user"), session: await exactRows("session"), account: await exactRows("account") };
    expect(rowsAfter).toEqual(rowsBefore);
    // Unchanged, except for the billing migration's guard on deleting a user (20261201110000_billing_cycle_anchor).
    const schemaAfter = await authSchema();
    expect(schemaAfter.filter((entry) => entry.name !== "user_delete_keeps_money")).toEqual(schemaBefore);
    expect(schemaAfter.filter((entry) => entry.name === "user_delete_keeps_money").map((entry) => entry.type)).toEqual(["trigger"]);
    const ledger = await env.DB.prepare(`select name, timestamp from kysely_migration where name = ?`)
      .bind(BASELINE)
      .all<{ name: string; timestamp: string }>();
    expect(ledger.results).toHaveLength(1);
    expect(Number.isNaN(Date.parse(ledger.results[0]!.timestamp))).toBe(false);

    const signIn = await callWorker("/api/auth/sign-in/email", {
      method: "POST",
      ip: freshClientIp(),
      body: JSON.stringify({ email: grace.email, password: grace.password }),
    });
    expect(signIn.status).toBe(200);
    expect((await signIn.json<{ user: { id: string } }>()).user.id).toBe(grace.id);
  });

  it("a second latest has nothing left to do", async () => {
    const before = await exactRows("user");
    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations });
    expect(report.error).toBeUndefined();
    expect(report.results).toEqual([]);
    expect(await exactRows("user")).toEqual(before);
  });
});
