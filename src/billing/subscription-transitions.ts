import { ApiError } from "../http/api-error";
import type { SubscriptionStatus } from "./billing-enums";

/**
 * Every status change a subscription may make, in one table: the key is the
 * current status, the value the statuses it may move to. Every code path that
 * changes `user_subscriptions.status` asks this table first.
 *
 * - `canceled` and `incomplete_expired` are terminal.
 * - `active → active` is a renewal (a payment succeeded, the period advances);
 *   `past_due → past_due` is another failed retry.
 * - `past_due → unpaid` happens when the retry schedule runs out.
 */
export const SUBSCRIPTION_TRANSITIONS: Readonly<Record<SubscriptionStatus, readonly SubscriptionStatus[]>> = {
  incomplete: ["active", "past_due", "incomplete_expired", "canceled"],
  incomplete_expired: [],
  trialing: ["active", "past_due", "canceled"],
  active: ["active", "past_due", "paused", "canceled"],
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

/**
 * Throws 409 INVALID_TRANSITION (with both states in `details`) unless
 * `from → to` is in {@link SUBSCRIPTION_TRANSITIONS}.
 *
 * @example
 * ```ts
 * assertTransition(subscription.status, "canceled")
 * ```
 */
export function assertTransition(from: SubscriptionStatus, to: SubscriptionStatus): void {
  if (!canTransition(from, to)) {
    throw new ApiError("INVALID_TRANSITION", {
      message: `A subscription that is ${from} cannot become ${to}.`,
      details: { currentStatus: from, requestedStatus: to, allowed: SUBSCRIPTION_TRANSITIONS[from] },
    });
  }
}
