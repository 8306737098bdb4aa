import { sql, type Kysely } from "kysely";
import type { DB } from "../db/generated";
import { precompile } from "../db/precompiled-query";
import type { NewPaymentAttempt, PaymentAttemptRow, SubscriptionPlanRow, UserSubscriptionRow } from "../db/billing-rows";
import { OPEN_ATTEMPT_STATUSES } from "../db/billing-enums";
import { BILLING_LIMITS } from "../db/billing-limits";
import { newestFirst, type KeysetPage } from "./keyset-cursor";
import type { CollectionFacts } from "./lifecycle/competing-collections";
import { wroteRows } from "../db/wrote-rows";
import { mayStillCollect } from "./subscription-lifecycle.repository";


/**
 * The oldest period of the subscription whose collection was reversed and
 * that no attempt has collected again, or null: it is owed before any later
 * period (docs/billing-lifecycle.md ⁷). After a reversal of the latest paid
 * period that is the period after the current one (the one owed anyway);
 * after a reversal of an older one, that older period. A subquery on the row
 * of `user_subscriptions as subscription`, for the engine's sweep and a
 * payment started through the API alike.
 *
 * @example
 * ```ts
 * db.selectFrom("user_subscriptions as subscription").select(oldestReversedPeriod.as("owed")).where("subscription.id", "=", id)
 * ```
 */
// ISO-8601 text sorts in time order, as everywhere periods are compared; a scalar subquery is its first row.
// It reads the subscription's reversed attempts (a partial index), never its whole history.
export const oldestReversedPeriod = sql<string | null>`(select periodStart from payment_attempts r where subscriptionId = subscription.id and reversal = 'reversed' and not exists (select 1 from payment_attempts where subscriptionId = r.subscriptionId and periodStart = r.periodStart and status = 'succeeded') order by 1)`;

/**
 * How many of the period's other attempts failed (refused, cancelled by the
 * provider, given up, or their money taken back): a failure of `attempt` is
 * the next one of its period's retry schedule (docs/billing-lifecycle.md ⁸).
 * Attempts we set aside (`canceled`) are no failures, so however many numbers
 * they took, they never move the schedule. A subquery on the row of
 * `payment_attempts as attempt`; it reads the period's rows of the
 * (subscriptionId, periodStart, attemptNumber) index.
 *
 * @example
 * ```ts
 * db.selectFrom("payment_attempts as attempt").select(periodFailures.as("failures"))
 * ```
 */
export const periodFailures = sql<number>`(select count(*) from payment_attempts f where (f.subscriptionId, f.periodStart, f.status) = (attempt.subscriptionId, attempt.periodStart, 'failed') and f.id <> attempt.id)`;

/**
 * The user's attempt made with this idempotency key, if any.
 *
 * @example
 * ```ts
 * const earlier = await findAttemptByIdempotencyKey(db, user.id, key)
 * ```
 */
export async function findAttemptByIdempotencyKey(db: Kysely<DB>, userId: string, key: string): Promise<PaymentAttemptRow | undefined> {
  return (await findAttemptByKeyQuery(db, userId, key))[0];
}

// Read before every payment start (the idempotent replay): compiled once per isolate.
const findAttemptByKeyQuery = precompile((db: Kysely<DB>, userId: string, key: string) =>
  db.selectFrom("payment_attempts").selectAll().where("userId", "=", userId).where("idempotencyKey", "=", key),
);

/**
 * Inserts a new attempt in one statement that does nothing when
 * - the user already used the idempotency key (`on conflict do nothing`), or
 * - the subscription already has an open (pending/processing) attempt, so two
 *   different keys cannot start two collections of the same amount, or one of
 *   the period GoCardless may still collect ({@link mayStillCollect}), or
 * - the subscription is no longer as `asRead` (status, period end,
 *   cancelAtPeriodEnd): the caller decided the payment was due from that
 *   state, and a payment that settled meanwhile has moved the period on.
 *
 * Race-safe by construction: SQLite runs the statement atomically, and the
 * unique indexes on (subscriptionId, periodStart, attemptNumber) and on the
 * open attempt of a subscription refuse what two concurrent inserts would
 * both pass. Returns whether a row was inserted; the caller reads the row
 * back by key to learn which case happened.
 *
 * @example
 * ```ts
 * await insertAttemptIfIdle(db, row, subscription)
 * const stored = await findAttemptByIdempotencyKey(db, row.userId, row.idempotencyKey)
 * ```
 */
export async function insertAttemptIfIdle(
  db: Kysely<DB>,
  row: NewPaymentAttempt & { subscriptionId: string; periodStart: string },
  asRead: Pick<UserSubscriptionRow, "status" | "currentPeriodEnd" | "cancelAtPeriodEnd">,
): Promise<boolean> {
  const columns = Object.keys(row) as (keyof typeof row & string)[];
  const [result] = await db
    .insertInto("payment_attempts")
    .columns(columns)
    .expression(
      db
        .selectNoFrom((eb) => columns.map((column) => eb.val(row[column]).as(column)))
        .where(({ and, not, exists, selectFrom }) =>
          and([
            not(
              exists(
                selectFrom("payment_attempts")
                  .select("id")
                  .where("subscriptionId", "=", row.subscriptionId)
                  .where("status", "in", OPEN_ATTEMPT_STATUSES),
              ),
            ),
            // Its own (subscriptionId, periodStart) index: the open check's partial index cannot serve an `or`.
            not(exists(selectFrom("payment_attempts").select("id").where("subscriptionId", "=", row.subscriptionId).where("periodStart", "=", row.periodStart).where(mayStillCollect))),
            exists(
              selectFrom("user_subscriptions")
                .select("id")
                .where("id", "=", row.subscriptionId)
                .where("status", "=", asRead.status)
                .where("currentPeriodEnd", "=", asRead.currentPeriodEnd)
                .where("cancelAtPeriodEnd", "=", asRead.cancelAtPeriodEnd),
            ),
          ]),
        ),
    )
    .onConflict((conflict) => conflict.doNothing())
    .execute();
  return wroteRows(result);
}

/**
 * The number the next attempt for a subscription's period gets: 1 + the
 * failures since its last success (so the retry schedule restarts after every
 * success), and always above every attempt of the period, canceled ones too:
 * the provider may still collect one we set aside, and taking its number would
 * make recording that money collide with the period's unique index.
 *
 * Counts at most `BILLING_LIMITS.maxAttemptNumber` failures (more cannot
 * change a number capped there), so with the (subscriptionId, status,
 * createdAt) index its cost does not grow with the subscription's history;
 * the period's highest number is one row of the (subscriptionId, periodStart,
 * attemptNumber) index.
 *
 * @example
 * ```ts
 * const attemptNumber = await nextAttemptNumber(db, subscription.id, attemptPeriodStart(subscription))
 * ```
 */
export async function nextAttemptNumber(db: Kysely<DB>, subscriptionId: string, periodStart: string): Promise<number> {
  const failuresSinceLastSuccess = db
    .selectFrom("payment_attempts")
    .select("createdAt")
    .where("subscriptionId", "=", subscriptionId)
    .where("status", "=", "failed")
    .where((eb) =>
      eb(
        "createdAt",
        ">",
        eb.fn.coalesce(
          eb
            .selectFrom("payment_attempts")
            .select((inner) => inner.fn.max("createdAt").as("lastSuccess"))
            .where("subscriptionId", "=", subscriptionId)
            .where("status", "=", "succeeded"),
          eb.val(""),
        ),
      ),
    )
    .limit(BILLING_LIMITS.maxAttemptNumber);
  const row = await db
    .selectFrom(failuresSinceLastSuccess.as("failure"))
    .select((eb) => [
      eb.fn.countAll<number>().as("failures"),
      eb
        .selectFrom("payment_attempts")
        .select((inner) => inner.fn.max("attemptNumber").as("last"))
        .where("subscriptionId", "=", subscriptionId)
        .where("periodStart", "=", periodStart)
        .as("lastInPeriod"),
    ])
    .executeTakeFirstOrThrow();
  // Number(null) is 0: a period without attempts.
  return Math.max(Number(row.failures), Number(row.lastInPeriod)) + 1;
}

/**
 * One page of the user's attempts, newest first, after `after` (keyset
 * pagination on (createdAt, id): stable while new rows arrive).
 *
 * @example
 * ```ts
 * const rows = await listAttempts(db, user.id, { after: decodeCursor(cursor), limit: 21 })
 * ```
 */
export function listAttempts(db: Kysely<DB>, userId: string, page: KeysetPage): Promise<PaymentAttemptRow[]> {
  return newestFirst(db.selectFrom("payment_attempts").selectAll().where("userId", "=", userId), page).execute();
}

/** One of the user's attempts; another user's id finds nothing. */
export function findAttempt(db: Kysely<DB>, userId: string, id: string): Promise<PaymentAttemptRow | undefined> {
  return db.selectFrom("payment_attempts").selectAll().where("userId", "=", userId).where("id", "=", id).executeTakeFirst();
}

/** What a payment webhook needs to know about the attempt it reports on. */
export interface AttemptForEvent {
  id: string;
  status: PaymentAttemptRow["status"];
  refundDue: number;
  /** The provider reported the money taken back, or that reversal cancelled (moneyEvent). */
  reversal: PaymentAttemptRow["reversal"];
  /** When the provider says the newest money event it reported about the payment happened (moneyEvent). */
  moneyEventAt: string | null;
  /** The provider's payment id, once the attempt knows it. */
  providerPaymentId: string | null;
  /** Where the period the attempt pays for starts. */
  periodStart: string | null;
  /** Another attempt of the subscription that collected this attempt's period, or null. */
  paidBy: string | null;
  /** The subscription's other open attempt (at most one): for this attempt's period, another one, or none. */
  otherOpen: CollectionFacts["otherOpen"];
  /**
   * 1 when a collection of the period this attempt's money pays was taken back and none stands (the period was served, and is owed
   * again), else 0. That period is the attempt's own, or the earlier one owed again when a reversal put the subscription back under it.
   */
  served: number;
  /** 1 when another period before the subscription's current one (or the one this attempt's money pays, if later) is owed again (reversed, not collected since), else 0. */
  owesOther: number;
  /** The period's other failed attempts ({@link periodFailures}). */
  failures: number;
  /** The attempt's subscription (the fields the lifecycle reads) with its plan, if it has one. */
  subscription: SubscriptionForEvent | null;
}

/** A subscription as the lifecycle module reads it, with its plan. */
export type SubscriptionForEvent = Pick<
  UserSubscriptionRow,
  "id" | "status" | "currentPeriodStart" | "currentPeriodEnd" | "billingCycleAnchor" | "trialEndsAt" | "cancelAtPeriodEnd" | "canceledAt" | "endedAt" | "createdAt"
> & { plan: Pick<SubscriptionPlanRow, "amountMinor" | "interval" | "intervalCount" | "trialDays"> };

// The period an attempt's money pays (see served, owesOther).
const pays = sql`min(attempt.periodStart, subscription.currentPeriodEnd)`;

// One query: the attempt, its subscription and its plan (a webhook delivery
// reads all of its attempts in one round trip; see findAttemptsForEvents).
function attemptsForEvents(db: Kysely<DB>, provider: string) {
  return db
    .selectFrom("payment_attempts as attempt")
    .leftJoin("user_subscriptions as subscription", "subscription.id", "attempt.subscriptionId")
    .leftJoin("subscription_plans as plan", "plan.id", "subscription.planId")
    .select([
      "attempt.id",
      "attempt.status",
      "attempt.refundDue",
      "attempt.reversal",
      "attempt.moneyEventAt",
      "attempt.providerPaymentId",
      "attempt.periodStart",
      "attempt.subscriptionId",
      "subscription.status as subscriptionStatus",
      "subscription.currentPeriodStart",
      "subscription.currentPeriodEnd",
      "subscription.billingCycleAnchor",
      "subscription.trialEndsAt",
      "subscription.cancelAtPeriodEnd",
      "subscription.canceledAt",
      "subscription.endedAt",
      "subscription.createdAt as subscriptionCreatedAt",
      "plan.amountMinor",
      "plan.interval",
      "plan.intervalCount",
      "plan.trialDays",
    ])
    // The subscription's other attempts, in the same round trip (each served by a partial unique index on subscriptionId).
    .select((eb) => [
      eb
        .selectFrom("payment_attempts as paid")
        .select("paid.id")
        .whereRef("paid.subscriptionId", "=", "attempt.subscriptionId")
        .whereRef("paid.periodStart", "=", "attempt.periodStart")
        .whereRef("paid.id", "<>", "attempt.id")
        // Literals, so SQLite matches the partial unique index's `status <> 'canceled'`.
        .where("paid.status", "=", sql.lit("succeeded"))
        .where("paid.status", "<>", sql.lit("canceled"))
        // Any one: two are there only after a second collection, three never unless
        // the provider collected a period three times.
        .limit(1)
        .as("paidBy"),
      eb
        .selectFrom("payment_attempts as open")
        .select(sql<NonNullable<CollectionFacts["otherOpen"]>>`case when "open"."periodStart" = "attempt"."periodStart" then 'same_period' else 'other_period' end`.as("o"))
        .whereRef("open.subscriptionId", "=", "attempt.subscriptionId")
        .whereRef("open.id", "<>", "attempt.id")
        .where(sql<boolean>`"open"."status" in (${sql.join(OPEN_ATTEMPT_STATUSES.map((status) => sql.lit(status)))})`)
        .limit(1)
        .as("otherOpen"),
      // Of the period its money pays: its own, or the owed one a reversal put the subscription back to
      // under it (a renewal in flight when the period before was charged back: decide pays the period after the last paid).
      // Served: a collection of that period was taken back (subscriptionId_periodStart_attemptNumber_idx).
      // Not when another collection of it stands (paid again: money for it now is a second collection).
      sql<number>`exists (select 1 from payment_attempts t where (t.subscriptionId, t.periodStart, t.reversal) = (attempt.subscriptionId, ${pays}, 'reversed')) and not exists (select 1 from payment_attempts where (subscriptionId, periodStart, status) = (attempt.subscriptionId, ${pays}, 'succeeded'))`.as("served"),
      sql<number>`exists (select 1 from payment_attempts r where r.subscriptionId = attempt.subscriptionId and r.reversal = 'reversed' and r.periodStart < max(subscription.currentPeriodStart, coalesce(${pays}, '')) and r.periodStart <> ${pays} and not exists (select 1 from payment_attempts where subscriptionId = r.subscriptionId and periodStart = r.periodStart and status = 'succeeded'))`.as("owesOther"),
      periodFailures.as("failures"),
    ])
    .where("attempt.provider", "=", provider);
}

type AttemptEventRow = Awaited<ReturnType<ReturnType<typeof attemptsForEvents>["execute"]>>[number];

function toAttemptForEvent(row: AttemptEventRow): AttemptForEvent {
  // The subscription's and plan's columns; the rest is the attempt.
  const { subscriptionId: id, subscriptionStatus: status, currentPeriodStart, currentPeriodEnd, billingCycleAnchor, trialEndsAt, cancelAtPeriodEnd, canceledAt, endedAt, subscriptionCreatedAt, amountMinor, interval, intervalCount, trialDays, ...attempt } = row;
  // The foreign keys guarantee the subscription and its plan exist when subscriptionId is set.
  if (id === null || status === null) return { ...attempt, subscription: null };
  return {
    ...attempt,
    subscription: {
      id,
      status,
      currentPeriodStart: currentPeriodStart!,
      currentPeriodEnd: currentPeriodEnd!,
      billingCycleAnchor,
      trialEndsAt,
      cancelAtPeriodEnd: cancelAtPeriodEnd!,
      canceledAt,
      endedAt,
      createdAt: subscriptionCreatedAt!,
      plan: { amountMinor: amountMinor!, interval: interval!, intervalCount: intervalCount!, trialDays: trialDays! },
    },
  };
}

/**
 * The attempts providers' payment events are about, with their subscription
 * and plan, in one query: every attempt known by one of the payment ids, or
 * (not yet knowing its payment id) by one of our attempt ids, which the
 * provider echoes in the payment's metadata. The ids travel as JSON array parameters (`json_each`),
 * so any number stays under D1's 100 bound parameters; both lookups use a
 * unique index.
 *
 * @example
 * ```ts
 * const attempts = await findAttemptsForEvents(db, "gocardless", events)
 * ```
 */
export function findAttemptsForEvents(
  db: Kysely<DB>,
  provider: string,
  refs: readonly { providerPaymentId: string; paymentAttemptId: string | undefined }[],
): Promise<AttemptForEvent[]> {
  if (refs.length === 0) return Promise.resolve([]);
  const paymentIds = JSON.stringify(refs.map((ref) => ref.providerPaymentId));
  const attemptIds = JSON.stringify(refs.flatMap((ref) => (ref.paymentAttemptId === undefined ? [] : [ref.paymentAttemptId])));
  return attemptsForEvents(db, provider)
    .where((eb) =>
      eb.or([
        sql<boolean>`"attempt"."providerPaymentId" in (select value from json_each(${paymentIds}))`,
        eb.and([sql<boolean>`"attempt"."id" in (select value from json_each(${attemptIds}))`, eb("attempt.providerPaymentId", "is", null)]),
      ]),
    )
    .execute()
    .then((rows) => rows.map(toAttemptForEvent));
}
