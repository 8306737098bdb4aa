import { BILLING_POLICY, HOUR_MS, PAST_DUE_LIMIT_DAYS } from "./billing-policy";
import { decide, incompleteDeadline, pastDueLimit, type Decision, type LifecyclePlan, type LifecycleState } from "./decide";
import type { LifecycleEvent } from "./lifecycle-event";

/** What the time rules need to know about a subscription's payments. */
export interface PaymentFacts {
  /** A payment is pending or processing at the provider. */
  paymentInFlight: boolean;
  /** The latest payment failed with no retry left in the schedule. */
  retriesExhausted: boolean;
  /** When the latest failed payment is retried (ISO-8601), if the schedule has a retry left. */
  nextRetryAt: string | null;
}

/**
 * The time event that is due for `state` at `now`, or null: what a
 * scheduler would have applied by now. Until one exists, every read of a
 * subscription that can change it applies these first (see settle).
 *
 * @example
 * ```ts
 * dueTimeEvent(state, { paymentInFlight: false, retriesExhausted: false, nextRetryAt: null }, now) // { type: "period_end_reached" }
 * ```
 */
export function dueTimeEvent(state: LifecycleState, facts: PaymentFacts, now: Date): LifecycleEvent | null {
  const periodOver = now >= new Date(state.currentPeriodEnd);
  switch (state.status) {
    case "incomplete":
      return !facts.paymentInFlight && now >= incompleteDeadline(state)
        ? { type: "incomplete_deadline_reached", paymentInFlight: false }
        : null;
    case "trialing":
      return periodOver ? { type: "trial_ended", collecting: facts.paymentInFlight || facts.nextRetryAt !== null } : null;
    case "active":
      return periodOver ? { type: "period_end_reached" } : null;
    case "past_due":
      if (facts.paymentInFlight) return null;
      if (facts.retriesExhausted) return { type: "retry_schedule_exhausted" };
      // Failures take days to arrive, so the schedule can outlast the limit:
      // a retry still to come, or just due, keeps the subscription past due.
      if (facts.nextRetryAt !== null && now.getTime() < Date.parse(facts.nextRetryAt) + BILLING_POLICY.dueRetryGraceHours * HOUR_MS) return null;
      return now >= pastDueLimit(state, PAST_DUE_LIMIT_DAYS) ? { type: "retry_schedule_exhausted" } : null;
    default:
      return null;
  }
}

/**
 * Whether any payment facts could make a time event due for `state` at `now`.
 * When not, settle changes nothing whatever the payments say, so a read can
 * skip looking them (and the plan) up.
 *
 * @example
 * ```ts
 * mayHaveDueTimeEvent({ ...state, status: "active", currentPeriodEnd: tomorrow }, now) // false
 * ```
 */
export function mayHaveDueTimeEvent(state: LifecycleState, now: Date): boolean {
  // Facts only hold an event back (a payment in flight, a retry still to come)
  // or bring one on (retries exhausted): with the facts that hold nothing back,
  // no event means none for any facts.
  return dueTimeEvent(state, { paymentInFlight: false, retriesExhausted: true, nextRetryAt: null }, now) !== null;
}

/**
 * Applies every due time event, then `event` (if any), in order: the state a
 * subscription is really in at `now`, and the effects to write. A subscription
 * moves through at most three time events (active → past_due → unpaid).
 *
 * @example
 * ```ts
 * const { state } = settle(subscription, plan, facts, { type: "cancel_now" }, now)
 * ```
 */
export function settle(state: LifecycleState, plan: LifecyclePlan, facts: PaymentFacts, event: LifecycleEvent | null, now: Date): Decision {
  let decision: Decision = { state, effects: [] };
  for (let step = 0; step < 4; step++) {
    const due = dueTimeEvent(decision.state, facts, now);
    if (!due) break;
    decision = decide(decision.state, plan, due, now);
  }
  if (!event) return decision;
  const last = decide(decision.state, plan, event, now);
  return { state: last.state, effects: [...decision.effects, ...last.effects] };
}
