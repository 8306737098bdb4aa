import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { createDb } from "../../src/db/create-db";
import { signedInUser } from "../support/auth-session";
import { attemptRow, planRow, subscriptionRow } from "../support/billing-seed";
import { d1Reader, schemaSnapshot } from "../support/migration-fixtures/schema-snapshot";
import { runMigrations } from "../support/run-migrations";

// 20261202100000_payment_attempt_periods: the database itself refuses a
// second attempt for one period and attempt number, and a second open
// attempt; existing rows are backfilled so the indexes hold; down restores.

const BEFORE = "20261201120000_direct_debit_token_reuse_and_pages";
const PERIODS = "20261202100000_payment_attempt_periods";
const db = createDb(env.DB);

describe("the payment attempt periods migration", () => {
  let userId: string;
  const plan = planRow();
  const sub = subscriptionRow("", plan.id, { currentPeriodEnd: "2027-03-01T00:00:00.000Z" });
  // Two settled attempts numbered 1 for two different (unrecorded) periods, and one open.
  const old1 = attemptRow("", { subscriptionId: sub.id, status: "succeeded", createdAt: "2027-01-01T00:00:00.000Z" });
  const old2 = attemptRow("", { subscriptionId: sub.id, status: "succeeded", createdAt: "2027-02-01T00:00:00.000Z" });
  const open = attemptRow("", { subscriptionId: sub.id, status: "pending", attemptNumber: 1, createdAt: "2027-02-27T00:00:00.000Z" });
  let beforeSchema: unknown;

  beforeAll(async () => {
    expect((await runMigrations(env.DB, { verb: "to", target: BEFORE }, { migrations })).error).toBeUndefined();
    userId = (await signedInUser("periods-migration@example.com")).id;
    beforeSchema = await schemaSnapshot(d1Reader(env.DB));
    await db.insertInto("subscription_plans").values(plan).execute();
    await db.insertInto("user_subscriptions").values({ ...sub, userId }).execute();
    // The seed rows leave periodStart out: they fit the schema before this migration.
    for (const row of [old1, old2, open]) await db.insertInto("payment_attempts").values({ ...row, userId }).execute();
  });

  it("backfills periodStart: an open attempt pays for the period after the stored one; a settled one keeps its createdAt", async () => {
    expect((await runMigrations(env.DB, { verb: "to", target: PERIODS }, { migrations })).error).toBeUndefined();
    const rows = await db.selectFrom("payment_attempts").select(["id", "periodStart"]).where("userId", "=", userId).execute();
    expect(Object.fromEntries(rows.map((row) => [row.id, row.periodStart]))).toEqual({
      [old1.id]: "2027-01-01T00:00:00.000Z",
      [old2.id]: "2027-02-01T00:00:00.000Z",
      [open.id]: "2027-03-01T00:00:00.000Z",
    });
  });

  it("refuses a second attempt for the same period and number, and a second open attempt", async () => {
    const row = (overrides: Parameters<typeof attemptRow>[1]) => ({ ...attemptRow(userId, { subscriptionId: sub.id, ...overrides }) });
    await db.updateTable("payment_attempts").set({ status: "failed" }).where("id", "=", open.id).execute();
    await expect(db.insertInto("payment_attempts").values(row({ status: "failed", periodStart: "2027-03-01T00:00:00.000Z", attemptNumber: 1 })).execute()).rejects.toThrow(
      /UNIQUE constraint failed: payment_attempts.subscriptionId, payment_attempts.periodStart, payment_attempts.attemptNumber/,
    );
    await db.insertInto("payment_attempts").values(row({ status: "pending", periodStart: "2027-03-01T00:00:00.000Z", attemptNumber: 2 })).execute();
    await expect(db.insertInto("payment_attempts").values(row({ status: "processing", periodStart: "2027-04-01T00:00:00.000Z", attemptNumber: 1 })).execute()).rejects.toThrow(
      /UNIQUE constraint failed: payment_attempts.subscriptionId/,
    );
    await expect(db.updateTable("payment_attempts").set({ periodStart: "2027-03-01" }).where("id", "=", old1.id).execute()).rejects.toThrow(/periodStart_iso8601/);
  });

  it("down gives back the schema before it exactly", async () => {
    await db.deleteFrom("payment_attempts").where("periodStart", "=", "2027-03-01T00:00:00.000Z").where("attemptNumber", "=", 2).execute();
    // Dropping periodStart loses the recorded periods: the guard asks for --force.
    const report = await runMigrations(env.DB, { verb: "to", target: BEFORE }, { migrations, force: true });
    expect(report.error).toBeUndefined();
    expect(await schemaSnapshot(d1Reader(env.DB))).toEqual(beforeSchema);
  });
});
