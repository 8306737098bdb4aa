import { describe, expect, it } from "vitest";
import { ENDED_SUBSCRIPTION_STATUSES, SUBSCRIPTION_STATUSES, type SubscriptionStatus } from "../../src/db/billing-enums";
import { BILLING_POLICY, DAY_MS } from "../../src/billing/lifecycle/billing-policy";
import { decide, type LifecyclePlan, type LifecycleState } from "../../src/billing/lifecycle/decide";
import { settle, type PaymentFacts } from "../../src/billing/lifecycle/due-time-event";
import { entitledUntil } from "../../src/billing/lifecycle/entitlement";
import { LifecycleError } from "../../src/billing/lifecycle/lifecycle-error";
import { LIFECYCLE_EVENT_TYPES, type LifecycleEvent, type LifecycleEventType } from "../../src/billing/lifecycle/lifecycle-event";
import { SUBSCRIPTION_TRANSITIONS } from "../../src/billing/subscription-transitions";

// Every (status, event) pair through the one lifecycle function, including
// the impossible ones: this table is the one in docs/billing-lifecycle.md.
// "=" keeps the status; "refused" is INVALID_TRANSITION; "+refund" marks the
// payment owed back. Time events are tried once their deadline has passed,
// every other event inside a running period (resume: with cancelAtPeriodEnd set).

type Outcome = SubscriptionStatus | "=" | "refused" | "= +refund";
const R = "refused";
const TABLE: Record<SubscriptionStatus, Record<LifecycleEventType, Outcome>> = {
  incomplete: row(R, "=", "active", "=", "=", "active", "= +refund", "canceled", "canceled", R, R, R, R, "incomplete_expired"),
  incomplete_expired: row(R, R, "= +refund", "=", "=", "= +refund", "= +refund", R, R, R, R, R, R, R),
  trialing: row(R, "=", "active", "=", "=", "active", "= +refund", "canceled", "=", "=", "paused", R, R, R),
  active: row(R, "=", "=", "=", "past_due", "=", "= +refund", "canceled", "=", "=", R, "past_due", R, R),
  past_due: row(R, "=", "active", "=", "=", "active", "= +refund", "canceled", "canceled", R, R, R, BILLING_POLICY.whenRetriesExhausted, R),
  unpaid: row(R, "=", "active", "=", "=", "active", "= +refund", "canceled", "canceled", R, R, R, R, R),
  paused: row(R, "=", "active", "=", "=", "active", "= +refund", "canceled", "canceled", R, R, R, R, R),
  canceled: row(R, R, "= +refund", "=", "=", "= +refund", "= +refund", R, R, R, R, R, R, R),
};

function row(...outcomes: Outcome[]): Record<LifecycleEventType, Outcome> {
  expect(outcomes).toHaveLength(LIFECYCLE_EVENT_TYPES.length);
  return Object.fromEntries(LIFECYCLE_EVENT_TYPES.map((type, i) => [type, outcomes[i]!])) as Record<LifecycleEventType, Outcome>;
}

const TIME_EVENTS: readonly LifecycleEventType[] = ["trial_ended", "period_end_reached", "retry_schedule_exhausted", "incomplete_deadline_reached"];
const plan: LifecyclePlan = { amountMinor: 1500, interval: "month", intervalCount: 1, trialDays: 0 };
const START = "2027-03-10T12:00:00.000Z";
const END = "2027-04-10T12:00:00.000Z";

function stateIn(status: SubscriptionStatus, event: LifecycleEventType): LifecycleState {
  return {
    status,
    currentPeriodStart: START,
    currentPeriodEnd: END,
    billingCycleAnchor: "2027-01-10T12:00:00.000Z",
    trialEndsAt: status === "trialing" ? END : null,
    cancelAtPeriodEnd: event === "resume" ? 1 : 0,
    canceledAt: event === "resume" || status === "canceled" ? START : null,
    endedAt: status === "canceled" || status === "incomplete_expired" ? START : null,
    createdAt: START,
  };
}
function eventOf(type: LifecycleEventType): LifecycleEvent {
  if (type === "payment_failed") return { type, retriesLeft: true };
  if (type === "incomplete_deadline_reached") return { type, paymentInFlight: false };
  return { type } as LifecycleEvent;
}
function nowFor(type: LifecycleEventType): Date {
  // Time events: well after every deadline. Others: inside the period.
  return TIME_EVENTS.includes(type) ? new Date(Date.parse(END) + 40 * DAY_MS) : new Date("2027-03-20T00:00:00.000Z");
}

const pairs = SUBSCRIPTION_STATUSES.flatMap((status) => LIFECYCLE_EVENT_TYPES.map((event) => [status, event] as const));

// Money for a period BEFORE the current one (`periodStart` older: an older period
// collected again after its reversal, or reversed while a later one is paid),
// docs/billing-lifecycle.md ⁷: it never moves the current period.
type OlderEvent = "payment_succeeded" | "reversal_canceled" | "payment_reversed";
const OLDER_EVENTS: readonly OlderEvent[] = ["payment_succeeded", "reversal_canceled", "payment_reversed"];
const OLDER: Record<SubscriptionStatus, [Outcome, Outcome, Outcome]> = {
  // Ended: owed back, as any money. Money for the current period or one before it pays it and moves
  // nothing (two reversed periods: the older one is collected while the later is current again);
  // only an incomplete subscription's first payment (for its placeholder period) starts its first period.
  incomplete: ["active", "active", "="],
  incomplete_expired: ["= +refund", "= +refund", "="],
  trialing: ["active", "active", "="],
  paused: ["active", "active", "="],
  // A reversal cancelled (a dispute won) for a period served before the end keeps paying it (see ENDED_MONEY).
  canceled: ["= +refund", "=", "="],
  // The older period is paid (active while the current one runs) or owed again (past_due).
  active: ["=", "=", "past_due"],
  past_due: ["active", "active", "="],
  unpaid: ["active", "active", "="],
};
const OLDER_START = "2027-02-10T12:00:00.000Z";
// The same money (collected, or its reversal cancelled) while ANOTHER older period is still owed
// (two charged back, `owesOther`): past_due until that one is paid too.
const OLDER_OWING: Record<SubscriptionStatus, Outcome> = {
  incomplete: "past_due",
  incomplete_expired: "= +refund",
  trialing: "past_due",
  paused: "past_due",
  canceled: "= +refund",
  active: "past_due",
  past_due: "=",
  unpaid: "past_due",
};

describe("money for an older period, every status", () => {
  const cases = SUBSCRIPTION_STATUSES.flatMap((status) => OLDER_EVENTS.map((type, i) => [status, type, OLDER[status][i]!] as const));
  it.each(cases)("%s + %s (older period) → %s", (status, type, expected) => {
    const before = stateIn(status, type);
    const { state, effects } = decide(before, plan, { type, periodStart: OLDER_START }, nowFor(type));
    expect(state.status).toBe(expected.startsWith("=") ? status : expected);
    expect(effects).toEqual(expected.endsWith("+refund") ? [{ type: "refund_due" }] : []);
    // It never moves the current period — except an incomplete one's first payment, which starts it.
    if (status !== "incomplete") expect([state.currentPeriodStart, state.currentPeriodEnd, state.billingCycleAnchor]).toEqual([START, END, before.billingCycleAnchor]);
    else if (type !== "payment_reversed") expect(state.currentPeriodStart).not.toBe(START);
  });
  // (A dispute won on a canceled subscription keeps paying its served period, owed or not: ENDED_MONEY.)
  const owing = SUBSCRIPTION_STATUSES.flatMap((status) =>
    (["payment_succeeded", "reversal_canceled"] as const).map((type) => [status, type, status === "canceled" && type === "reversal_canceled" ? "=" : OLDER_OWING[status]] as const),
  );
  it.each(owing)("%s + %s (older period, another one owed) → %s", (status, type, expected) => {
    const { state, effects } = decide(stateIn(status, type), plan, { type, periodStart: OLDER_START, owesOther: 1 }, nowFor(type));
    expect(state.status).toBe(expected.startsWith("=") ? status : expected);
    expect(effects).toEqual(expected.endsWith("+refund") ? [{ type: "refund_due" }] : []);
  });
});

// Money back with us on an ended subscription (docs/billing-lifecycle.md ¹⁰): it keeps paying a period that
// started before the subscription ended and was served — a dispute won (reversal cancelled), or a collection of
// a period whose earlier collection was taken back (`served`: e.g. the renewal in flight when the period before it
// was charged back, its money paying that period: min(its period, currentPeriodEnd), as decide pays the period
// after the last paid). For a period from the end on (never served), a period never collected before, or on a
// subscription that never had a paid period, it is owed back.
const ENDED_AT = START;
/** Cancelled while past due: the last paid period ended before the end (its successor's collection was taken back). */
const OWING = { currentPeriodStart: "2027-01-10T12:00:00.000Z", currentPeriodEnd: OLDER_START };
const ENDED_MONEY: [SubscriptionStatus, "payment_succeeded" | "reversal_canceled", string, 0 | 1, Outcome, Partial<LifecycleState>?][] = [
  ["canceled", "reversal_canceled", OLDER_START, 1, "="],
  ["canceled", "reversal_canceled", ENDED_AT, 1, "= +refund"],
  ["canceled", "reversal_canceled", END, 1, "= +refund"],
  ["incomplete_expired", "reversal_canceled", OLDER_START, 1, "= +refund"],
  ["canceled", "payment_succeeded", OLDER_START, 1, "="],
  ["canceled", "payment_succeeded", OLDER_START, 0, "= +refund"],
  ["canceled", "payment_succeeded", ENDED_AT, 1, "= +refund"],
  ["canceled", "payment_succeeded", END, 1, "= +refund"],
  ["canceled", "payment_succeeded", END, 1, "=", OWING],
  ["canceled", "payment_succeeded", END, 0, "= +refund", OWING],
  ["canceled", "reversal_canceled", END, 1, "=", OWING],
  ["incomplete_expired", "payment_succeeded", OLDER_START, 1, "= +refund"],
];

describe("money back with us after the subscription ended", () => {
  it.each(ENDED_MONEY)("%s + %s for the period starting %s (served %s) → %s", (status, type, periodStart, served, expected, changes) => {
    const before = { ...stateIn(status, type), ...changes };
    expect(before.endedAt).toBe(ENDED_AT);
    const { state, effects } = decide(before, plan, { type, periodStart, served }, nowFor(type));
    expect(state).toEqual(before);
    expect(effects).toEqual(expected.endsWith("+refund") ? [{ type: "refund_due" }] : []);
  });
});

// A trial's end by what is being collected for the first paid period (docs/billing-lifecycle.md ⁵): pausing
// (Stripe's trial end with no payment method) only when nothing is; a payment in flight or a retry still to
// come is past due like an unpaid renewal — the grace follows the trial, and the retry schedule goes on.
const IDLE: PaymentFacts = { paymentInFlight: false, retriesExhausted: false, nextRetryAt: null };
const GRACE_END = new Date(Date.parse(END) + BILLING_POLICY.pastDueGraceDays * DAY_MS).toISOString();
const TRIAL_END: [string, SubscriptionStatus, string | null, PaymentFacts, Partial<LifecycleState>?, Partial<LifecyclePlan>?][] = [
  ["nothing collected (no mandate)", "paused", null, IDLE],
  ["its last failure had no retry left", "paused", null, { ...IDLE, retriesExhausted: true }],
  ["its first payment in flight", "past_due", GRACE_END, { ...IDLE, paymentInFlight: true }],
  ["its first payment failed, a retry to come", "past_due", GRACE_END, { ...IDLE, nextRetryAt: END }],
  ["in flight, set to cancel at its end", "canceled", null, { ...IDLE, paymentInFlight: true }, { cancelAtPeriodEnd: 1 }],
  ["a free plan", "active", "2027-05-10T12:00:00.000Z", IDLE, {}, { amountMinor: 0 }],
];
/** An hour after the trial's end: every row's state then, through settle (as a read or the engine applies it). */
const trialEnded = ([, , , facts, changes, planChanges]: (typeof TRIAL_END)[number]) =>
  settle({ ...stateIn("trialing", "trial_ended"), ...changes }, { ...plan, ...planChanges }, facts, null, new Date(Date.parse(END) + 3_600_000)).state;

describe("a trial's end, by what is being collected", () => {
  it.each(TRIAL_END)("%s → %s, access until %s", (...row) => {
    const state = trialEnded(row);
    expect([state.status, entitledUntil(state, new Date(Date.parse(END) + 3_600_000), false)?.toISOString() ?? null]).toEqual(row.slice(1, 3));
  });
});

describe("every (status, event) pair", () => {
  it.each(pairs)("%s + %s", (status, type) => {
    const expected = TABLE[status][type];
    const run = () => decide(stateIn(status, type), plan, eventOf(type), nowFor(type));
    if (expected === R) {
      expect(run).toThrow(LifecycleError);
      try {
        run();
      } catch (error) {
        expect((error as LifecycleError).code).toBe("INVALID_TRANSITION");
      }
      return;
    }
    const { state, effects } = run();
    expect(state.status).toBe(expected.startsWith("=") ? status : expected);
    expect(effects).toEqual(expected.endsWith("+refund") ? [{ type: "refund_due" }] : []);
  });

  // The engine never sends a pending attempt of these (submit-pending-attempts.ts): the rule is this table's.
  it("ENDED_SUBSCRIPTION_STATUSES are exactly the statuses that refuse payment_submitted", () => {
    expect(SUBSCRIPTION_STATUSES.filter((status) => TABLE[status].payment_submitted === R).sort()).toEqual([...ENDED_SUBSCRIPTION_STATUSES].sort());
  });

  it("SUBSCRIPTION_TRANSITIONS lists exactly the moves the lifecycle makes", () => {
    const made = new Map<SubscriptionStatus, Set<SubscriptionStatus>>(SUBSCRIPTION_STATUSES.map((status) => [status, new Set()]));
    for (const [status, type] of pairs) {
      const before = stateIn(status, type);
      let after: LifecycleState;
      try {
        after = decide(before, plan, eventOf(type), nowFor(type)).state;
      } catch {
        continue;
      }
      const periodMoved = after.currentPeriodStart !== before.currentPeriodStart || after.currentPeriodEnd !== before.currentPeriodEnd;
      if (after.status !== status || periodMoved) made.get(status)!.add(after.status);
    }
    for (const row of TRIAL_END) made.get("trialing")!.add(trialEnded(row).status);
    for (const status of SUBSCRIPTION_STATUSES) {
      expect([...made.get(status)!].sort(), status).toEqual([...SUBSCRIPTION_TRANSITIONS[status]].sort());
    }
  });

  it("every status is reachable from subscribe", () => {
    const reached = new Set<SubscriptionStatus>();
    for (const trialDays of [0, 14]) {
      for (const amountMinor of [0, 1500]) reached.add(decide(null, { ...plan, trialDays, amountMinor }, { type: "subscribe" }, new Date(START)).state.status);
    }
    let grew = true;
    while (grew) {
      grew = false;
      for (const from of [...reached]) {
        for (const to of SUBSCRIPTION_TRANSITIONS[from]) {
          if (!reached.has(to)) {
            reached.add(to);
            grew = true;
          }
        }
      }
    }
    expect([...reached].sort()).toEqual([...SUBSCRIPTION_STATUSES].sort());
  });

  it("subscribe needs no subscription; every other event needs one", () => {
    for (const type of LIFECYCLE_EVENT_TYPES) {
      if (type === "subscribe") continue;
      expect(() => decide(null, plan, eventOf(type), new Date(START))).toThrow(LifecycleError);
    }
  });
});
