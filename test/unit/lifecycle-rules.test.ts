import { describe, expect, it } from "vitest";
import { BILLING_POLICY, DAY_MS, HOUR_MS, PAST_DUE_LIMIT_DAYS } from "../../src/billing/lifecycle/billing-policy";
import { collected, resubmitted } from "../../src/billing/lifecycle/competing-collections";
import { moneyEvent, type MoneyEvent } from "../../src/billing/lifecycle/payment-money-events";
import type { PaymentAttemptStatus, PaymentReversal } from "../../src/db/billing-enums";
import { decide, type LifecyclePlan, type LifecycleState } from "../../src/billing/lifecycle/decide";
import { dueTimeEvent, settle } from "../../src/billing/lifecycle/due-time-event";
import { entitledUntil } from "../../src/billing/lifecycle/entitlement";
import { resumedRenewal, type RenewalOnResume } from "../../src/billing/lifecycle/resumed-renewal";

// The rules of docs/billing-lifecycle.md beyond the status table: which
// period, which anchor, which deadline. All times UTC.

const monthly: LifecyclePlan = { amountMinor: 1500, interval: "month", intervalCount: 1, trialDays: 0 };
const at = (iso: string) => new Date(iso);
const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms);
const idle = { paymentInFlight: false, retriesExhausted: false, nextRetryAt: null };

function state(overrides: Partial<LifecycleState>): LifecycleState {
  return {
    status: "active",
    currentPeriodStart: "2027-01-31T10:00:00.000Z",
    currentPeriodEnd: "2027-02-28T10:00:00.000Z",
    billingCycleAnchor: "2027-01-31T10:00:00.000Z",
    trialEndsAt: null,
    cancelAtPeriodEnd: 0,
    canceledAt: null,
    endedAt: null,
    createdAt: "2027-01-30T09:00:00.000Z",
    ...overrides,
  };
}

describe("subscribe", () => {
  const now = at("2027-01-31T10:00:00.000Z");
  it("a paid plan starts incomplete with a placeholder period; a free one active; a trial trialing, anchored at the trial's end", () => {
    expect(decide(null, monthly, { type: "subscribe" }, now).state).toMatchObject({ status: "incomplete", currentPeriodEnd: "2027-02-28T10:00:00.000Z" });
    expect(decide(null, { ...monthly, amountMinor: 0 }, { type: "subscribe" }, now).state).toMatchObject({ status: "active", billingCycleAnchor: now.toISOString() });
    expect(decide(null, { ...monthly, trialDays: 14 }, { type: "subscribe" }, now).state).toMatchObject({
      status: "trialing",
      currentPeriodEnd: "2027-02-14T10:00:00.000Z",
      trialEndsAt: "2027-02-14T10:00:00.000Z",
      billingCycleAnchor: "2027-02-14T10:00:00.000Z",
    });
  });
});

describe("never paid", () => {
  const incomplete = state({ status: "incomplete", createdAt: "2027-01-01T00:00:00.000Z", currentPeriodStart: "2027-01-01T00:00:00.000Z", currentPeriodEnd: "2027-02-01T00:00:00.000Z", billingCycleAnchor: "2027-01-01T00:00:00.000Z" });

  it("stays incomplete through failures; the first success starts the first period and the anchor at its confirmation", () => {
    const failed = decide(incomplete, monthly, { type: "payment_failed", retriesLeft: false }, at("2027-01-02T00:00:00.000Z")).state;
    expect(failed).toEqual(incomplete);
    const confirmedAt = at("2027-01-03T08:00:00.000Z");
    expect(decide(failed, monthly, { type: "payment_succeeded" }, confirmedAt).state).toMatchObject({
      status: "active",
      billingCycleAnchor: confirmedAt.toISOString(),
      currentPeriodStart: confirmedAt.toISOString(),
      currentPeriodEnd: "2027-02-03T08:00:00.000Z",
    });
  });

  it(`expires ${BILLING_POLICY.incompleteDeadlineHours} hours after subscribing, not a millisecond earlier, and never while a payment is in flight`, () => {
    const deadline = plus(incomplete.createdAt, BILLING_POLICY.incompleteDeadlineHours * HOUR_MS);
    expect(dueTimeEvent(incomplete, idle, new Date(deadline.getTime() - 1))).toBeNull();
    expect(dueTimeEvent(incomplete, idle, deadline)).toEqual({ type: "incomplete_deadline_reached", paymentInFlight: false });
    expect(dueTimeEvent(incomplete, { ...idle, paymentInFlight: true }, plus(incomplete.createdAt, 90 * DAY_MS))).toBeNull();
    expect(() => decide(incomplete, monthly, { type: "incomplete_deadline_reached", paymentInFlight: true }, deadline)).toThrow(/cannot take/);
    expect(settle(incomplete, monthly, idle, null, deadline).state).toMatchObject({ status: "incomplete_expired", endedAt: deadline.toISOString() });
  });
});

describe("renewals", () => {
  const active = state({});

  it("a success advances to the next period on the anchor (Feb 28 → Mar 31), also when paid early", () => {
    expect(decide(active, monthly, { type: "payment_succeeded" }, at("2027-02-26T00:00:00.000Z")).state).toMatchObject({
      status: "active",
      currentPeriodStart: "2027-02-28T10:00:00.000Z",
      currentPeriodEnd: "2027-03-31T10:00:00.000Z",
    });
  });

  it("a failure while the paid period runs changes nothing; its end makes it past_due; the grace then runs out", () => {
    expect(decide(active, monthly, { type: "payment_failed", retriesLeft: true }, at("2027-02-26T00:00:00.000Z")).state).toEqual(active);
    const end = at(active.currentPeriodEnd);
    expect(entitledUntil(active, new Date(end.getTime() - 1))).toEqual(end);
    const pastDue = settle(active, monthly, idle, null, end).state;
    expect(pastDue.status).toBe("past_due");
    const graceEnd = plus(active.currentPeriodEnd, BILLING_POLICY.pastDueGraceDays * DAY_MS);
    expect(entitledUntil(pastDue, end)).toEqual(graceEnd);
    expect(entitledUntil(pastDue, graceEnd)).toBeNull();
  });

  it(`past_due becomes ${BILLING_POLICY.whenRetriesExhausted} when the last retry fails, or ${PAST_DUE_LIMIT_DAYS} days after the period without a payment in flight`, () => {
    const pastDue = state({ status: "past_due" });
    expect(decide(pastDue, monthly, { type: "payment_failed", retriesLeft: false }, at("2027-03-05T00:00:00.000Z")).state.status).toBe(BILLING_POLICY.whenRetriesExhausted);
    const limit = plus(pastDue.currentPeriodEnd, PAST_DUE_LIMIT_DAYS * DAY_MS);
    expect(dueTimeEvent(pastDue, idle, new Date(limit.getTime() - 1))).toBeNull();
    expect(dueTimeEvent(pastDue, idle, limit)).toEqual({ type: "retry_schedule_exhausted" });
    expect(dueTimeEvent(pastDue, { ...idle, paymentInFlight: true }, limit)).toBeNull();
    expect(dueTimeEvent(pastDue, { ...idle, retriesExhausted: true }, at("2027-03-01T00:00:00.000Z"))).toEqual({ type: "retry_schedule_exhausted" });
  });

  it("the past-due limit waits for a retry the schedule still has coming or that just fell due, and no longer once it lay unused for dueRetryGraceHours", () => {
    const pastDue = state({ status: "past_due" });
    const limit = plus(pastDue.currentPeriodEnd, PAST_DUE_LIMIT_DAYS * DAY_MS);
    const grace = BILLING_POLICY.dueRetryGraceHours * HOUR_MS;
    // Collections take time: the 3rd failure can arrive after the limit, its retry due later still;
    // a reversal weeks later makes its retry due at once.
    const retryAt = new Date(limit.getTime() + 6 * HOUR_MS);
    expect(dueTimeEvent(pastDue, { ...idle, nextRetryAt: retryAt.toISOString() }, limit)).toBeNull();
    expect(dueTimeEvent(pastDue, { ...idle, nextRetryAt: retryAt.toISOString() }, retryAt)).toBeNull();
    expect(dueTimeEvent(pastDue, { ...idle, nextRetryAt: retryAt.toISOString() }, new Date(retryAt.getTime() + grace - 1))).toBeNull();
    expect(dueTimeEvent(pastDue, { ...idle, nextRetryAt: retryAt.toISOString() }, new Date(retryAt.getTime() + grace))).toEqual({ type: "retry_schedule_exhausted" });
  });

  it("a success on past_due pays the period after the lapsed one; when that is over too, a new cycle starts now", () => {
    const pastDue = state({ status: "past_due" });
    expect(decide(pastDue, monthly, { type: "payment_succeeded" }, at("2027-03-02T00:00:00.000Z")).state).toMatchObject({
      currentPeriodStart: "2027-02-28T10:00:00.000Z",
      currentPeriodEnd: "2027-03-31T10:00:00.000Z",
    });
    const late = at("2027-04-02T00:00:00.000Z");
    expect(decide(pastDue, monthly, { type: "payment_succeeded" }, late).state).toMatchObject({ billingCycleAnchor: late.toISOString(), currentPeriodStart: late.toISOString() });
    // Unless that period was served (collected, then taken back): the money pays exactly it, on the anchor.
    expect(decide(pastDue, monthly, { type: "payment_succeeded", served: 1 }, late).state).toMatchObject({
      status: "active",
      currentPeriodStart: "2027-02-28T10:00:00.000Z",
      currentPeriodEnd: "2027-03-31T10:00:00.000Z",
    });
  });
});

describe("money after the end", () => {
  it("success on canceled or expired marks the payment owed back and changes nothing else", () => {
    for (const status of ["canceled", "incomplete_expired"] as const) {
      const ended = state({ status, endedAt: "2027-02-01T00:00:00.000Z" });
      expect(decide(ended, monthly, { type: "payment_succeeded" }, at("2027-02-02T00:00:00.000Z"))).toEqual({ state: ended, effects: [{ type: "refund_due" }] });
    }
  });

  it("success for the period after one set to end (its renewal set aside) is owed back; one for the current period still pays it", () => {
    const ending = state({ status: "active", currentPeriodStart: "2027-01-10T09:00:00.000Z", currentPeriodEnd: "2027-02-10T09:00:00.000Z", cancelAtPeriodEnd: 1 });
    const now = at("2027-02-09T00:00:00.000Z");
    expect(decide(ending, monthly, { type: "payment_succeeded", periodStart: "2027-02-10T09:00:00.000Z" }, now)).toEqual({ state: ending, effects: [{ type: "refund_due" }] });
    const renewed = decide({ ...ending, cancelAtPeriodEnd: 0 }, monthly, { type: "payment_succeeded", periodStart: "2027-02-10T09:00:00.000Z" }, now);
    expect(renewed.effects).toEqual([]);
    expect(renewed.state.currentPeriodEnd > ending.currentPeriodEnd).toBe(true);
  });
});

describe("reversals", () => {
  it("a chargeback reopens the latest paid period as debt: the period before it is the last paid one", () => {
    const renewed = state({ currentPeriodStart: "2027-02-28T10:00:00.000Z", currentPeriodEnd: "2027-03-31T10:00:00.000Z" });
    expect(decide(renewed, monthly, { type: "payment_reversed" }, at("2027-03-10T00:00:00.000Z")).state).toMatchObject({
      status: "past_due",
      currentPeriodStart: "2027-01-31T10:00:00.000Z",
      currentPeriodEnd: "2027-02-28T10:00:00.000Z",
    });
  });

  it("a chargeback of the FIRST payment: past_due owing that period, and no grace once no collection stands (no period before the first was paid); collected again, it pays exactly that first period", () => {
    const first = state({ currentPeriodStart: "2027-01-31T10:00:00.000Z", currentPeriodEnd: "2027-02-28T10:00:00.000Z", billingCycleAnchor: "2027-01-31T10:00:00.000Z" });
    const now = at("2027-02-02T00:00:00.000Z");
    const owing = decide(first, monthly, { type: "payment_reversed", periodStart: first.currentPeriodStart }, now).state;
    expect(owing).toMatchObject({ status: "past_due", currentPeriodEnd: first.currentPeriodStart });
    expect(entitledUntil(owing, now, false)).toBeNull();
    // While a collection stands (a later period's reversal), the grace follows the period before it.
    expect(entitledUntil(owing, now, true)).toEqual(plus(first.currentPeriodStart, BILLING_POLICY.pastDueGraceDays * DAY_MS));
    for (const type of ["payment_succeeded", "reversal_canceled"] as const) {
      expect(decide(owing, monthly, { type, periodStart: first.currentPeriodStart, served: 1 }, at("2027-03-20T00:00:00.000Z")).state).toEqual({ ...first, status: "active" });
    }
  });

  it("reversing an early renewal while the period it followed still runs keeps it active, with the renewal due again — past_due when a period before it is owed too", () => {
    const renewedEarly = state({ currentPeriodStart: "2027-02-28T10:00:00.000Z", currentPeriodEnd: "2027-03-31T10:00:00.000Z" });
    expect(decide(renewedEarly, monthly, { type: "payment_reversed" }, at("2027-02-27T00:00:00.000Z")).state).toMatchObject({
      status: "active",
      currentPeriodEnd: "2027-02-28T10:00:00.000Z",
    });
    // The period it followed (or an older one) was charged back first: never active while a period is owed.
    for (const owesOther of [1, 0]) {
      expect(decide(renewedEarly, monthly, { type: "payment_reversed", periodStart: renewedEarly.currentPeriodStart, owesOther }, at("2027-02-27T00:00:00.000Z")).state).toMatchObject({
        status: owesOther ? "past_due" : "active",
        currentPeriodStart: "2027-01-31T10:00:00.000Z",
        currentPeriodEnd: "2027-02-28T10:00:00.000Z",
      });
    }
  });

  it("a chargeback of an OLDER period while a later one is paid: past_due on the same period; collected again, active on it (past_due again once it ended)", () => {
    const renewed = state({ currentPeriodStart: "2027-02-28T10:00:00.000Z", currentPeriodEnd: "2027-03-31T10:00:00.000Z" });
    const older = "2027-01-31T10:00:00.000Z";
    const owing = decide(renewed, monthly, { type: "payment_reversed", periodStart: older }, at("2027-03-10T00:00:00.000Z")).state;
    expect(owing).toEqual({ ...renewed, status: "past_due" });
    expect(decide(owing, monthly, { type: "payment_succeeded", periodStart: older }, at("2027-03-12T00:00:00.000Z")).state).toEqual(renewed);
    // Another older period still owed (two charged back): past_due until that one is paid too.
    for (const type of ["payment_succeeded", "reversal_canceled"] as const) expect(decide(owing, monthly, { type, periodStart: older, owesOther: 1 }, at("2027-03-12T00:00:00.000Z")).state).toEqual(owing);
    // Collected after the current period ended: its end applies as always (the next renewal is owed).
    expect(settle(owing, monthly, idle, { type: "payment_succeeded", periodStart: older }, at("2027-04-02T00:00:00.000Z")).state).toEqual({ ...renewed, status: "active" });
    expect(settle({ ...renewed, status: "active" }, monthly, idle, null, at("2027-04-02T00:00:00.000Z")).state).toEqual(owing);
    // The latest period's own payment (or one whose period is unknown) follows the rule above.
    expect(decide(renewed, monthly, { type: "payment_reversed", periodStart: renewed.currentPeriodStart }, at("2027-03-10T00:00:00.000Z")).state.currentPeriodEnd).toBe("2027-02-28T10:00:00.000Z");
    expect(decide(renewed, monthly, { type: "payment_reversed", periodStart: null }, at("2027-03-10T00:00:00.000Z")).state.currentPeriodEnd).toBe("2027-02-28T10:00:00.000Z");
  });

  it("the next period's renewal in flight when the paid period is taken back: its money pays the period owed again (the one after the last paid), exactly — also once that period ended (served) — and past_due while another is owed (issue 11, overlap)", () => {
    const paid = state({});
    const owing = decide(paid, monthly, { type: "payment_reversed", periodStart: paid.currentPeriodStart }, at("2027-02-26T00:00:00.000Z")).state;
    expect(owing).toMatchObject({ status: "past_due", currentPeriodEnd: paid.currentPeriodStart });
    // The renewal was made for the period from Feb 28 (its attempt's periodStart); the period its money pays was served.
    const renewal = { type: "payment_succeeded", periodStart: paid.currentPeriodEnd, served: 1 } as const;
    for (const when of ["2027-02-27T00:00:00.000Z", "2027-03-02T00:00:00.000Z"]) expect(decide(owing, monthly, renewal, at(when)).state).toEqual(paid);
    expect(decide(owing, monthly, { ...renewal, owesOther: 1 }, at("2027-02-27T00:00:00.000Z")).state).toEqual({ ...paid, status: "past_due" });
    // Read as not served (the facts of its own period, as before), a late confirmation would start a new cycle and leave the period unpaid.
    expect(decide(owing, monthly, { ...renewal, served: 0 }, at("2027-03-02T00:00:00.000Z")).state.currentPeriodStart).toBe("2027-03-02T00:00:00.000Z");
  });

  it("a reversed reversal pays the reopened period again; past_due while an older period is still owed", () => {
    const reopened = state({ status: "past_due" });
    for (const owesOther of [0, 1]) {
      expect(decide(reopened, monthly, { type: "reversal_canceled", owesOther }, at("2027-03-10T00:00:00.000Z")).state).toMatchObject({
        status: owesOther ? "past_due" : "active",
        currentPeriodStart: "2027-02-28T10:00:00.000Z",
        currentPeriodEnd: "2027-03-31T10:00:00.000Z",
      });
    }
  });
});

describe("cancel and resume", () => {
  const active = state({});
  const inside = at("2027-02-10T00:00:00.000Z");

  it("cancel at period end keeps the period; resume undoes it; at the end it is canceled at the period's end", () => {
    const ending = decide(active, monthly, { type: "cancel_at_period_end" }, inside).state;
    expect(ending).toMatchObject({ status: "active", cancelAtPeriodEnd: 1, canceledAt: inside.toISOString() });
    expect(decide(ending, monthly, { type: "resume" }, inside).state).toEqual(active);
    expect(settle(ending, monthly, idle, null, at("2027-03-01T00:00:00.000Z")).state).toMatchObject({ status: "canceled", endedAt: active.currentPeriodEnd });
  });

  it("resumed with the next period's renewal collected meanwhile (owed back): that money pays the next period (docs ¹¹)", () => {
    const ending = decide(active, monthly, { type: "cancel_at_period_end" }, inside).state;
    expect(decide(ending, monthly, { type: "resume", nextPaid: true }, inside).state).toEqual({
      ...active,
      currentPeriodStart: active.currentPeriodEnd,
      currentPeriodEnd: "2027-03-31T10:00:00.000Z",
    });
  });

  it("resume after the period ended is refused", () => {
    const ending = decide(active, monthly, { type: "cancel_at_period_end" }, inside).state;
    expect(() => decide(ending, monthly, { type: "resume" }, at(active.currentPeriodEnd))).toThrow(/cannot take the event resume/);
  });

  it("a trial ending unpaid pauses (no access); with cancel at period end it is canceled", () => {
    const trialing = state({ status: "trialing", trialEndsAt: "2027-02-28T10:00:00.000Z" });
    expect(settle(trialing, monthly, idle, null, at("2027-03-01T00:00:00.000Z")).state.status).toBe("paused");
    expect(entitledUntil({ ...trialing, status: "paused" }, at("2027-03-01T00:00:00.000Z"))).toBeNull();
    expect(settle({ ...trialing, cancelAtPeriodEnd: 1 }, monthly, idle, null, at("2027-03-01T00:00:00.000Z")).state.status).toBe("canceled");
  });
});

describe("free plans", () => {
  const free: LifecyclePlan = { ...monthly, amountMinor: 0 };

  it("roll into the period containing now at each period end (no payment, never past_due), however long unread", () => {
    const active = decide(null, free, { type: "subscribe" }, at("2027-01-31T10:00:00.000Z")).state;
    expect(settle(active, free, idle, null, at("2027-06-15T00:00:00.000Z")).state).toMatchObject({
      status: "active",
      currentPeriodStart: "2027-05-31T10:00:00.000Z",
      currentPeriodEnd: "2027-06-30T10:00:00.000Z",
    });
  });

  it("a free plan's trial ends into its first free period, not paused", () => {
    const trialing = decide(null, { ...free, trialDays: 14 }, { type: "subscribe" }, at("2027-01-01T00:00:00.000Z")).state;
    expect(settle(trialing, free, idle, null, at("2027-01-20T00:00:00.000Z")).state).toMatchObject({
      status: "active",
      currentPeriodStart: "2027-01-15T00:00:00.000Z",
      currentPeriodEnd: "2027-02-15T00:00:00.000Z",
    });
  });
});

describe("two collections for one period (competing-collections)", () => {
  // Every combination of the facts: what a collection and a provider's resubmission do.
  const facts = [null, "attempt-1"].flatMap((paidBy) => ([null, "same_period", "other_period"] as const).map((otherOpen) => ({ paidBy, otherOpen })));
  const expected: Record<string, [ReturnType<typeof collected>, ReturnType<typeof resubmitted>]> = {
    "false,null": [{ duplicate: false, supersedeOther: false }, { reopen: true, supersedeOther: false }],
    "false,same_period": [{ duplicate: false, supersedeOther: true }, { reopen: true, supersedeOther: true }],
    "false,other_period": [{ duplicate: false, supersedeOther: false }, { reopen: false, setAside: "other_payment_in_flight" }],
    "true,null": [{ duplicate: true, supersedeOther: false }, { reopen: false, setAside: "period_already_paid" }],
    "true,same_period": [{ duplicate: true, supersedeOther: false }, { reopen: false, setAside: "period_already_paid" }],
    "true,other_period": [{ duplicate: true, supersedeOther: false }, { reopen: false, setAside: "period_already_paid" }],
  };
  it.each(facts)("period paid by: $paidBy, other open: $otherOpen", (f) => {
    const [whenCollected, whenResubmitted] = expected[`${f.paidBy !== null},${f.otherOpen}`]!;
    expect(collected(f)).toEqual(whenCollected);
    expect(resubmitted(f)).toEqual(whenResubmitted);
    // Its subscription ended: never reopened; one we set aside already keeps its reason.
    expect(resubmitted({ ...f, ended: true })).toEqual(whenResubmitted.reopen ? { reopen: false, setAside: "subscription_ended" } : whenResubmitted);
    expect(resubmitted({ ...f, setAside: true, ended: f.paidBy === null })).toEqual({ reopen: false });
  });

  it("a collected payment resubmitted (its collection reversed first) follows the same rules: while the next period's renewal is in flight it is set aside, never open beside it (issue 11, overlap)", () => {
    expect(resubmitted({ paidBy: null, otherOpen: "other_period" })).toEqual({ reopen: false, setAside: "other_payment_in_flight" });
    expect(moneyEvent({ status: "succeeded", reversal: null, moneyEventAt: null }, "resubmitted", "2027-03-08T00:00:00.000Z").effect).toBe("reverse_reopen");
  });

  // One payment's money events, each newer than what the attempt recorded: every attempt status ×
  // reversal fact × event. Cells: effect, then the reversal fact written ("=" unchanged, "none" cleared).
  // A collection is recorded on an attempt in any state but succeeded; a late failure or a
  // resubmission of a collection takes it back (the resubmission: in flight again). A failure or a
  // cancel fails only an open attempt: one already failed keeps its cause and retry (L4).
  const MONEY_TABLE: Record<string, Record<MoneyEvent, string>> = {
    "pending, none": { collected: "collect =", failed: "fail =", resubmitted: "record =", reversed: "reverse reversed", settled: "reverse reversed", reinstated: "collect reinstated", cancelled: "fail =" },
    "processing, none": { collected: "collect =", failed: "fail =", resubmitted: "record =", reversed: "reverse reversed", settled: "reverse reversed", reinstated: "collect reinstated", cancelled: "fail =" },
    "succeeded, none": { collected: "record =", failed: "reverse reversed", resubmitted: "reverse_reopen reversed", reversed: "reverse reversed", settled: "reverse reversed", reinstated: "record reinstated", cancelled: "reverse reversed" },
    "succeeded, reinstated": { collected: "record =", failed: "reverse reversed", resubmitted: "reverse_reopen reversed", reversed: "reverse reversed", settled: "- =", reinstated: "record =", cancelled: "reverse reversed" },
    "succeeded, reversed": { collected: "record =", failed: "reverse =", resubmitted: "reverse_reopen =", reversed: "reverse =", settled: "- =", reinstated: "record reinstated", cancelled: "reverse =" },
    "failed, none": { collected: "collect =", failed: "record =", resubmitted: "reopen =", reversed: "reverse reversed", settled: "reverse reversed", reinstated: "collect reinstated", cancelled: "record =" },
    "failed, reversed": { collected: "collect none", failed: "record =", resubmitted: "reopen =", reversed: "record =", settled: "- =", reinstated: "collect reinstated", cancelled: "record =" },
    "canceled, none": { collected: "collect =", failed: "record =", resubmitted: "reopen =", reversed: "reverse reversed", settled: "reverse reversed", reinstated: "collect reinstated", cancelled: "record =" },
  };
  const LATER = "2027-02-12T09:00:00.000Z";
  const EARLIER = "2027-02-11T09:00:00.000Z";
  // The same events when they happened before the newest one the attempt recorded: overtaken, nothing,
  // except a collection, which what came after it took back (applied with its reversal, once).
  const OVERTAKEN_COLLECTION: Record<string, string> = {
    "pending, none": "reverse_reopen reversed",
    "processing, none": "reverse_reopen reversed",
    "failed, none": "reverse reversed",
    "canceled, none": "reverse_cancel reversed",
  };
  const cells = Object.entries(MONEY_TABLE).flatMap(([row, cells]) => Object.entries(cells).map(([event, cell]) => [row, event, cell] as const));
  it.each(cells)("a %s attempt takes %s: %s", (row, event, cell) => {
    const [status, fact] = row.split(", ") as [PaymentAttemptStatus, string];
    const reversal = fact === "none" ? null : (fact as PaymentReversal);
    const [effect, written] = cell.split(" ");
    const expected = { effect: effect === "-" ? null : effect, reversal: written === "=" ? reversal : written === "none" ? null : written };
    // Its time is recorded, except a settlement's (below).
    const keeps = event === "settled" && effect === "reverse";
    expect(moneyEvent({ status, reversal, moneyEventAt: EARLIER }, event as MoneyEvent, LATER)).toEqual({ ...expected, moneyEventAt: keeps ? EARLIER : LATER });
    // Nothing recorded yet: the same, except after a settlement (it records no time), below.
    if (row !== "failed, reversed") expect(moneyEvent({ status, reversal, moneyEventAt: null }, event as MoneyEvent, LATER)).toEqual({ ...expected, moneyEventAt: keeps ? null : LATER });
    // The same event at the same time as the newest one recorded is not older: it applies.
    expect(moneyEvent({ status, reversal, moneyEventAt: LATER }, event as MoneyEvent, LATER)).toMatchObject(expected);
  });
  it("a settlement records no time: the chargeback and cancellation before it still apply; the collection it took back does not", () => {
    expect(moneyEvent({ status: "succeeded", reversal: null, moneyEventAt: EARLIER }, "settled", LATER)).toEqual({ effect: "reverse", reversal: "reversed", moneyEventAt: EARLIER });
    expect(moneyEvent({ status: "processing", reversal: null, moneyEventAt: null }, "settled", LATER)).toEqual({ effect: "reverse", reversal: "reversed", moneyEventAt: null });
    expect(moneyEvent({ status: "failed", reversal: "reversed", moneyEventAt: null }, "collected", EARLIER)).toEqual({ effect: null, reversal: "reversed", moneyEventAt: EARLIER });
  });
  it.each(cells)("a %s attempt takes %s that happened before the newest event it recorded", (row, event) => {
    const [status, fact] = row.split(", ") as [PaymentAttemptStatus, string];
    const reversal = fact === "none" ? null : (fact as PaymentReversal);
    const [effect, written] = ((event === "collected" && OVERTAKEN_COLLECTION[row]) || "- =").split(" ");
    expect(moneyEvent({ status, reversal, moneyEventAt: LATER }, event as MoneyEvent, EARLIER)).toEqual({ effect: effect === "-" ? null : effect, reversal: written === "=" ? reversal : written, moneyEventAt: LATER });
  });

  /** The attempt status and reversal fact after one payment's events (name@minute) arrive in `order`. */
  function finalStatus(order: readonly string[]): string {
    let attempt: { status: PaymentAttemptStatus; reversal: PaymentReversal | null; moneyEventAt: string | null } = { status: "processing", reversal: null, moneyEventAt: null };
    for (const item of order) {
      const [event, minute] = item.split("@") as [MoneyEvent, string];
      const at = new Date(Date.UTC(2027, 1, 10, 9, Number(minute))).toISOString();
      const { effect, reversal, moneyEventAt } = moneyEvent(attempt, event, at);
      if (effect === null) continue;
      const moved = { collect: "succeeded", fail: "failed", reverse: "failed", reopen: "processing", reverse_reopen: "processing", reverse_cancel: "canceled", record: attempt.status } as const;
      attempt = { status: moved[effect], reversal, moneyEventAt };
    }
    return `${attempt.status}, ${attempt.reversal ?? "none"}`;
  }
  const permutations = <T,>(items: readonly T[]): T[][] =>
    items.length <= 1 ? [[...items]] : items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));

  it.each([
    // GoCardless's order (minutes): confirmed, a late failure, its resubmission, the resubmission's confirmed and paid_out.
    [["collected@1", "failed@2", "resubmitted@3", "collected@4", "collected@5"], "succeeded, none"],
    // Collected, then a late failure only: the collection is taken back.
    [["collected@1", "failed@2"], "failed, reversed"],
    // A late failure, resubmitted, and the resubmission fails too.
    [["collected@1", "failed@2", "resubmitted@3", "failed@4"], "failed, reversed"],
    // A normal failure, resubmitted and collected.
    [["failed@1", "resubmitted@2", "collected@3"], "succeeded, none"],
    // Charged back; charged back and cancelled; charged back, settled; settled, its chargeback lost.
    [["collected@1", "reversed@2"], "failed, reversed"],
    [["collected@1", "reversed@2", "reinstated@3"], "succeeded, reinstated"],
    [["collected@1", "reversed@2", "settled@3"], "failed, reversed"],
    [["collected@1", "settled@3"], "failed, reversed"],
    // Paid out too; a settlement after the cancelled chargeback changes nothing (a settlement
    // arriving first must not make the chargeback and its cancellation look overtaken).
    [["collected@1", "collected@2", "reversed@3", "settled@4"], "failed, reversed"],
    [["collected@2", "reversed@9", "reinstated@10", "settled@11"], "succeeded, reinstated"],
    [["collected@1", "collected@2", "reversed@3", "reinstated@4", "settled@5"], "succeeded, reinstated"],
    // A failure, resubmitted, then cancelled by GoCardless (final: the resubmission never reopens it;
    // a failed collection, retried on the schedule); the same after a late failure (the collection stays taken back).
    [["failed@1", "resubmitted@2", "cancelled@3"], "failed, none"],
    [["collected@1", "failed@2", "resubmitted@3", "cancelled@4"], "failed, reversed"],
    // A chargeback cancelled, then charged back again for good.
    [["collected@1", "reversed@2", "reinstated@3", "reversed@4", "settled@5"], "failed, reversed"],
  ] as const)("one payment's events %j end the same in every arrival order: %s", (events, status) => {
    for (const order of permutations(events)) expect({ order, status: finalStatus(order) }).toEqual({ order, status });
  });

  it("a duplicate collection is owed back in every status and changes nothing else", () => {
    for (const status of ["incomplete", "active", "past_due", "unpaid", "canceled"] as const) {
      const before = state({ status });
      expect(decide(before, monthly, { type: "payment_duplicated" }, at("2027-02-10T00:00:00.000Z"))).toEqual({ state: before, effects: [{ type: "refund_due" }] });
    }
  });
});

describe("resumedRenewal: the next period's attempt a resume changes (docs ¹¹)", () => {
  const canceledAt = "2027-02-20T00:00:00.000Z";
  const setAside: RenewalOnResume = { status: "canceled", failureCode: "subscription_ended", refundDue: 0, providerCancel: "due", moneyEventAt: null, failureMessage: null };
  const collected: RenewalOnResume = { status: "succeeded", failureCode: null, refundDue: 1, providerCancel: "due", moneyEventAt: "2027-02-21T00:00:00.000Z", failureMessage: null };
  it.each<[string, RenewalOnResume, boolean, boolean]>([
    ["collected anyway, owed back: pays the period", collected, false, true],
    ["collected anyway, another attempt open: pays the period all the same", collected, true, true],
    ["collected and already refunded by an operator: nothing", { ...collected, refundDue: 0 }, false, false],
    ["set aside, its cancel not sent yet: open again", setAside, false, true],
    ["set aside, its cancel refused (it goes ahead): open again", { ...setAside, providerCancel: "cancellation_failed" }, false, true],
    ["set aside, resubmitted before the cancel: open again", { ...setAside, moneyEventAt: "2027-02-19T00:00:00.000Z" }, false, true],
    ["set aside, cancelled at GoCardless: the engine collects anew", { ...setAside, providerCancel: "cancelled" }, false, false],
    ["set aside, its cancel answered 404 (GoCardless holds no such payment): the engine collects anew", { ...setAside, providerCancel: "cancellation_failed", failureMessage: "cancel: resource_not_found: Resource not found" }, false, false],
    ["set aside, never held at GoCardless: the engine collects anew", { ...setAside, providerCancel: null }, false, false],
    ["set aside, failed (or cancelled) at GoCardless after the cancel: the engine collects anew", { ...setAside, moneyEventAt: "2027-02-21T00:00:00.000Z" }, false, false],
    ["set aside, another attempt open: left set aside (one open attempt per subscription)", setAside, true, false],
    ["set aside for another reason (the period paid by another attempt): nothing", { ...setAside, failureCode: "period_already_paid" }, false, false],
    ["failed: nothing", { ...setAside, status: "failed", failureCode: "insufficient_funds" }, false, false],
  ])("%s", (_name, attempt, otherOpen, changed) => {
    expect(resumedRenewal([attempt], otherOpen, canceledAt)).toBe(changed ? attempt : undefined);
  });

  it("none of several changes nothing; the one that applies is found among them", () => {
    expect(resumedRenewal([], false, canceledAt)).toBeUndefined();
    const cancelled = { ...setAside, providerCancel: "cancelled" as const };
    expect(resumedRenewal([cancelled, setAside], false, canceledAt)).toBe(setAside);
  });
});
