import type { BillingInterval, SubscriptionStatus } from "../../db/billing-enums";
import { boundaryIndexAtOrBefore, periodBoundary, periodEndAfter, periodStartBefore } from "./billing-anchor";
import { BILLING_POLICY, DAY_MS, HOUR_MS } from "./billing-policy";
import { LifecycleError } from "./lifecycle-error";
import type { LifecycleEffect, LifecycleEvent } from "./lifecycle-event";

/** The subscription fields the lifecycle reads and writes (as stored: ISO-8601 text, 0/1 flags). */
export interface LifecycleState {
  status: SubscriptionStatus;
  currentPeriodStart: string;
  currentPeriodEnd: string;
  /** Where every period boundary is computed from (the start of the first paid period, or the trial's end). */
  billingCycleAnchor: string;
  trialEndsAt: string | null;
  cancelAtPeriodEnd: 0 | 1;
  canceledAt: string | null;
  endedAt: string | null;
  createdAt: string;
}

/** The plan fields the lifecycle reads. */
export interface LifecyclePlan {
  amountMinor: number;
  interval: BillingInterval;
  intervalCount: number;
  trialDays: number;
}

/** The next state and what else to write. */
export interface Decision {
  state: LifecycleState;
  effects: LifecycleEffect[];
}

/**
 * The billing lifecycle in one pure function: what `event` does to a
 * subscription in `state` at `now` — its next status, period and flags, and
 * the effects to write with it. `state` is `null` only for `subscribe`.
 * Throws {@link LifecycleError} INVALID_TRANSITION for an event that cannot
 * happen in this state. Payment events (from the provider) are never
 * refused: money that moved must always be recorded.
 *
 * Callers read the subscription, fold the due time events and their own
 * event through this function, and write the result once, guarded by the
 * status and period they read. docs/billing-lifecycle.md holds the table.
 *
 * @example
 * ```ts
 * const { state, effects } = decide(subscription, plan, { type: "payment_succeeded" }, new Date())
 * ```
 */
export function decide(state: LifecycleState | null, plan: LifecyclePlan, event: LifecycleEvent, now: Date): Decision {
  if (state === null) {
    if (event.type !== "subscribe") throw refused("none", event.type);
    return { state: subscribed(plan, now), effects: [] };
  }
  const at = now.toISOString();
  const unchanged: Decision = { state, effects: [] };
  const next = (changes: Partial<LifecycleState>): Decision => ({ state: { ...state, ...changes }, effects: [] });
  const ended = state.status === "canceled" || state.status === "incomplete_expired";

  switch (event.type) {
    case "subscribe":
      throw refused(state.status, event.type);

    case "payment_submitted":
      if (ended) throw refused(state.status, event.type);
      return unchanged;

    case "payment_succeeded":
    case "reversal_canceled":
      // Money after the end for a period that started before it and was served (a dispute won, or a period owed
      // again after its collection was taken back): it keeps paying that period (¹⁰). The period it pays is
      // the one after the last paid at the latest (a renewal in flight when the period before was charged back).
      if ((event.type === "reversal_canceled" || event.served) && state.status === "canceled" && [event.periodStart!, state.currentPeriodEnd].sort()[0]! < state.endedAt!) return unchanged;
      // Any other money after the end, or for the period after one set to end (its renewal set aside), is owed back.
      if (ended || (state.cancelAtPeriodEnd && event.periodStart === state.currentPeriodEnd)) return { state, effects: [{ type: "refund_due" }] };
      // Money for a period before the current one (owed again after its reversal) pays
      // that period only: the current period stays, active (once it ended, its end applies as always).
      // Either way past_due while another older period is owed (two charged back; a later one's
      // reversal cancelled), never active: that period's own retry schedule decides unpaid.
      const moved: Partial<LifecycleState> = paysOlderPeriod(state, event.periodStart) ? { status: "active" } : paid(state, plan, now, event.served);
      if (event.owesOther) moved.status = "past_due";
      return next(moved);

    case "payment_duplicated":
      // Recorded, never absorbed: the period it pays for was paid already.
      return { state, effects: [{ type: "refund_due" }] };

    case "payment_failed":
      if (state.status === "past_due" && !event.retriesLeft) return next(retriesExhausted(at));
      // Never paid, trialing, or a renewal failing before the paid period
      // ends: nothing changes until a deadline passes (time events).
      return unchanged;

    case "payment_reversed": {
      if (state.status !== "active" && state.status !== "past_due") return unchanged;
      // The reversed money paid an older period while a later one stands paid: the
      // older one is owed again (the engine collects it), the current one stays.
      // (An unknown period, null, never compares below one: it counts as the latest.)
      if (event.periodStart! < state.currentPeriodStart) return next({ status: "past_due" });
      // The reversed money paid for the latest period: that period is owed
      // again, so the last paid period is the one before it (still running: active,
      // unless a period before it is owed too, the one before it or an older one).
      const end = new Date(state.currentPeriodStart);
      const start = periodStartBefore(state.billingCycleAnchor, plan, end);
      return next({
        status: end > now && !event.owesOther ? "active" : "past_due",
        currentPeriodStart: start.toISOString(),
        currentPeriodEnd: end.toISOString(),
      });
    }

    case "cancel_now":
    case "cancel_at_period_end":
      if (ended) throw refused(state.status, event.type);
      // With nothing paid running, cancelling at the period's end is cancelling now.
      if (event.type === "cancel_now" || !runsPaidPeriod(state, now)) {
        return next({ status: "canceled", cancelAtPeriodEnd: 0, canceledAt: state.canceledAt ?? at, endedAt: at });
      }
      if (state.cancelAtPeriodEnd === 1) return unchanged;
      return next({ cancelAtPeriodEnd: 1, canceledAt: at });

    case "resume":
      if (state.cancelAtPeriodEnd !== 1 || !runsPaidPeriod(state, now)) throw refused(state.status, event.type);
      // The next period's renewal, collected though set aside (owed back), pays that period after all (¹¹).
      return next({ cancelAtPeriodEnd: 0, canceledAt: null, ...(event.nextPaid && paid(state, plan, now)) });

    case "trial_ended":
    case "period_end_reached": {
      // A trial ends like a paid period: past due while its first payment is being
      // collected (in flight, or a retry to come); with nothing collected it is
      // paused (Stripe's trial end with no payment method).
      const [from, unpaid] = event.type === "trial_ended" ? (["trialing", event.collecting ? "past_due" : "paused"] as const) : (["active", "past_due"] as const);
      if (state.status !== from || now < new Date(state.currentPeriodEnd)) throw refused(state.status, event.type);
      if (state.cancelAtPeriodEnd === 1) return next({ status: "canceled", cancelAtPeriodEnd: 0, endedAt: state.currentPeriodEnd });
      // A free plan owes nothing: it simply enters the period that contains now.
      if (plan.amountMinor === 0) return next(freePeriod(state, plan, now));
      return next({ status: unpaid });
    }

    case "retry_schedule_exhausted":
      if (state.status !== "past_due") throw refused(state.status, event.type);
      return next(retriesExhausted(at));

    case "incomplete_deadline_reached":
      if (state.status !== "incomplete" || event.paymentInFlight || now < incompleteDeadline(state)) {
        throw refused(state.status, event.type);
      }
      return next({ status: "incomplete_expired", endedAt: at });
  }
}

/**
 * Whether a payment for the period starting at `periodStart` is for a period
 * before the subscription's current one (docs/billing-lifecycle.md ⁷): only
 * a reversed one is collected again. Unknown (null) counts as the latest.
 * (Only `active`, `past_due` and `unpaid` have periods behind them: an
 * attempt of any other status is for its current or next period.)
 *
 * @example
 * ```ts
 * paysOlderPeriod({ currentPeriodStart: "2027-02-02T00:00:00.000Z" }, "2027-01-02T00:00:00.000Z") // true
 * ```
 */
export function paysOlderPeriod(state: Pick<LifecycleState, "status" | "currentPeriodStart">, periodStart: string | null | undefined): boolean {
  // ISO-8601 text (as stored) compares in time order.
  // Null never compares at or below a period (it counts as the latest); an incomplete
  // subscription's first payment is for the placeholder period it replaces.
  return periodStart! <= state.currentPeriodStart && state.status != "incomplete";
}

/** When a never-paid subscription expires unless a payment is in flight. */
export function incompleteDeadline(state: Pick<LifecycleState, "createdAt">): Date {
  return new Date(Date.parse(state.createdAt) + BILLING_POLICY.incompleteDeadlineHours * HOUR_MS);
}

/** When a past-due subscription's retry schedule is used up even without a final failure. */
export function pastDueLimit(state: Pick<LifecycleState, "currentPeriodEnd">, limitDays: number): Date {
  return new Date(Date.parse(state.currentPeriodEnd) + limitDays * DAY_MS);
}

function subscribed(plan: LifecyclePlan, now: Date): LifecycleState {
  const at = now.toISOString();
  const base = { trialEndsAt: null, cancelAtPeriodEnd: 0 as const, canceledAt: null, endedAt: null, createdAt: at, currentPeriodStart: at };
  if (plan.trialDays > 0) {
    // The trial is the first period; the first paid period starts where it ends.
    const trialEnd = new Date(now.getTime() + plan.trialDays * DAY_MS).toISOString();
    return { ...base, status: "trialing", currentPeriodEnd: trialEnd, trialEndsAt: trialEnd, billingCycleAnchor: trialEnd };
  }
  const end = periodEndAfter(at, plan, now).toISOString();
  // A free plan is paid by definition; a paid plan's period is a placeholder
  // until the first payment succeeds, which sets the anchor again.
  return { ...base, status: plan.amountMinor === 0 ? "active" : "incomplete", currentPeriodEnd: end, billingCycleAnchor: at };
}

/**
 * The state a collected payment leads to. A subscription with a paid or
 * trial period behind it (trialing, active, past_due) gets the period after
 * it, on the anchor; one without (incomplete, paused, unpaid: never paid or
 * suspended) — or whose next period would already be over — starts a new
 * cycle at the confirmation: the payer gets a whole period of service. Unless
 * that period was `served` (collected once, then taken back): its service was
 * given, so the money pays exactly it.
 */
function paid(state: LifecycleState, plan: LifecyclePlan, now: Date, served?: number): Partial<LifecycleState> {
  if (state.status === "trialing" || state.status === "active" || state.status === "past_due") {
    const start = new Date(state.currentPeriodEnd);
    const end = periodEndAfter(state.billingCycleAnchor, plan, start);
    if (end > now || served) return { status: "active", currentPeriodStart: start.toISOString(), currentPeriodEnd: end.toISOString() };
  }
  const at = now.toISOString();
  return { status: "active", billingCycleAnchor: at, currentPeriodStart: at, currentPeriodEnd: periodEndAfter(at, plan, now).toISOString() };
}

/** The anchor period that contains `now`, active: what a free plan runs in without any payment. */
function freePeriod(state: LifecycleState, plan: LifecyclePlan, now: Date): Partial<LifecycleState> {
  const n = boundaryIndexAtOrBefore(state.billingCycleAnchor, plan, now);
  return {
    status: "active",
    currentPeriodStart: periodBoundary(state.billingCycleAnchor, plan, n).toISOString(),
    currentPeriodEnd: periodBoundary(state.billingCycleAnchor, plan, n + 1).toISOString(),
  };
}

function retriesExhausted(at: string): Partial<LifecycleState> {
  return BILLING_POLICY.whenRetriesExhausted === "canceled" ? { status: "canceled", canceledAt: at, endedAt: at } : { status: "unpaid" };
}

/** Whether a paid or trial period is running that cancel-at-period-end can wait for. */
function runsPaidPeriod(state: LifecycleState, now: Date): boolean {
  return (state.status === "active" || state.status === "trialing") && new Date(state.currentPeriodEnd) > now;
}

function refused(status: string, event: string): LifecycleError {
  return new LifecycleError("INVALID_TRANSITION", `A subscription that is ${status} cannot take the event ${event}.`, { status, event });
}
