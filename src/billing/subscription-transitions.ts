import type { SubscriptionStatus } from "../db/billing-enums";

/**
 * Every status change a subscription may make, as a readable summary: the
 * key is the current status, the value the statuses it may move to. The
 * rules themselves live in one place, the lifecycle module
 * (lifecycle/decide.ts); a table test walks every (status, event) pair
 * through it and fails unless the moves it makes are exactly these.
 *
 * - `canceled` and `incomplete_expired` are terminal.
 * - `active → active` is a renewal (a payment succeeded, the period advances);
 *   `past_due → past_due` is a reversed payment reopening an earlier period.
 * - `trialing → past_due` is a trial that ended while its first payment is
 *   being collected; with nothing collected it is `paused`.
 * - `past_due → unpaid` happens when the retry schedule runs out
 *   (or `→ canceled`, by BILLING_POLICY.whenRetriesExhausted).
 */
export const SUBSCRIPTION_TRANSITIONS: Readonly<Record<SubscriptionStatus, readonly SubscriptionStatus[]>> = {
  incomplete: ["active", "incomplete_expired", "canceled"],
  incomplete_expired: [],
  trialing: ["active", "past_due", "paused", "canceled"],
  active: ["active", "past_due", "canceled"],
  past_due: ["active", "past_due", "unpaid", "canceled"],
  unpaid: ["active", "canceled"],
  paused: ["active", "canceled"],
  canceled: [],
};

/**
 * Whether a subscription in `from` may move to `to`.
 *
 * @example
 * ```ts
 * canTransition("past_due", "active") // true
 * canTransition("canceled", "active") // false
 * ```
 */
export function canTransition(from: SubscriptionStatus, to: SubscriptionStatus): boolean {
  return SUBSCRIPTION_TRANSITIONS[from].includes(to);
}
