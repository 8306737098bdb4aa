import { env } from "cloudflare:workers";
import { getMigrations } from "better-auth/db/migration";
import { beforeAll, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { authOptions } from "../../src/auth/create-auth";
import { runMigrations, type MigrationCommand, type RunMigrationsOptions } from "../support/run-migrations";
import { UnsafeMigrationError } from "../../src/db/migration/unsafe-migration-error";
import { signedInUser } from "../support/auth-session";
import { quotedRows } from "../support/billing-quoted-rows";
import { seedBilling } from "../support/billing-seed";
import { d1Reader, schemaSnapshot } from "../support/migration-fixtures/schema-snapshot";

// Storage is shared by the tests of this file, and they run in order: each
// step starts from the database the previous one left.

const BASELINE = "20261124120000_better_auth";
const BILLING = "20261124130000_billing_tables";
const BILLING_TABLES = ["subscription_plans", "user_subscriptions", "direct_debit_tokens", "payment_attempts"] as const;
const AUTH_TABLES = ["user", "session", "account"] as const;

async function migrate(command: MigrationCommand, options: Partial<RunMigrationsOptions> = {}) {
  return runMigrations(env.DB, command, { migrations, ...options });
}

async function rowsOf(tables: readonly string[]): Promise<Record<string, Record<string, string>[]>> {
  return Object.fromEntries(await Promise.all(tables.map(async (table) => [table, await quotedRows(env.DB, table)] as const)));
}

const snapshot = () => schemaSnapshot(d1Reader(env.DB));

describe("the billing migration, up and down on a seeded database", () => {
  let beforeBilling: Awaited<ReturnType<typeof snapshot>>;
  let afterUp: Awaited<ReturnType<typeof snapshot>>;
  let authRows: Awaited<ReturnType<typeof rowsOf>>;
  let billingRows: Awaited<ReturnType<typeof rowsOf>>;

  beforeAll(async () => {
    const report = await migrate({ verb: "to", target: BASELINE });
    expect(report.error).toBeUndefined();
    // Users with a session and a credential account each, made by Better Auth itself.
    await signedInUser("alice@example.com");
    await signedInUser("bob@example.com");
    beforeBilling = await snapshot();
    authRows = await rowsOf(AUTH_TABLES);
  });

  it("starts from users with sessions and accounts, and no billing table", () => {
    for (const table of AUTH_TABLES) expect(authRows[table]).toHaveLength(2);
    expect(Object.keys(beforeBilling.tables as object)).not.toContain("subscription_plans");
  });

  it("up creates the four tables and leaves user, session and account byte-identical", async () => {
    const report = await migrate({ verb: "to", target: BILLING });
    expect(report.error).toBeUndefined();
    expect(report.results.map((result) => [result.migrationName, result.direction, result.status])).toEqual([[BILLING, "Up", "Success"]]);

    afterUp = await snapshot();
    expect(Object.keys(afterUp.tables as object)).toEqual(expect.arrayContaining([...BILLING_TABLES]));
    expect(await rowsOf(AUTH_TABLES)).toEqual(authRows);

    const users = authRows.user!.map((row) => row.id!.slice(1, -1));
    await seedBilling(env.DB, users);
    billingRows = await rowsOf(BILLING_TABLES);
    for (const table of BILLING_TABLES) expect(billingRows[table]!.length).toBeGreaterThan(0);
    expect(await rowsOf(AUTH_TABLES)).toEqual(authRows);
  });

  it("indexes every foreign-key column of the billing tables (a full index leads with it)", async () => {
    const unindexed: string[] = [];
    for (const table of BILLING_TABLES) {
      const read = async <Row>(sql: string, ...params: unknown[]) => (await env.DB.prepare(sql).bind(...params).all<Row>()).results;
      const foreignKeys = await read<{ from: string; table: string }>(`select "from", "table" from pragma_foreign_key_list(?)`, table);
      const fullIndexes = await read<{ name: string }>(`select name from pragma_index_list(?) where partial = 0`, table);
      const leading = await Promise.all(
        fullIndexes.map(async ({ name }) => (await read<{ name: string }>(`select name from pragma_index_info(?) where seqno = 0`, name))[0]?.name),
      );
      for (const fk of foreignKeys) if (!leading.includes(fk.from)) unindexed.push(`${table}.${fk.from} → ${fk.table}`);
      expect(foreignKeys.length).toBeGreaterThan(0);
    }
    expect(unindexed).toEqual([]);
  });

  it("leaves Better Auth's own schema check nothing to create, add or index", async () => {
    // The raw D1 binding, as in better-auth-schema.test.ts: over a Kysely
    // dialect Better Auth 1.7's index query is refused by D1 (better-auth#10976).
    const plan = await getMigrations({ ...authOptions(env), database: env.DB });
    expect(plan.toBeCreated).toEqual([]);
    expect(plan.toBeAdded).toEqual([]);
    expect(plan.toBeAddedIndexes).toEqual([]);
    expect(plan.unsafeChanges).toEqual([]);
    expect(plan.schemaProblems).toEqual([]);
  });

  it("down is refused while billing tables hold rows, and changes nothing", async () => {
    const report = await migrate({ verb: "to", target: BASELINE });
    expect(report.error).toBeInstanceOf(UnsafeMigrationError);
    const refused = (report.error as UnsafeMigrationError).changes.map((change) => `${change.kind} ${change.table}`);
    expect(refused.sort()).toEqual(BILLING_TABLES.map((table) => `drops-rows ${table}`).sort());
    expect(await snapshot()).toEqual(afterUp);
    expect(await rowsOf(BILLING_TABLES)).toEqual(billingRows);
    expect(await rowsOf(AUTH_TABLES)).toEqual(authRows);
  });

  let backupSql: string;
  it("forced down restores the schema from before billing exactly, and backs the billing rows up first", async () => {
    const report = await migrate({ verb: "to", target: BASELINE }, { force: true });
    expect(report.error).toBeUndefined();
    expect(report.results.map((result) => [result.migrationName, result.direction, result.status])).toEqual([[BILLING, "Down", "Success"]]);

    expect(await snapshot()).toEqual(beforeBilling);
    expect(await rowsOf(AUTH_TABLES)).toEqual(authRows);
    expect(Object.fromEntries(report.backup!.tables.map(({ table, rows }) => [table, rows]))).toEqual(
      Object.fromEntries(BILLING_TABLES.map((table) => [table, billingRows[table]!.length])),
    );
    backupSql = report.backup!.sql;
  });

  it("up again gives the same schema as the first up; the backup restores every billing row byte for byte", async () => {
    const report = await migrate({ verb: "to", target: BILLING });
    expect(report.error).toBeUndefined();
    expect(await snapshot()).toEqual(afterUp);
    expect(await rowsOf(AUTH_TABLES)).toEqual(authRows);
    for (const table of BILLING_TABLES) expect(await quotedRows(env.DB, table)).toEqual([]);

    const inserts = backupSql.split("\n").filter((line) => /^insert /i.test(line));
    await env.DB.batch(inserts.map((statement) => env.DB.prepare(statement)));
    expect(await rowsOf(BILLING_TABLES)).toEqual(billingRows);
  });

  it("every later migration also goes up and down cleanly on top (empty billing tables need no force)", async () => {
    await env.DB.batch(BILLING_TABLES.toReversed().map((table) => env.DB.prepare(`delete from "${table}"`)));
    const latest = await migrate({ verb: "latest" });
    expect(latest.error).toBeUndefined();
    const down = await migrate({ verb: "to", target: BASELINE });
    expect(down.error).toBeUndefined();
    expect(await snapshot()).toEqual(beforeBilling);
    expect(await rowsOf(AUTH_TABLES)).toEqual(authRows);
  });
});
