import { createDb } from "../../src/db/create-db";
import type {
  NewDirectDebitToken,
  NewPaymentAttempt,
  NewSubscriptionPlan,
  NewUserSubscription,
} from "../../src/db/billing-rows";

/**
 * Valid billing rows for tests, and a seed that writes a realistic set of
 * them. Each factory returns a complete row that passes both the database's
 * CHECKs and the zod insert schemas; pass overrides to vary one column.
 * Ids, codes, keys and fingerprints are unique per call, so rows from
 * several calls never collide on a unique index.
 *
 * @example
 * ```ts
 * const plan = planRow({ currency: "USD" })
 * await db.insertInto("subscription_plans").values(plan).execute()
 * ```
 */

// Columns added by later migrations (20261201110000_billing_cycle_anchor,
// 20261202100000_payment_attempt_periods, 20261203100000_payment_attempt_reversals,
// 20261203110000_payment_attempt_provider_cancel, 20261204100000_payment_attempt_money_event_at,
// 20261205100000_payment_attempt_first_tried_at, 20261207100000_direct_debit_token_mandate_event_at) are left out, so the same rows also
// seed a database at the first billing migration (the round-trip tests); SQLite fills
// them (NULL, default 0).
type LaterColumns = "billingCycleAnchor" | "refundDue" | "periodStart" | "reversal" | "providerCancel" | "moneyEventAt" | "firstTriedAt" | "mandateEventAt";
type Complete<Row> = { [K in Exclude<keyof Row, LaterColumns>]-?: Exclude<Row[K], undefined> };

let sequence = 0;
function next(): number {
  return ++sequence;
}

/** A fixed instant, so seeded rows do not depend on the clock. */
export const SEED_NOW = "2026-11-24T08:21:38.594Z";
const PERIOD_END = "2026-12-24T08:21:38.594Z";

/** A lower-case hex SHA-256-shaped digest, distinct per call. */
export function fakeSha256Hex(): string {
  return next().toString(16).padStart(64, "0");
}

export function planRow(overrides: Partial<NewSubscriptionPlan> = {}): Complete<NewSubscriptionPlan> {
  const n = next();
  return {
    id: `plan_${n}`,
    code: `plan-${n}`,
    name: `Plan ${n}`,
    description: null,
    amountMinor: 1990,
    currency: "EUR",
    interval: "month",
    intervalCount: 1,
    trialDays: 0,
    active: 1,
    createdBy: null,
    createdAt: SEED_NOW,
    updatedAt: SEED_NOW,
    ...overrides,
  };
}

export function subscriptionRow(
  userId: string,
  planId: string,
  overrides: Partial<NewUserSubscription> = {},
): Complete<NewUserSubscription> {
  const n = next();
  return {
    id: `sub_${n}`,
    userId,
    planId,
    status: "active",
    currentPeriodStart: SEED_NOW,
    currentPeriodEnd: PERIOD_END,
    trialEndsAt: null,
    cancelAtPeriodEnd: 0,
    canceledAt: null,
    endedAt: null,
    provider: "stripe",
    providerSubscriptionId: `prov_sub_${n}`,
    createdAt: SEED_NOW,
    updatedAt: SEED_NOW,
    ...overrides,
  };
}

export function tokenRow(userId: string, overrides: Partial<NewDirectDebitToken> = {}): Complete<NewDirectDebitToken> {
  const n = next();
  return {
    id: `ddt_${n}`,
    userId,
    provider: "gocardless",
    // Opaque stand-in for the application's ciphertext (never a real token).
    tokenCiphertext: `v1.${n}.ciphertext`,
    tokenKeyId: "key-2026-11",
    tokenFingerprint: fakeSha256Hex(),
    mandateReference: `MD${n}`,
    accountLast4: "4242",
    bankName: "Test Bank",
    status: "active",
    isDefault: 0,
    createdAt: SEED_NOW,
    updatedAt: SEED_NOW,
    revokedAt: null,
    ...overrides,
  };
}

export function attemptRow(userId: string, overrides: Partial<NewPaymentAttempt> = {}): Complete<NewPaymentAttempt> {
  const n = next();
  return {
    id: `pay_${n}`,
    userId,
    subscriptionId: null,
    directDebitTokenId: null,
    amountMinor: 1990,
    currency: "EUR",
    status: "pending",
    attemptNumber: 1,
    idempotencyKey: `idem-${n}`,
    requestFingerprint: fakeSha256Hex(),
    provider: "gocardless",
    providerPaymentId: `prov_pay_${n}`,
    failureCode: null,
    failureMessage: null,
    nextRetryAt: null,
    createdAt: SEED_NOW,
    updatedAt: SEED_NOW,
    ...overrides,
  };
}

export interface SeededBilling {
  plans: Complete<NewSubscriptionPlan>[];
  subscriptions: Complete<NewUserSubscription>[];
  tokens: Complete<NewDirectDebitToken>[];
  attempts: Complete<NewPaymentAttempt>[];
}

/**
 * Writes two plans (the first created by the first user) and, per user: a
 * live subscription to the first plan, an ended one to the second, an active
 * default mandate, a revoked one, a succeeded attempt on the subscription with
 * the mandate and a failed one-off attempt awaiting retry, all in one D1 batch.
 *
 * @example
 * ```ts
 * const seeded = await seedBilling(env.DB, [alice.id, bob.id])
 * ```
 */
export async function seedBilling(database: D1Database, userIds: readonly string[]): Promise<SeededBilling> {
  const plans = [
    planRow({ createdBy: userIds[0] ?? null, description: "Everything, monthly" }),
    planRow({ interval: "year", amountMinor: 19900, trialDays: 14 }),
  ];
  const [monthly, yearly] = plans as [Complete<NewSubscriptionPlan>, Complete<NewSubscriptionPlan>];
  const seeded: SeededBilling = { plans, subscriptions: [], tokens: [], attempts: [] };
  for (const userId of userIds) {
    const live = subscriptionRow(userId, monthly.id);
    const ended = subscriptionRow(userId, yearly.id, { status: "canceled", canceledAt: SEED_NOW, endedAt: SEED_NOW });
    const mandate = tokenRow(userId, { isDefault: 1 });
    const revoked = tokenRow(userId, { status: "revoked", revokedAt: SEED_NOW });
    seeded.subscriptions.push(live, ended);
    seeded.tokens.push(mandate, revoked);
    seeded.attempts.push(
      attemptRow(userId, { subscriptionId: live.id, directDebitTokenId: mandate.id, status: "succeeded" }),
      attemptRow(userId, {
        directDebitTokenId: revoked.id,
        amountMinor: 500,
        status: "failed",
        failureCode: "insufficient_funds",
        failureMessage: "The account has insufficient funds.",
        nextRetryAt: PERIOD_END,
        providerPaymentId: null,
      }),
    );
  }
  // One statement per row (D1 binds at most 100 parameters per statement), one atomic batch.
  const db = createDb(database);
  const statements = [
    ...seeded.plans.map((row) => db.insertInto("subscription_plans").values(row).compile()),
    ...seeded.subscriptions.map((row) => db.insertInto("user_subscriptions").values(row).compile()),
    ...seeded.tokens.map((row) => db.insertInto("direct_debit_tokens").values(row).compile()),
    ...seeded.attempts.map((row) => db.insertInto("payment_attempts").values(row).compile()),
  ];
  await database.batch(statements.map(({ sql, parameters }) => database.prepare(sql).bind(...parameters)));
  return seeded;
}
