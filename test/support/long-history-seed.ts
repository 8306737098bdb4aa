/**
 * A database with a long history, written in a handful of statements
 * (`insert … select` from a recursive CTE, so no statement binds parameters):
 * - `crowd`: a plan with 10,000 subscribers, all ended but the last one;
 * - `alice`: three subscriptions (one to `pro`, which has 2,000 payment
 *   attempts: succeeded, failed and canceled, ending in 10 failures since the
 *   last success), three mandates (one the active default), and a processed
 *   webhook event;
 * - 20 plans, every other one active.
 *
 * @example
 * ```ts
 * await seedLongHistory(env.DB)
 * const mine = await listSubscriptions(db, LONG_HISTORY.aliceId)
 * ```
 */
export const LONG_HISTORY = {
  aliceId: "alice",
  proSubscriptionId: "sub-pro",
  crowdPlanId: "plan-crowd",
  endedPlanId: "plan-ended",
  attempts: 2_000,
  /** Failures after the last success: the next attempt is number 11. */
  failuresSinceSuccess: 10,
  subscribers: 10_000,
} as const;

const AT = "2026-01-01T00:00:00.000Z";
/** ISO-8601 text `seconds` after {@link AT}, in SQL. */
const after = (seconds: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', '${AT}', '+' || (${seconds}) || ' seconds')`;

export async function seedLongHistory(database: D1Database): Promise<void> {
  const { aliceId, proSubscriptionId, crowdPlanId, endedPlanId, attempts, failuresSinceSuccess, subscribers } = LONG_HISTORY;
  const lastSuccess = attempts - failuresSinceSuccess;
  const count = (n: number) => `with recursive n(i) as (select 1 union all select i + 1 from n where i < ${n})`;
  await database.batch(
    [
      `insert into "user" (id, name, email, emailVerified, createdAt, updatedAt) values ('${aliceId}', 'Alice', 'alice@example.com', 1, '${AT}', '${AT}')`,
      `${count(subscribers)} insert into "user" (id, name, email, emailVerified, createdAt, updatedAt)
        select 'crowd-' || i, 'Crowd', 'crowd-' || i || '@example.com', 0, '${AT}', '${AT}' from n`,
      `${count(20)} insert into subscription_plans (id, code, name, amountMinor, currency, interval, intervalCount, trialDays, active, createdAt, updatedAt)
        select 'plan-' || i, 'plan-' || i, 'Plan ' || i, 100 * (i % 7), 'EUR', 'month', 1, 0, i % 2, '${AT}', '${AT}' from n`,
      `insert into subscription_plans (id, code, name, amountMinor, currency, interval, intervalCount, trialDays, active, createdAt, updatedAt) values
        ('${crowdPlanId}', 'crowd', 'Crowd', 900, 'EUR', 'month', 1, 0, 1, '${AT}', '${AT}'),
        ('${endedPlanId}', 'ended', 'Ended', 900, 'EUR', 'month', 1, 0, 1, '${AT}', '${AT}'),
        ('plan-pro', 'pro', 'Pro', 1500, 'EUR', 'month', 1, 0, 1, '${AT}', '${AT}')`,
      // The crowd: every subscription ended but the last one; one ended subscriber on `ended`.
      `${count(subscribers)} insert into user_subscriptions (id, userId, planId, status, currentPeriodStart, currentPeriodEnd, cancelAtPeriodEnd, canceledAt, endedAt, createdAt, updatedAt)
        select 'crowd-sub-' || i, 'crowd-' || i, '${crowdPlanId}',
          case when i = ${subscribers} then 'active' else 'canceled' end,
          '${AT}', ${after("86400")}, 0,
          case when i = ${subscribers} then null else '${AT}' end, case when i = ${subscribers} then null else '${AT}' end,
          ${after("i")}, ${after("i")} from n`,
      `insert into user_subscriptions (id, userId, planId, status, currentPeriodStart, currentPeriodEnd, cancelAtPeriodEnd, canceledAt, endedAt, createdAt, updatedAt) values
        ('${proSubscriptionId}', '${aliceId}', 'plan-pro', 'past_due', '${AT}', ${after("86400")}, 0, null, null, ${after("1")}, ${after("1")}),
        ('sub-alice-crowd', '${aliceId}', '${crowdPlanId}', 'canceled', '${AT}', ${after("86400")}, 0, '${AT}', '${AT}', ${after("2")}, ${after("2")}),
        ('sub-alice-ended', '${aliceId}', '${endedPlanId}', 'canceled', '${AT}', ${after("86400")}, 0, '${AT}', '${AT}', ${after("3")}, ${after("3")})`,
      `${count(3)} insert into direct_debit_tokens (id, userId, provider, tokenCiphertext, tokenKeyId, tokenFingerprint, status, isDefault, createdAt, updatedAt)
        select 'token-' || i, '${aliceId}', 'gocardless', 'sealed-' || i, 'k1', printf('%064x', i), 'active', i = 1, ${after("i")}, ${after("i")} from n`,
      // The history: every third attempt succeeded, the others failed or were canceled, then the last failures.
      `${count(attempts)} insert into payment_attempts (id, userId, subscriptionId, amountMinor, currency, status, attemptNumber, idempotencyKey, requestFingerprint, provider, providerPaymentId, createdAt, updatedAt)
        select 'attempt-' || i, '${aliceId}', '${proSubscriptionId}', 1500, 'EUR',
          case when i > ${lastSuccess} then 'failed' when i = ${lastSuccess} or i % 3 = 0 then 'succeeded' when i % 3 = 1 then 'failed' else 'canceled' end,
          1 + i % 100, 'key-' || i, printf('%064x', i), 'gocardless', 'PM' || i, ${after("i")}, ${after("i")} from n`,
      `insert into billing_webhook_events (id, provider, eventId, eventType, outcome, processedAt) values ('event-1', 'gocardless', 'EV1', 'payments.confirmed', 'applied', '${AT}')`,
    ].map((sql) => database.prepare(sql)),
  );
}
