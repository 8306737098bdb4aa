import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { createDb } from "../../src/db/create-db";
import { runMigrations } from "../support/run-migrations";
import { signedInUser } from "../support/auth-session";
import { attemptRow, planRow, subscriptionRow } from "../support/billing-seed";
import { d1Reader, schemaSnapshot } from "../support/migration-fixtures/schema-snapshot";

// 20261201110000_billing_cycle_anchor on a database holding drifted
// subscriptions: the anchor comes from the first paid period, the user
// trigger guards money, and down gives the schema before back.

const BEFORE = "20261124140000_billing_webhook_events";
const ANCHOR = "20261201110000_billing_cycle_anchor";
const db = createDb(env.DB);

describe("the billing anchor migration", () => {
  let userId: string;
  const plans = [planRow(), planRow(), planRow()] as const;
  const plan = plans[0];
  // Drifted: paid first on Jan 31, its period now Mar 28 → Apr 28.
  const paid = subscriptionRow("", plan.id, { currentPeriodStart: "2027-03-28T10:00:00.000Z", currentPeriodEnd: "2027-04-28T10:00:00.000Z", createdAt: "2027-01-30T09:00:00.000Z" });
  const trial = subscriptionRow("", plans[1].id, { status: "trialing", trialEndsAt: "2027-02-14T00:00:00.000Z", currentPeriodEnd: "2027-02-14T00:00:00.000Z" });
  const neverPaid = subscriptionRow("", plans[2].id, { status: "incomplete", createdAt: "2027-01-05T00:00:00.000Z" });
  let beforeSchema: unknown;

  beforeAll(async () => {
    expect((await runMigrations(env.DB, { verb: "to", target: BEFORE }, { migrations })).error).toBeUndefined();
    userId = (await signedInUser("anchor-migration@example.com")).id;
    beforeSchema = await schemaSnapshot(d1Reader(env.DB));
    await db.insertInto("subscription_plans").values([...plans]).execute();
    for (const row of [paid, trial, neverPaid]) await db.insertInto("user_subscriptions").values({ ...row, userId }).execute();
    await db
      .insertInto("payment_attempts")
      .values([
        attemptRow(userId, { subscriptionId: paid.id, status: "succeeded", updatedAt: "2027-02-28T10:00:00.000Z" }),
        attemptRow(userId, { subscriptionId: paid.id, status: "succeeded", updatedAt: "2027-01-31T10:00:00.000Z" }),
        attemptRow(userId, { subscriptionId: neverPaid.id, status: "failed", updatedAt: "2027-01-06T00:00:00.000Z" }),
      ])
      .execute();
  });

  it("backfills the anchor from the earliest success, the trial's end, else createdAt — never the drifted period", async () => {
    const report = await runMigrations(env.DB, { verb: "to", target: ANCHOR }, { migrations });
    expect(report.error).toBeUndefined();
    const anchors = await db.selectFrom("user_subscriptions").select(["id", "billingCycleAnchor"]).where("userId", "=", userId).execute();
    expect(Object.fromEntries(anchors.map((row) => [row.id, row.billingCycleAnchor]))).toEqual({
      [paid.id]: "2027-01-31T10:00:00.000Z",
      [trial.id]: "2027-02-14T00:00:00.000Z",
      [neverPaid.id]: "2027-01-05T00:00:00.000Z",
    });
    const flags = await db.selectFrom("payment_attempts").select("refundDue").where("userId", "=", userId).execute();
    expect(flags.map((row) => row.refundDue)).toEqual([0, 0, 0]);
  });

  it("refuses a non-ISO anchor and a refundDue other than 0/1", async () => {
    await expect(db.updateTable("user_subscriptions").set({ billingCycleAnchor: "2027-02-30T00:00:00.000Z" }).where("id", "=", paid.id).execute()).rejects.toThrow(/billingCycleAnchor_iso8601/);
    await expect(db.updateTable("payment_attempts").set({ refundDue: 2 }).where("userId", "=", userId).execute()).rejects.toThrow(/refundDue_boolean/);
  });

  it("the trigger refuses deleting a user whose subscriptions collect, and allows it once they ended", async () => {
    const deleteUser = () => env.DB.prepare(`delete from "user" where id = ?`).bind(userId).run();
    await expect(deleteUser()).rejects.toThrow(/PAYMENT_IN_FLIGHT/);
    await db.updateTable("user_subscriptions").set({ cancelAtPeriodEnd: 1 }).where("id", "=", paid.id).execute();
    await db.updateTable("user_subscriptions").set({ status: "canceled" }).where("id", "in", [trial.id, neverPaid.id]).execute();
    // An attempt owed back still stops it.
    await db.updateTable("payment_attempts").set({ refundDue: 1 }).where("subscriptionId", "=", paid.id).execute();
    await expect(deleteUser()).rejects.toThrow(/PAYMENT_IN_FLIGHT/);
    await db.updateTable("payment_attempts").set({ refundDue: 0 }).where("subscriptionId", "=", paid.id).execute();
    await deleteUser();
    expect(await env.DB.prepare(`select count(*) as n from user_subscriptions where userId = ?`).bind(userId).first("n")).toBe(0);
  });

  it("down gives back the schema before it exactly", async () => {
    const report = await runMigrations(env.DB, { verb: "to", target: BEFORE }, { migrations });
    expect(report.error).toBeUndefined();
    expect(await schemaSnapshot(d1Reader(env.DB))).toEqual(beforeSchema);
  });
});
