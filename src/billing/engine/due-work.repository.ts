import { sql, type Kysely } from "kysely";
import type { DB } from "../../db/generated";
import { OPEN_ATTEMPT_STATUSES } from "../../db/billing-enums";
import { BILLING_LIMITS } from "../../db/billing-limits";
import { BILLING_POLICY, DAY_MS, HOUR_MS, PAST_DUE_LIMIT_DAYS } from "../lifecycle/billing-policy";
import { RENEWAL_WINDOW_DAYS } from "../payment-due";
import { oldestReversedPeriod } from "../payment-attempts.repository";
import { inFlight, mayStillCollect } from "../subscription-lifecycle.repository";

// Both sweeps read user_subscriptions through its (status, currentPeriodEnd)
// index, one range per status (the collection sweep also the subscriptions
// with a reversed attempt, by payment_attempts_reversed_subscriptionId_periodStart_idx),
// and return the oldest due work first. They
// only narrow the candidates: what happens to each is the lifecycle module's
// decision (time events) and the due rule's (collections).

const noOpenAttempt = sql<boolean>`not exists (select 1 from "payment_attempts" as "open" where "open"."subscriptionId" = "subscription"."id" and "open"."status" in (${sql.join(OPEN_ATTEMPT_STATUSES.map((s) => sql.lit(s)))}))`;

function subscriptionsWithPlans(db: Kysely<DB>) {
  return db
    .selectFrom("user_subscriptions as subscription")
    .innerJoin("subscription_plans as plan", "plan.id", "subscription.planId")
    .selectAll("subscription")
    .select([
      "plan.amountMinor",
      "plan.currency",
      "plan.interval",
      "plan.intervalCount",
      "plan.trialDays",
    ]);
}

/** A subscription with a time event that may be due, with its plan. */
export type TimeEventCandidate = Awaited<ReturnType<typeof findTimeEventCandidates>>[number];

/**
 * Up to `limit` subscriptions whose trial or paid period ended, whose
 * never-paid deadline passed (nothing in flight), or whose past-due time ran
 * out or whose last failure had no retry left (nothing in flight): oldest
 * deadline first.
 *
 * @example
 * ```ts
 * const due = await findTimeEventCandidates(db, now, 8)
 * ```
 */
export function findTimeEventCandidates(db: Kysely<DB>, now: Date, limit: number) {
  const at = now.toISOString();
  const incompleteBefore = new Date(now.getTime() - BILLING_POLICY.incompleteDeadlineHours * HOUR_MS).toISOString();
  const pastDueBefore = new Date(now.getTime() - PAST_DUE_LIMIT_DAYS * DAY_MS).toISOString();
  const retryDueSince = new Date(now.getTime() - BILLING_POLICY.dueRetryGraceHours * HOUR_MS).toISOString();
  return subscriptionsWithPlans(db)
    .select(
      sql<string>`case when "subscription"."status" = 'incomplete' then "subscription"."createdAt" else "subscription"."currentPeriodEnd" end`.as("dueAt"),
    )
    .where((eb) =>
      eb.or([
        eb.and([eb("subscription.status", "in", ["trialing", "active"]), eb("subscription.currentPeriodEnd", "<=", at)]),
        eb.and([eb("subscription.status", "=", "incomplete"), eb("subscription.createdAt", "<=", incompleteBefore), noOpenAttempt]),
        eb.and([
          eb("subscription.status", "=", "past_due"),
          // Nothing in flight, as findPaymentFacts reads it (a set-aside attempt GoCardless may still collect too).
          sql<boolean>`not exists (select 1 from payment_attempts as a where a.subscriptionId = subscription.id and ${inFlight})`,
          eb.or([
            eb.and([
              eb("subscription.currentPeriodEnd", "<=", pastDueBefore),
              // A retry still to come, or just due, keeps it past due (see dueTimeEvent).
              eb.not(
                eb.exists(
                  eb
                    .selectFrom("payment_attempts as waiting")
                    .select("waiting.id")
                    .whereRef("waiting.subscriptionId", "=", "subscription.id")
                    .whereRef("waiting.periodStart", "=", "subscription.currentPeriodEnd")
                    .where("waiting.status", "=", "failed")
                    .where("waiting.nextRetryAt", ">", retryDueSince),
                ),
              ),
            ]),
            // The latest payment failed with no retry left (the webhook usually applies this itself).
            // The latest, as findPaymentFacts reads it: a failure that a later payment overtook
            // is skipped by the rules, and picked here it would fill the chunk run after run.
            eb(
              eb
                .selectFrom("payment_attempts as latest")
                .select(sql<number>`"latest"."status" = 'failed' and "latest"."nextRetryAt" is null`.as("exhausted"))
                .whereRef("latest.subscriptionId", "=", "subscription.id")
                .orderBy("latest.periodStart", "desc")
                .orderBy("latest.attemptNumber", "desc")
                .limit(1),
              "=",
              1,
            ),
          ]),
        ]),
      ]),
    )
    .orderBy("dueAt")
    .orderBy("subscription.id")
    .limit(limit)
    .execute();
}

/** The statuses the engine collects from. */
const LIVE = ["trialing", "active", "past_due"] as const;

/** A subscription owing a collection the engine starts, with its plan and the user's default mandate. */
export type CollectionCandidate = Awaited<ReturnType<typeof findCollectionCandidates>>[number];

/**
 * Up to `limit` subscriptions that owe a payment the engine should start now,
 * oldest period end first: `trialing`/`active` inside the renewal window (or
 * past it) and `past_due`, not ending at the period's end, on a paid plan,
 * with an active default mandate, nothing in flight, and for the period
 * owed (`periodStart`: an older one whose collection was reversed and not
 * collected again, else the one starting at `currentPeriodEnd`) either no
 * attempt yet (a renewal) or only failed attempts whose `nextRetryAt`
 * passed (a retry: `retry` 1); an attempt we set aside counts only while
 * GoCardless may still collect it. `attemptNumber` is the next number for that period.
 *
 * @example
 * ```ts
 * const owing = await findCollectionCandidates(db, now, 8)
 * ```
 */
export function findCollectionCandidates(db: Kysely<DB>, now: Date, limit: number) {
  const at = now.toISOString();
  const windowEnd = new Date(now.getTime() + RENEWAL_WINDOW_DAYS * DAY_MS).toISOString();
  // The period owed: an older one whose collection was reversed first, else the one after the current period.
  const owed = sql<string>`coalesce(${oldestReversedPeriod}, subscription.currentPeriodEnd)`;
  return subscriptionsWithPlans(db)
    .innerJoin("direct_debit_tokens as token", (join) =>
      join.onRef("token.userId", "=", "subscription.userId").on("token.isDefault", "=", 1).on("token.status", "=", "active"),
    )
    .select(["token.id as tokenId", "token.provider as tokenProvider", owed.as("periodStart")])
    .select((eb) =>
      eb.fn
        .coalesce(
          eb
            .selectFrom("payment_attempts as previous")
            .select((inner) => sql<number>`${inner.fn.max("previous.attemptNumber")} + 1`.as("n"))
            .whereRef("previous.subscriptionId", "=", "subscription.id")
            .where("previous.periodStart", "=", owed),
          eb.val(1),
        )
        .as("attemptNumber"),
    )
    // A retry once the period owed has a failure; else its renewal, however many attempts we set aside.
    .select(sql<number>`exists (select 1 from payment_attempts where (subscriptionId, periodStart, status) = (subscription.id, ${owed}, 'failed'))`.as("retry"))
    // Read by index: a range of (status, currentPeriodEnd) per status, and the few subscriptions
    // with a reversed attempt (which may owe an older period whatever their period end) —
    // never every live subscription. Then exactly: the period owed starts in the window.
    .where((eb) =>
      eb.or([
        eb.and([eb("subscription.status", "in", LIVE), eb("subscription.currentPeriodEnd", "<=", windowEnd)]),
        // Unary +: the status is checked, not searched (the attempt index finds these few).
        eb.and([eb("subscription.id", "in", eb.selectFrom("payment_attempts").select("subscriptionId").where("reversal", "=", "reversed")), eb(sql`+subscription.status`, "in", LIVE)]),
      ]),
    )
    .where(owed, "<=", windowEnd)
    .where("subscription.cancelAtPeriodEnd", "=", 0)
    .where("plan.amountMinor", ">", 0)
    .where(noOpenAttempt)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom("payment_attempts as blocking")
            .select("blocking.id")
            .whereRef("blocking.subscriptionId", "=", "subscription.id")
            .where("blocking.periodStart", "=", owed)
            // Every earlier failure of the period was retried after its nextRetryAt, so
            // only a success or a failure still waiting blocks it. An attempt we set aside
            // (`canceled`) only while GoCardless may still collect it (its cancel not sent
            // or refused; a 404's error is kept, `cancel:`: it holds none): a payment beside
            // it would debit twice. Once its outcome is known it pays nothing, so a period owed
            // again (its collection charged back) is collected, and a failure goes on the schedule.
            .where((inner) => inner.or([inner("blocking.status", "<>", "failed"), inner("blocking.nextRetryAt", "is", null), inner("blocking.nextRetryAt", ">", at)]))
            .where((inner) => inner.or([inner("blocking.status", "<>", "canceled"), mayStillCollect])),
        ),
      ),
    )
    .orderBy("subscription.currentPeriodEnd")
    .orderBy("subscription.id")
    .limit(limit)
    .execute()
    .then((rows) => rows.map((row) => ({ ...row, attemptNumber: Math.min(Number(row.attemptNumber), BILLING_LIMITS.maxAttemptNumber) })));
}
