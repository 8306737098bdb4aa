import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/create-db";
import { callWorker, signedInUser, type TestUser } from "../support/auth-session";
import { quotedRows } from "../support/billing-quoted-rows";
import { attemptRow, planRow, seedBilling, subscriptionRow, tokenRow, type SeededBilling } from "../support/billing-seed";
import { migrateToLatest } from "../support/migrate-to-latest";

// Storage is shared by the tests of this file; they run in order. Alice is
// deleted last, so the earlier tests can use her rows.

const OWNED_TABLES = ["user_subscriptions", "payment_attempts", "direct_debit_tokens"] as const;
const db = createDb(env.DB);

async function everyBillingRow() {
  return {
    subscription_plans: await quotedRows(env.DB, "subscription_plans"),
    user_subscriptions: await quotedRows(env.DB, "user_subscriptions"),
    payment_attempts: await quotedRows(env.DB, "payment_attempts"),
    direct_debit_tokens: await quotedRows(env.DB, "direct_debit_tokens"),
  };
}

/** `quote()` of a text value, as {@link quotedRows} renders it. */
function quoted(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

describe("what deleting a parent row does to billing rows", () => {
  let alice: TestUser;
  let bob: TestUser;
  let seeded: SeededBilling;

  beforeAll(async () => {
    await migrateToLatest(env.DB);
    alice = await signedInUser("alice@example.com");
    bob = await signedInUser("bob@example.com");
    // Alice created the first plan; both subscribe to it and hold mandates and attempts.
    seeded = await seedBilling(env.DB, [alice.id, bob.id]);
    await db.insertInto("subscription_plans").values(planRow({ createdBy: bob.id })).execute();
  });

  it("a plan with subscribers cannot be deleted (RESTRICT), not even when all of them ended", async () => {
    const before = await everyBillingRow();
    // The first plan has live subscribers, the second only ended ones.
    expect(seeded.plans).toHaveLength(2);
    for (const plan of seeded.plans) {
      await expect(db.deleteFrom("subscription_plans").where("id", "=", plan.id).execute()).rejects.toThrow(/FOREIGN KEY constraint failed/);
    }
    expect(await everyBillingRow()).toEqual(before);

    const unused = planRow();
    await db.insertInto("subscription_plans").values(unused).execute();
    await db.deleteFrom("subscription_plans").where("id", "=", unused.id).execute();
    expect(await everyBillingRow()).toEqual(before);
  });

  it("deleting a mandate keeps the payments made with it, with directDebitTokenId set to NULL", async () => {
    const token = tokenRow(alice.id);
    const attempt = attemptRow(alice.id, { directDebitTokenId: token.id, status: "succeeded" });
    await db.insertInto("direct_debit_tokens").values(token).execute();
    await db.insertInto("payment_attempts").values(attempt).execute();
    const others = (await quotedRows(env.DB, "payment_attempts")).filter((row) => row.id !== quoted(attempt.id));

    await db.deleteFrom("direct_debit_tokens").where("id", "=", token.id).execute();

    const after = await db.selectFrom("payment_attempts").selectAll().where("id", "=", attempt.id).executeTakeFirst();
    expect(after).toEqual({ ...attempt, directDebitTokenId: null, refundDue: 0, periodStart: null, reversal: null, providerCancel: null, moneyEventAt: null, firstTriedAt: null });
    expect((await quotedRows(env.DB, "payment_attempts")).filter((row) => row.id !== quoted(attempt.id))).toEqual(others);
  });

  it("deleting a subscription deletes its payment attempts, and only those", async () => {
    const subscription = subscriptionRow(alice.id, seeded.plans[1]!.id, { status: "incomplete" });
    const attempts = [attemptRow(alice.id, { subscriptionId: subscription.id, status: "failed" }), attemptRow(alice.id, { subscriptionId: subscription.id, attemptNumber: 2 })];
    await db.insertInto("user_subscriptions").values(subscription).execute();
    await db.insertInto("payment_attempts").values(attempts).execute();
    const before = await everyBillingRow();

    await db.deleteFrom("user_subscriptions").where("id", "=", subscription.id).execute();

    const gone = new Set([subscription.id, ...attempts.map((attempt) => attempt.id)].map(quoted));
    const after = await everyBillingRow();
    expect(after).toEqual({
      ...before,
      user_subscriptions: before.user_subscriptions.filter((row) => !gone.has(row.id!)),
      payment_attempts: before.payment_attempts.filter((row) => !gone.has(row.id!)),
    });
    expect(after.payment_attempts.length).toBe(before.payment_attempts.length - 2);
  });

  it("deleting a user through Better Auth removes exactly their subscriptions, attempts and mandates, and un-attributes their plans", async () => {
    // First end what still collects, as docs/billing-lifecycle.md says (else 409 PAYMENT_IN_FLIGHT).
    const live = seeded.subscriptions.find((row) => row.userId === alice.id && row.status === "active")!;
    const canceled = await callWorker(`/api/billing/subscriptions/${live.id}/cancel`, {
      method: "POST",
      cookie: alice.cookie,
      ip: alice.ip,
      body: JSON.stringify({ atPeriodEnd: false }),
    });
    expect(canceled.status).toBe(200);
    const before = await everyBillingRow();
    const bobsAuthRows = {
      user: await quotedRows(env.DB, "user", { id: bob.id }),
      session: await quotedRows(env.DB, "session", { userId: bob.id }),
      account: await quotedRows(env.DB, "account", { userId: bob.id }),
    };
    for (const table of OWNED_TABLES) {
      expect(before[table].some((row) => row.userId === quoted(alice.id))).toBe(true);
      expect(before[table].some((row) => row.userId === quoted(bob.id))).toBe(true);
    }
    expect(before.subscription_plans.filter((row) => row.createdBy === quoted(alice.id))).toHaveLength(1);

    const response = await callWorker("/api/auth/delete-user", {
      method: "POST",
      cookie: alice.cookie,
      ip: alice.ip,
      body: JSON.stringify({ password: alice.password }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true, message: "User deleted" });

    const after = await everyBillingRow();
    for (const table of OWNED_TABLES) {
      expect(after[table]).toEqual(before[table].filter((row) => row.userId !== quoted(alice.id)));
    }
    // Plans stay in the catalog; only their creator is forgotten, nothing else about them changes.
    expect(after.subscription_plans).toEqual(
      before.subscription_plans.map((row) => (row.createdBy === quoted(alice.id) ? { ...row, createdBy: "NULL" } : row)),
    );
    expect(await quotedRows(env.DB, "user", { id: alice.id })).toEqual([]);
    expect({
      user: await quotedRows(env.DB, "user", { id: bob.id }),
      session: await quotedRows(env.DB, "session", { userId: bob.id }),
      account: await quotedRows(env.DB, "account", { userId: bob.id }),
    }).toEqual(bobsAuthRows);
  });
});
