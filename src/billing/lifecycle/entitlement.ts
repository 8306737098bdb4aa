import { BILLING_POLICY, DAY_MS } from "./billing-policy";
import type { LifecycleState } from "./decide";

/**
 * Until when a subscription (already settled to `now`, see settle) gives
 * access, or null for none: to the end of a running paid or trial period
 * (`active`, `trialing`), plus BILLING_POLICY.pastDueGraceDays after it
 * while `past_due` and a collection of the subscription still stands
 * (`collected`: not after its only payments were reversed, such as the
 * first one's: no period before the first was paid) or the period that ended is the trial
 * (its first payment being collected). Never after a period ended unpaid beyond that grace;
 * never for incomplete, paused, unpaid or ended subscriptions.
 *
 * @example
 * ```ts
 * entitledUntil(settled, new Date()) // Date | null
 * ```
 */
export function entitledUntil(state: LifecycleState, now: Date, collected = true): Date | null {
  const end = new Date(state.currentPeriodEnd);
  let until: Date;
  switch (state.status) {
    case "active":
    case "trialing":
      until = end;
      break;
    case "past_due":
      // The stored period then is only the placeholder before the period owed, unless it is the trial.
      if (!collected && state.currentPeriodEnd !== state.trialEndsAt) return null;
      until = new Date(end.getTime() + BILLING_POLICY.pastDueGraceDays * DAY_MS);
      break;
    default:
      return null;
  }
  return until > now ? until : null;
}
