import { env } from "cloudflare:workers";
import { Kysely } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  BILLING_INTERVALS,
  DIRECT_DEBIT_TOKEN_STATUSES,
  PAYMENT_ATTEMPT_STATUSES,
  SUBSCRIPTION_STATUSES,
} from "../../src/db/billing-enums";
import {
  directDebitTokenInsertSchema,
  directDebitTokenUpdateSchema,
  paymentAttemptInsertSchema,
  paymentAttemptUpdateSchema,
  subscriptionPlanInsertSchema,
  subscriptionPlanUpdateSchema,
  userSubscriptionInsertSchema,
  userSubscriptionUpdateSchema,
} from "../support/derived-row-schemas";
import { ProjectD1Dialect } from "../../src/db/d1-dialect";
import { signedInUser, type TestUser } from "../support/auth-session";
import { attemptRow, planRow, SEED_NOW, subscriptionRow, tokenRow } from "../support/billing-seed";
import { migrateToLatest } from "../support/migrate-to-latest";

// Storage is shared by the tests of this file: beforeAll writes one valid row
// per table (and the two users), each case then tries one more row, or an
// update of a valid row, against that state.

type Row = Record<string, unknown>;
type BillingTable = "subscription_plans" | "user_subscriptions" | "payment_attempts" | "direct_debit_tokens";

// Kysely<any>: these tests write rows the generated types would (rightly) reject.
const db = new Kysely<any>({ dialect: new ProjectD1Dialect({ database: env.DB }) });

let alice: TestUser;
let bob: TestUser;
/** One valid row per table, inserted before the cases run. */
const base = {} as Record<BillingTable, Row>;
/** A second plan nobody has subscribed to before the cases run. */
let otherPlanId: string;

const schemas: Record<BillingTable, { insert: z.ZodType; update: z.ZodObject }> = {
  subscription_plans: { insert: subscriptionPlanInsertSchema, update: subscriptionPlanUpdateSchema },
  user_subscriptions: { insert: userSubscriptionInsertSchema, update: userSubscriptionUpdateSchema },
  payment_attempts: { insert: paymentAttemptInsertSchema, update: paymentAttemptUpdateSchema },
  direct_debit_tokens: { insert: directDebitTokenInsertSchema, update: directDebitTokenUpdateSchema },
};

/** A fresh valid row for a table, pointing at the base rows and colliding with none. */
function validRow(table: BillingTable): Row {
  switch (table) {
    case "subscription_plans":
      return planRow({ createdBy: alice.id });
    // With the columns later migrations added (the factories leave them to SQLite).
    case "user_subscriptions":
      return { ...subscriptionRow(bob.id, otherPlanId), billingCycleAnchor: "2026-11-24T08:21:38.594Z" };
    case "payment_attempts":
      return {
        ...attemptRow(alice.id, {
          subscriptionId: base.user_subscriptions!.id as string,
          directDebitTokenId: base.direct_debit_tokens!.id as string,
          // The base row is the subscription's one open attempt.
          status: "failed",
        }),
        refundDue: 0,
        periodStart: "2026-12-24T08:21:38.594Z",
        reversal: "reversed",
        providerCancel: null,
        moneyEventAt: "2026-12-24T09:00:00.000Z",
        firstTriedAt: "2026-12-24T08:30:00.000Z",
      };
    case "direct_debit_tokens":
      return { ...tokenRow(alice.id), mandateEventAt: "2026-12-24T09:00:00.000Z" };
  }
}

function insert(table: BillingTable, row: Row): Promise<unknown> {
  return db.insertInto(table).values(row).execute();
}

/**
 * D1's message for a broken rule: a CHECK by its name ("CHECK constraint
 * failed: subscription_plans_currency_iso4217"), anything else as SQLite words it.
 */
function violation(rule: string): RegExp {
  const message = rule.includes("constraint failed") ? rule : `CHECK constraint failed: ${rule}`;
  return new RegExp(`${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?=:|$)`);
}

interface RowCase {
  name: string;
  table: BillingTable;
  /** The columns that differ from a valid row; together they break exactly `rule`. */
  patch: Row;
  /** A CHECK's name, or SQLite's whole message for a NOT NULL. */
  rule: string;
  /** The column zod blames, when not the patched one (a cross-column rule). */
  zodPath?: string;
}

/** Column pairs an update schema only accepts together (so it can check their rule). */
const changedTogether: Record<BillingTable, string[][]> = {
  subscription_plans: [],
  user_subscriptions: [
    ["currentPeriodStart", "currentPeriodEnd"],
    ["provider", "providerSubscriptionId"],
  ],
  payment_attempts: [],
  direct_debit_tokens: [["status", "revokedAt"]],
};

/** Asserts zod refuses `input`, blaming only `column`: the one rule under test. */
function expectZodRefusal(schema: z.ZodType, input: Row, column: string): void {
  const result = schema.safeParse(input);
  expect(result.success, "zod refuses it").toBe(false);
  expect(result.error!.issues.map((issue) => issue.path[0])).toEqual(result.error!.issues.map(() => column));
}

const rowCases: RowCase[] = [
  { name: "plan currency 'usd' (lower case)", table: "subscription_plans", patch: { currency: "usd" }, rule: "subscription_plans_currency_iso4217" },
  { name: "plan currency 'EURO' (four letters)", table: "subscription_plans", patch: { currency: "EURO" }, rule: "subscription_plans_currency_iso4217" },
  { name: "plan amount -1", table: "subscription_plans", patch: { amountMinor: -1 }, rule: "subscription_plans_amountMinor_range" },
  { name: "plan amount 19.9 (not an integer)", table: "subscription_plans", patch: { amountMinor: 19.9 }, rule: "subscription_plans_amountMinor_range" },
  { name: "plan amount above Number.MAX_SAFE_INTEGER", table: "subscription_plans", patch: { amountMinor: 2 ** 53 }, rule: "subscription_plans_amountMinor_range" },
  { name: "plan interval 'fortnight'", table: "subscription_plans", patch: { interval: "fortnight" }, rule: "subscription_plans_interval_enum" },
  { name: "plan intervalCount 0", table: "subscription_plans", patch: { intervalCount: 0 }, rule: "subscription_plans_intervalCount_range" },
  { name: "plan trialDays -1", table: "subscription_plans", patch: { trialDays: -1 }, rule: "subscription_plans_trialDays_range" },
  { name: "plan active 2", table: "subscription_plans", patch: { active: 2 }, rule: "subscription_plans_active_boolean" },
  { name: "plan code 'Pro Monthly'", table: "subscription_plans", patch: { code: "Pro Monthly" }, rule: "subscription_plans_code_format" },
  { name: "plan code '-pro' (leading hyphen)", table: "subscription_plans", patch: { code: "-pro" }, rule: "subscription_plans_code_format" },
  { name: "plan name ''", table: "subscription_plans", patch: { name: "" }, rule: "subscription_plans_name_length" },
  { name: "plan name NULL", table: "subscription_plans", patch: { name: null }, rule: "NOT NULL constraint failed: subscription_plans.name" },
  { name: "plan createdAt without 'T', 'Z' and milliseconds", table: "subscription_plans", patch: { createdAt: "2026-11-24 08:21:38" }, rule: "subscription_plans_createdAt_iso8601" },
  { name: "plan updatedAt on 31 February", table: "subscription_plans", patch: { updatedAt: "2026-02-31T00:00:00.000Z" }, rule: "subscription_plans_updatedAt_iso8601" },
  { name: "subscription status 'expired'", table: "user_subscriptions", patch: { status: "expired" }, rule: "user_subscriptions_status_enum" },
  { name: "subscription period ending before it starts", table: "user_subscriptions", patch: { currentPeriodEnd: "2026-11-01T00:00:00.000Z" }, rule: "user_subscriptions_period_order" },
  { name: "subscription cancelAtPeriodEnd 2", table: "user_subscriptions", patch: { cancelAtPeriodEnd: 2 }, rule: "user_subscriptions_cancelAtPeriodEnd_boolean" },
  { name: "subscription trialEndsAt 'tomorrow'", table: "user_subscriptions", patch: { trialEndsAt: "tomorrow" }, rule: "user_subscriptions_trialEndsAt_iso8601" },
  { name: "subscription canceledAt with a +01:00 offset", table: "user_subscriptions", patch: { canceledAt: "2026-11-24T09:21:38.594+01:00" }, rule: "user_subscriptions_canceledAt_iso8601" },
  { name: "subscription provider 'Stripe' (upper case)", table: "user_subscriptions", patch: { provider: "Stripe" }, rule: "user_subscriptions_provider_format" },
  { name: "subscription providerSubscriptionId without provider", table: "user_subscriptions", patch: { provider: null }, rule: "user_subscriptions_providerSubscriptionId_needs_provider" },
  { name: "subscription providerSubscriptionId ''", table: "user_subscriptions", patch: { providerSubscriptionId: "" }, rule: "user_subscriptions_providerSubscriptionId_length" },
  { name: "attempt amount 0", table: "payment_attempts", patch: { amountMinor: 0 }, rule: "payment_attempts_amountMinor_range" },
  { name: "attempt amount -100", table: "payment_attempts", patch: { amountMinor: -100 }, rule: "payment_attempts_amountMinor_range" },
  { name: "attempt currency 'usd'", table: "payment_attempts", patch: { currency: "usd" }, rule: "payment_attempts_currency_iso4217" },
  { name: "attempt status 'refunded'", table: "payment_attempts", patch: { status: "refunded" }, rule: "payment_attempts_status_enum" },
  { name: "attempt attemptNumber 0", table: "payment_attempts", patch: { attemptNumber: 0 }, rule: "payment_attempts_attemptNumber_range" },
  { name: "attempt idempotencyKey ''", table: "payment_attempts", patch: { idempotencyKey: "" }, rule: "payment_attempts_idempotencyKey_format" },
  { name: "attempt idempotencyKey of 256 characters", table: "payment_attempts", patch: { idempotencyKey: "k".repeat(256) }, rule: "payment_attempts_idempotencyKey_format" },
  { name: "attempt idempotencyKey with a space", table: "payment_attempts", patch: { idempotencyKey: "order 42" }, rule: "payment_attempts_idempotencyKey_format" },
  { name: "attempt requestFingerprint 'abc'", table: "payment_attempts", patch: { requestFingerprint: "abc" }, rule: "payment_attempts_requestFingerprint_hex" },
  { name: "attempt requestFingerprint in upper-case hex", table: "payment_attempts", patch: { requestFingerprint: "AB".repeat(32) }, rule: "payment_attempts_requestFingerprint_hex" },
  { name: "attempt nextRetryAt in month 13", table: "payment_attempts", patch: { nextRetryAt: "2026-13-01T00:00:00.000Z" }, rule: "payment_attempts_nextRetryAt_iso8601" },
  { name: "attempt refundDue 2", table: "payment_attempts", patch: { refundDue: 2 }, rule: "payment_attempts_refundDue_boolean" },
  { name: "attempt reversal 'refunded'", table: "payment_attempts", patch: { reversal: "refunded" }, rule: "payment_attempts_reversal_enum" },
  { name: "attempt moneyEventAt without milliseconds", table: "payment_attempts", patch: { moneyEventAt: "2026-12-24T09:00:00Z" }, rule: "payment_attempts_moneyEventAt_iso8601" },
  { name: "token mandateEventAt without milliseconds", table: "direct_debit_tokens", patch: { mandateEventAt: "2026-12-24T09:00:00Z" }, rule: "direct_debit_tokens_mandateEventAt_iso8601" },
  { name: "attempt firstTriedAt without milliseconds", table: "payment_attempts", patch: { firstTriedAt: "2026-12-24T09:00:00Z" }, rule: "payment_attempts_firstTriedAt_iso8601" },
  { name: "subscription billingCycleAnchor on Feb 30", table: "user_subscriptions", patch: { billingCycleAnchor: "2027-02-30T00:00:00.000Z" }, rule: "user_subscriptions_billingCycleAnchor_iso8601" },
  { name: "attempt failureMessage ''", table: "payment_attempts", patch: { failureMessage: "" }, rule: "payment_attempts_failureMessage_length" },
  { name: "attempt provider NULL", table: "payment_attempts", patch: { provider: null }, rule: "NOT NULL constraint failed: payment_attempts.provider" },
  { name: "token accountLast4 '42a2'", table: "direct_debit_tokens", patch: { accountLast4: "42a2" }, rule: "direct_debit_tokens_accountLast4_digits" },
  { name: "token accountLast4 '42424'", table: "direct_debit_tokens", patch: { accountLast4: "42424" }, rule: "direct_debit_tokens_accountLast4_digits" },
  { name: "token status 'deleted'", table: "direct_debit_tokens", patch: { status: "deleted" }, rule: "direct_debit_tokens_status_enum" },
  { name: "token isDefault 2", table: "direct_debit_tokens", patch: { isDefault: 2 }, rule: "direct_debit_tokens_isDefault_boolean" },
  { name: "token fingerprint 'xyz'", table: "direct_debit_tokens", patch: { tokenFingerprint: "xyz" }, rule: "direct_debit_tokens_tokenFingerprint_hex" },
  { name: "token revoked without revokedAt", table: "direct_debit_tokens", patch: { status: "revoked" }, rule: "direct_debit_tokens_revokedAt_when_revoked", zodPath: "revokedAt" },
  { name: "token active with revokedAt", table: "direct_debit_tokens", patch: { revokedAt: SEED_NOW }, rule: "direct_debit_tokens_revokedAt_when_revoked" },
  { name: "token ciphertext ''", table: "direct_debit_tokens", patch: { tokenCiphertext: "" }, rule: "direct_debit_tokens_tokenCiphertext_length" },
  { name: "token tokenKeyId ''", table: "direct_debit_tokens", patch: { tokenKeyId: "" }, rule: "direct_debit_tokens_tokenKeyId_length" },
  { name: "token tokenCiphertext NULL", table: "direct_debit_tokens", patch: { tokenCiphertext: null }, rule: "NOT NULL constraint failed: direct_debit_tokens.tokenCiphertext" },
];

interface StateCase {
  name: string;
  table: BillingTable;
  /** A row valid on its own (zod accepts it) that clashes with the rows already stored. */
  row: () => Row;
  rule: string;
}

const stateCases: StateCase[] = [
  {
    name: "a second plan with an existing code",
    table: "subscription_plans",
    row: () => planRow({ code: base.subscription_plans!.code as string }),
    rule: "UNIQUE constraint failed: subscription_plans.code",
  },
  {
    name: "a second plan with an existing id",
    table: "subscription_plans",
    row: () => planRow({ id: base.subscription_plans!.id as string }),
    rule: "UNIQUE constraint failed: subscription_plans.id",
  },
  {
    name: "a plan created by a missing user",
    table: "subscription_plans",
    row: () => planRow({ createdBy: "no-such-user" }),
    rule: "FOREIGN KEY constraint failed",
  },
  {
    name: "a second live (trialing) subscription of one user to one plan",
    table: "user_subscriptions",
    row: () => subscriptionRow(alice.id, base.subscription_plans!.id as string, { status: "trialing" }),
    rule: "UNIQUE constraint failed: user_subscriptions.userId, user_subscriptions.planId",
  },
  {
    name: "a second subscription with an existing provider subscription id",
    table: "user_subscriptions",
    row: () =>
      subscriptionRow(alice.id, otherPlanId, {
        providerSubscriptionId: base.user_subscriptions!.providerSubscriptionId as string,
      }),
    rule: "UNIQUE constraint failed: user_subscriptions.provider, user_subscriptions.providerSubscriptionId",
  },
  {
    name: "a subscription of a missing user",
    table: "user_subscriptions",
    row: () => subscriptionRow("no-such-user", base.subscription_plans!.id as string),
    rule: "FOREIGN KEY constraint failed",
  },
  {
    name: "a subscription to a missing plan",
    table: "user_subscriptions",
    row: () => subscriptionRow(bob.id, "no-such-plan"),
    rule: "FOREIGN KEY constraint failed",
  },
  {
    name: "a second attempt with one user's idempotency key",
    table: "payment_attempts",
    row: () => attemptRow(alice.id, { idempotencyKey: base.payment_attempts!.idempotencyKey as string }),
    rule: "UNIQUE constraint failed: payment_attempts.userId, payment_attempts.idempotencyKey",
  },
  {
    name: "a second attempt with an existing provider payment id",
    table: "payment_attempts",
    row: () => attemptRow(bob.id, { providerPaymentId: base.payment_attempts!.providerPaymentId as string }),
    rule: "UNIQUE constraint failed: payment_attempts.provider, payment_attempts.providerPaymentId",
  },
  {
    name: "an attempt on a missing subscription",
    table: "payment_attempts",
    row: () => attemptRow(alice.id, { subscriptionId: "no-such-subscription" }),
    rule: "FOREIGN KEY constraint failed",
  },
  {
    name: "an attempt with a missing mandate",
    table: "payment_attempts",
    row: () => attemptRow(alice.id, { directDebitTokenId: "no-such-token" }),
    rule: "FOREIGN KEY constraint failed",
  },
  {
    name: "a second active default mandate of one user",
    table: "direct_debit_tokens",
    row: () => tokenRow(alice.id, { isDefault: 1 }),
    rule: "UNIQUE constraint failed: direct_debit_tokens.userId",
  },
  {
    name: "a second mandate with an existing fingerprint at the same provider",
    table: "direct_debit_tokens",
    row: () => tokenRow(bob.id, { tokenFingerprint: base.direct_debit_tokens!.tokenFingerprint as string }),
    rule: "UNIQUE constraint failed: direct_debit_tokens.provider, direct_debit_tokens.tokenFingerprint",
  },
  {
    name: "a mandate of a missing user",
    table: "direct_debit_tokens",
    row: () => tokenRow("no-such-user"),
    rule: "FOREIGN KEY constraint failed",
  },
];

describe("billing constraints", () => {
  beforeAll(async () => {
    await migrateToLatest(env.DB);
    alice = await signedInUser("alice@example.com");
    bob = await signedInUser("bob@example.com");
    base.subscription_plans = planRow({ createdBy: alice.id });
    base.user_subscriptions = { ...subscriptionRow(alice.id, base.subscription_plans.id as string), billingCycleAnchor: "2026-11-24T08:21:38.594Z" };
    base.direct_debit_tokens = { ...tokenRow(alice.id, { isDefault: 1 }), mandateEventAt: null };
    base.payment_attempts = {
      ...attemptRow(alice.id, {
        subscriptionId: base.user_subscriptions.id as string,
        directDebitTokenId: base.direct_debit_tokens.id as string,
      }),
      refundDue: 0,
      periodStart: null,
      reversal: null,
      providerCancel: null,
      moneyEventAt: null,
      firstTriedAt: null,
    };
    for (const table of ["subscription_plans", "user_subscriptions", "direct_debit_tokens", "payment_attempts"] as const) {
      await insert(table, base[table]);
    }
    const otherPlan = planRow();
    await insert("subscription_plans", otherPlan);
    otherPlanId = otherPlan.id;
  });

  it("covers at least 25 cases, each table at least once", () => {
    expect(rowCases.length + stateCases.length).toBeGreaterThanOrEqual(25);
    for (const table of Object.keys(schemas)) expect(rowCases.some((c) => c.table === table)).toBe(true);
  });

  it("accepts a valid row of every table in zod and in D1", async () => {
    for (const table of Object.keys(schemas) as BillingTable[]) {
      const row = validRow(table);
      expect(schemas[table].insert.safeParse(row).error).toBeUndefined();
      await insert(table, row);
      const stored = await db.selectFrom(table).selectAll().where("id", "=", row.id).executeTakeFirstOrThrow();
      expect(stored).toEqual(row);
    }
  });

  describe(`${rowCases.length} rows that each break one CHECK or NOT NULL rule are refused by zod and by D1`, () => {
    it.for(rowCases)("$name", async ({ table, patch, rule, zodPath }) => {
      const row = { ...validRow(table), ...patch };
      expectZodRefusal(schemas[table].insert, row, zodPath ?? Object.keys(patch)[0]!);
      await expect(insert(table, row)).rejects.toThrow(violation(rule));
      expect(await db.selectFrom(table).select("id").where("id", "=", row.id).executeTakeFirst()).toBeUndefined();
    });
  });

  // The same patches as updates of a stored valid row, where the update schema
  // lets those columns change (ids, owners and creation times never change).
  // Columns the update schema wants changed together come along with their
  // stored values, as a caller would send them.
  const updatable = rowCases.filter(({ table, patch }) => Object.keys(patch).every((column) => column in schemas[table].update.shape));
  describe(`${updatable.length} of those, as updates of a stored row, are refused by zod and by D1`, () => {
    it.for(updatable)("$name", async ({ table, patch, rule, zodPath }) => {
      const target = base[table];
      const partners = changedTogether[table].filter((pair) => pair.some((column) => column in patch)).flat();
      const update = {
        updatedAt: "2026-11-25T00:00:00.000Z",
        ...Object.fromEntries(partners.map((column) => [column, target[column]])),
        ...patch,
      };
      expectZodRefusal(schemas[table].update, update, zodPath ?? Object.keys(patch)[0]!);
      await expect(db.updateTable(table).set(update).where("id", "=", target.id).execute()).rejects.toThrow(violation(rule));
      expect(await db.selectFrom(table).selectAll().where("id", "=", target.id).executeTakeFirst()).toEqual(target);
    });
  });

  describe(`${stateCases.length} rows valid on their own that break a unique index or a foreign key are refused by D1`, () => {
    it.for(stateCases)("$name", async ({ table, row: makeRow, rule }) => {
      const row = makeRow();
      expect(schemas[table].insert.safeParse(row).error, "valid for zod: only the stored rows make it wrong").toBeUndefined();
      await expect(insert(table, row)).rejects.toThrow(violation(rule));
    });
  });

  describe("rows the unique indexes allow", () => {
    it("an ended (canceled, incomplete_expired) subscription next to the live one, and the same plan for another user", async () => {
      const planId = base.subscription_plans!.id as string;
      const rows = [
        subscriptionRow(alice.id, planId, { status: "canceled", canceledAt: SEED_NOW, endedAt: SEED_NOW }),
        subscriptionRow(alice.id, planId, { status: "incomplete_expired" }),
        subscriptionRow(alice.id, planId, { status: "canceled", providerSubscriptionId: null }),
        subscriptionRow(bob.id, planId, { status: "past_due" }),
      ];
      for (const row of rows) await insert("user_subscriptions", row);
      const live = await db
        .selectFrom("user_subscriptions")
        .select("status")
        .where("userId", "=", alice.id)
        .where("planId", "=", planId)
        .where("status", "not in", ["canceled", "incomplete_expired"])
        .execute();
      expect(live).toEqual([{ status: "active" }]);
    });

    it("an ended subscription may come back to life only while no other one is live", async () => {
      const planId = base.subscription_plans!.id as string;
      const ended = subscriptionRow(alice.id, planId, { status: "canceled" });
      await insert("user_subscriptions", ended);
      await expect(db.updateTable("user_subscriptions").set({ status: "active" }).where("id", "=", ended.id).execute()).rejects.toThrow(
        violation("UNIQUE constraint failed: user_subscriptions.userId, user_subscriptions.planId"),
      );
    });

    it("one idempotency key for two users, one provider payment id at two providers, several attempts without one", async () => {
      const key = base.payment_attempts!.idempotencyKey as string;
      const providerPaymentId = base.payment_attempts!.providerPaymentId as string;
      await insert("payment_attempts", attemptRow(bob.id, { idempotencyKey: key }));
      await insert("payment_attempts", attemptRow(bob.id, { provider: "stripe", providerPaymentId }));
      await insert("payment_attempts", attemptRow(alice.id, { providerPaymentId: null }));
      await insert("payment_attempts", attemptRow(alice.id, { providerPaymentId: null }));
      const count = await db.selectFrom("payment_attempts").select(db.fn.countAll<number>().as("n")).where("idempotencyKey", "=", key).executeTakeFirstOrThrow();
      expect(count.n).toBe(2);
    });

    it("one fingerprint at two providers; several defaults when only one is active; several non-default active mandates", async () => {
      const fingerprint = base.direct_debit_tokens!.tokenFingerprint as string;
      await insert("direct_debit_tokens", tokenRow(alice.id, { provider: "stripe", tokenFingerprint: fingerprint }));
      await insert("direct_debit_tokens", tokenRow(alice.id, { isDefault: 1, status: "revoked", revokedAt: SEED_NOW }));
      await insert("direct_debit_tokens", tokenRow(alice.id, { isDefault: 1, status: "pending" }));
      await insert("direct_debit_tokens", tokenRow(alice.id, { isDefault: 0 }));
      await insert("direct_debit_tokens", tokenRow(bob.id, { isDefault: 1 }));
      const defaults = await db
        .selectFrom("direct_debit_tokens")
        .select("id")
        .where("userId", "=", alice.id)
        .where("isDefault", "=", 1)
        .where("status", "=", "active")
        .execute();
      expect(defaults).toEqual([{ id: base.direct_debit_tokens!.id }]);
    });

    it("a free plan (amount 0), the edges of every range, and every ISO instant Date#toISOString writes", async () => {
      const edges: [BillingTable, Row][] = [
        ["subscription_plans", planRow({ amountMinor: 0, intervalCount: 365, trialDays: 365, active: 0, description: "é".repeat(2000) })],
        ["subscription_plans", planRow({ amountMinor: Number.MAX_SAFE_INTEGER, code: "a", currency: "JPY" })],
        ["payment_attempts", attemptRow(alice.id, { amountMinor: 1, attemptNumber: 100, idempotencyKey: "~".repeat(255) })],
        ["direct_debit_tokens", tokenRow(alice.id, { accountLast4: "0000" })],
        ["direct_debit_tokens", tokenRow(alice.id, { mandateReference: null, bankName: null, accountLast4: null })],
      ];
      for (const iso of ["2028-02-29T23:59:59.999Z", "2026-01-01T00:00:00.000Z", new Date().toISOString()]) {
        edges.push(["payment_attempts", attemptRow(alice.id, { nextRetryAt: iso, createdAt: iso, updatedAt: iso })]);
      }
      for (const [table, row] of edges) {
        expect(schemas[table].insert.safeParse(row).error).toBeUndefined();
        await insert(table, row);
      }
    });

    it("every value of every enum list in src/billing/billing-enums.ts", async () => {
      for (const interval of BILLING_INTERVALS) await insert("subscription_plans", planRow({ interval }));
      for (const status of SUBSCRIPTION_STATUSES) {
        const plan = planRow();
        await insert("subscription_plans", plan);
        await insert("user_subscriptions", subscriptionRow(alice.id, plan.id, { status }));
      }
      for (const status of PAYMENT_ATTEMPT_STATUSES) await insert("payment_attempts", attemptRow(alice.id, { status }));
      for (const status of DIRECT_DEBIT_TOKEN_STATUSES) {
        await insert("direct_debit_tokens", tokenRow(bob.id, { status, revokedAt: status === "revoked" ? SEED_NOW : null }));
      }
    });
  });
});
