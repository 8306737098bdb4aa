import { sql, type Kysely } from "kysely";
import type { DB } from "../db/generated";
import { getDb } from "../db/get-db";
import { runBatch } from "./d1-batch";
import type { UserSubscriptionRow } from "../db/billing-rows";
import { resumedRenewal } from "./lifecycle/resumed-renewal";
import type { LifecycleState } from "./lifecycle/decide";
import { mayHaveDueTimeEvent, settle, type PaymentFacts } from "./lifecycle/due-time-event";
import type { LifecycleEvent } from "./lifecycle/lifecycle-event";
import { ENDED_SUBSCRIPTION_STATUSES, OPEN_ATTEMPT_STATUSES } from "../db/billing-enums";
import { findPlanById } from "./plans.repository";
import { findSubscription, type SubscriptionWithPlan } from "./subscriptions.repository";

/** How often a lifecycle write re-reads a subscription that keeps changing under it before giving up. */
const SETTLE_TRIES = 3;

/**
 * The lifecycle's view of a stored subscription. Every row has an anchor
 * (backfilled by its migration, always written since); the fallback only
 * satisfies the column's SQLite-imposed nullability.
 *
 * @example
 * ```ts
 * const state = lifecycleStateOf(row)
 * ```
 */
export function lifecycleStateOf(row: Pick<UserSubscriptionRow, keyof LifecycleState>): LifecycleState {
  return {
    status: row.status,
    currentPeriodStart: row.currentPeriodStart,
    currentPeriodEnd: row.currentPeriodEnd,
    billingCycleAnchor: row.billingCycleAnchor ?? row.currentPeriodStart,
    trialEndsAt: row.trialEndsAt,
    cancelAtPeriodEnd: row.cancelAtPeriodEnd,
    canceledAt: row.canceledAt,
    endedAt: row.endedAt,
    createdAt: row.createdAt,
  };
}

/**
 * SQL on a `payment_attempts` row: one we set aside (`canceled`) that GoCardless may still
 * collect — its cancel not sent yet (`due`) or refused (`cancellation_failed`; a 404 writes
 * `cancel:`: GoCardless holds none). No second payment of its period starts beside it, the
 * engine's nor a user's (insertAttemptIfIdle): both would be collected.
 */
export const mayStillCollect = sql<boolean>`(status = 'canceled' and providerCancel in ('due', 'cancellation_failed') and ifnull(failureMessage, '') not like 'cancel:%')`;

/**
 * SQL, on a payment_attempts row: open, or set aside while GoCardless may still collect it
 * ({@link mayStillCollect}) — in flight for the time rules, so no `unpaid` while it may debit. A
 * `subscription_ended` one is left out: its subscription ends anyway, and a resume reopens it (resumedRenewal).
 */
export const inFlight = sql<number>`(status in (${sql.join(OPEN_ATTEMPT_STATUSES.map((s) => sql.lit(s)))}) or (${mayStillCollect} and failureCode <> 'subscription_ended'))`;

/**
 * What the time rules need to know about a subscription's payments: whether
 * one is in flight (`inFlight`), and whether the latest one failed with no retry left. "Latest"
 * is by the period paid for and the attempt number, never by `createdAt`: an
 * engine run takes its clock from `scheduledTime`, so a late or time-jumped
 * run can create a retry whose `createdAt` is older than the failure it
 * retries. An open attempt always wins.
 *
 * @example
 * ```ts
 * const facts = await findPaymentFacts(db, subscription.id)
 * ```
 */
export async function findPaymentFacts(db: Kysely<DB>, subscriptionId: string): Promise<PaymentFacts> {
  const latest = await db
    .selectFrom("payment_attempts")
    .select(["status", "nextRetryAt", inFlight.as("inFlight")])
    .where("subscriptionId", "=", subscriptionId)
    .orderBy("inFlight", "desc")
    .orderBy("periodStart", "desc")
    .orderBy("attemptNumber", "desc")
    .limit(1)
    .executeTakeFirst();
  return {
    paymentInFlight: !!latest?.inFlight,
    retriesExhausted: latest?.status === "failed" && latest.nextRetryAt === null,
    nextRetryAt: latest?.status === "failed" ? latest.nextRetryAt : null,
  };
}

/**
 * The update that writes a lifecycle decision, guarded by the status,
 * period and flag it was computed from: when another write moved the row
 * meanwhile it changes nothing, and the caller decides again.
 *
 * @example
 * ```ts
 * await guardedLifecycleWrite(db, row.id, lifecycleStateOf(row), next, now).execute()
 * ```
 */
export function guardedLifecycleWrite(db: Kysely<DB>, id: string, asRead: LifecycleState, next: LifecycleState, now: Date) {
  return db
    .updateTable("user_subscriptions")
    .set({
      status: next.status,
      currentPeriodStart: next.currentPeriodStart,
      currentPeriodEnd: next.currentPeriodEnd,
      billingCycleAnchor: next.billingCycleAnchor,
      cancelAtPeriodEnd: next.cancelAtPeriodEnd,
      canceledAt: next.canceledAt,
      endedAt: next.endedAt,
      updatedAt: now.toISOString(),
    })
    .where("id", "=", id)
    .where("status", "=", asRead.status)
    .where("currentPeriodStart", "=", asRead.currentPeriodStart)
    .where("currentPeriodEnd", "=", asRead.currentPeriodEnd)
    .where("cancelAtPeriodEnd", "=", asRead.cancelAtPeriodEnd);
}

/**
 * {@link guardedLifecycleWrite}, and when the decision ends the subscription (any caller: a cancel,
 * or a time event the engine or a read applies) or sets it to end at the period's end, the set-aside
 * of its open payments it no longer collects, for one D1 batch: a payment in flight (sent, or its
 * send in flight) is `canceled` (`subscription_ended`) with `providerCancel` due, so the engine
 * cancels it at GoCardless; one collected anyway is owed back (docs/billing-lifecycle.md). Set to
 * end at the period's end, only the renewal for the next period is (the current one stays paid for).
 *
 * @example
 * ```ts
 * const [result] = await runBatch(d1, lifecycleWrites(db, row.id, asRead, next, now))
 * ```
 */
export function lifecycleWrites(db: Kysely<DB>, id: string, asRead: LifecycleState, next: LifecycleState, now: Date) {
  const write = guardedLifecycleWrite(db, id, asRead, next, now);
  if (!next.cancelAtPeriodEnd && !(ENDED_SUBSCRIPTION_STATUSES as readonly string[]).includes(next.status)) return [write];
  // Guarded by the subscription as stored after the write (in the same batch), not as decided.
  const setAside = db
    .updateTable("payment_attempts")
    .set({ status: "canceled", failureCode: "subscription_ended", providerCancel: cancelAtProvider, updatedAt: now.toISOString() })
    .where("subscriptionId", "=", id)
    .where("status", "in", OPEN_ATTEMPT_STATUSES)
    .where((eb) => eb.exists(eb.selectFrom("user_subscriptions").select("id").where("id", "=", id).where((s) => s.or([s("status", "in", ENDED_SUBSCRIPTION_STATUSES), s.and([s("cancelAtPeriodEnd", "=", 1), s("currentPeriodEnd", "=", s.ref("payment_attempts.periodStart"))])]))));
  return [write, setAside];
}

/**
 * `providerCancel` for an attempt being set aside: `due` when the provider holds its payment, or
 * may hold it (a pending one already claimed for sending: `nextRetryAt` set, its answer perhaps
 * lost), so the engine cancels it there (cancelSetAsidePayments); else null.
 */
export const cancelAtProvider = sql<"due" | null>`case when "providerPaymentId" is not null or "nextRetryAt" is not null then 'due' end`;

/** Whether a decision changes anything stored. */
export function sameLifecycleState(a: LifecycleState, b: LifecycleState): boolean {
  return (Object.keys(a) as (keyof LifecycleState)[]).every((key) => a[key] === b[key]);
}

/**
 * Reads one of the user's subscriptions, applies the time events that are
 * due at `now` and then `event` (if any) through the lifecycle module, and
 * writes the result once, guarded by what was read (re-reading when another
 * write won). Returns the subscription as stored afterwards, or undefined
 * when the user has no such subscription. Throws the lifecycle's
 * INVALID_TRANSITION for an event the subscription cannot take.
 *
 * @example
 * ```ts
 * const subscription = await settleSubscription(env.DB, user.id, id, { type: "cancel_now" }, new Date())
 * ```
 */
export async function settleSubscription(
  d1: D1Database,
  userId: string,
  id: string,
  event: LifecycleEvent | null,
  now: Date,
): Promise<SubscriptionWithPlan | undefined> {
  const db = getDb(d1);
  for (let tries = 0; tries < SETTLE_TRIES; tries++) {
    const row = await findSubscription(db, userId, id);
    if (!row) return undefined;
    const asRead = lifecycleStateOf(row);
    // A plain read of a subscription with nothing possibly due: no plan or payment facts needed.
    if (!event && !mayHaveDueTimeEvent(asRead, now)) return row;
    // The foreign key guarantees the plan.
    const plan = (await findPlanById(db, row.planId))!;
    const facts = await findPaymentFacts(db, row.id);
    // Resumed: the next period's attempt it changes, if any (resumedRenewal).
    const renewal = event?.type === "resume" ? resumedRenewal(await db.selectFrom("payment_attempts").selectAll().where("subscriptionId", "=", row.id).where("periodStart", "=", row.currentPeriodEnd).execute(), facts.paymentInFlight, row.canceledAt!) : undefined;
    const paid = renewal?.status === "succeeded";
    const { state } = settle(asRead, plan, facts, renewal ? { type: "resume", nextPaid: paid } : event, now);
    if (sameLifecycleState(asRead, state)) return row;
    // The renewal moves first, guarded as read, and the subscription only with it (changes(): the previous statement's):
    // its money pays the period (no longer owed back), or it is open again; not to be cancelled at GoCardless either way.
    const writes = renewal
      ? [
          db
            .updateTable("payment_attempts")
            .set({ status: paid ? "succeeded" : renewal.providerPaymentId ? "processing" : "pending", refundDue: 0, failureCode: null, providerCancel: null, updatedAt: now.toISOString() })
            .where("id", "=", renewal.id)
            .where("updatedAt", "=", renewal.updatedAt),
          guardedLifecycleWrite(db, row.id, asRead, state, now).where(sql<boolean>`changes()`),
        ]
      : lifecycleWrites(db, row.id, asRead, state, now);
    const results = await runBatch(d1, writes);
    if (results[renewal ? 1 : 0]!.meta.changes) return findSubscription(db, userId, id);
  }
  throw new Error(`subscription ${id} kept changing while its lifecycle was being applied`);
}
