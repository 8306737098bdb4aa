import type { BillingInterval, SubscriptionStatus } from "./billing-enums";
import { addInterval } from "./billing-period";

/**
 * Statuses whose paid period starts at the moment of payment: never paid
 * (`incomplete`: its period was a placeholder) or suspended after the retries
 * ran out (`unpaid`: the service stopped, so the time since is not owed).
 */
const RESTART_STATUSES: readonly SubscriptionStatus[] = ["incomplete", "unpaid"];

/**
 * The period a successful payment pays for. `incomplete` and `unpaid` start
 * a fresh period now; `past_due`, `active` and `trialing` get the period after
 * the current one (the billing anchor stays), unless that one would already be
 * over, in which case it starts now: a success never leaves an active
 * subscription whose paid period has ended.
 *
 * @example
 * ```ts
 * paidPeriod({ status: "active", currentPeriodEnd: "2026-12-24T00:00:00.000Z" }, { interval: "month", intervalCount: 1 }, now)
 * // { start: 2026-12-24T00:00:00.000Z, end: 2027-01-24T00:00:00.000Z } while now < 2027-01-24
 * ```
 */
export function paidPeriod(
  subscription: { status: SubscriptionStatus; currentPeriodEnd: string },
  plan: { interval: BillingInterval; intervalCount: number },
  now: Date,
): { start: Date; end: Date } {
  if (!RESTART_STATUSES.includes(subscription.status)) {
    const start = new Date(subscription.currentPeriodEnd);
    const end = addInterval(start, plan.interval, plan.intervalCount);
    if (end > now) return { start, end };
  }
  return { start: now, end: addInterval(now, plan.interval, plan.intervalCount) };
}
