import type { Kysely } from "kysely";
import type { DB } from "../db/generated";
import { ENDED_SUBSCRIPTION_STATUSES, type SubscriptionStatus } from "../db/billing-enums";
import { settle } from "./lifecycle/due-time-event";
import { entitledUntil } from "./lifecycle/entitlement";
import { findPlanById } from "./plans.repository";
import { findPaymentFacts, lifecycleStateOf } from "./subscription-lifecycle.repository";
import { listSubscriptions } from "./subscriptions.repository";

/** One plan the user may use now, and until when. */
export interface Entitlement {
  subscriptionId: string;
  planId: string;
  planCode: string;
  /** The subscription's status at `now` (time events applied). */
  status: SubscriptionStatus;
  /** ISO-8601: the end of the paid or trial period (plus the past-due grace). */
  until: string;
}

/**
 * The plans `userId` may use at `now`: what an app gates features on.
 * Computed from the stored period and `now` with the time events that are
 * due applied in memory, so a period that ended unpaid never counts even
 * before anything has written its new status. Reads only.
 *
 * @example
 * ```ts
 * const entitled = (await findEntitlements(db, user.id, new Date())).some((e) => e.planCode === "pro")
 * ```
 */
export async function findEntitlements(db: Kysely<DB>, userId: string, now: Date): Promise<Entitlement[]> {
  const entitlements: Entitlement[] = [];
  for (const row of await listSubscriptions(db, userId)) {
    if ((ENDED_SUBSCRIPTION_STATUSES as readonly string[]).includes(row.status)) continue;
    // The foreign key guarantees the plan.
    const plan = (await findPlanById(db, row.planId))!;
    const { state } = settle(lifecycleStateOf(row), plan, await findPaymentFacts(db, row.id), null, now);
    // Past due: the grace follows a period paid, so a collection must still stand (one query, by index).
    const collected =
      state.status !== "past_due" ||
      (await db.selectFrom("payment_attempts").select("id").where("subscriptionId", "=", row.id).where("status", "=", "succeeded").where("refundDue", "=", 0).executeTakeFirst()) !== undefined;
    const until = entitledUntil(state, now, collected);
    if (until) entitlements.push({ subscriptionId: row.id, planId: row.planId, planCode: row.planCode, status: state.status, until: until.toISOString() });
  }
  return entitlements;
}
