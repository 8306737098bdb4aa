import { describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../src/billing/lifecycle/billing-policy";
import type { LifecycleState } from "../../src/billing/lifecycle/decide";
import { dueTimeEvent, mayHaveDueTimeEvent, type PaymentFacts } from "../../src/billing/lifecycle/due-time-event";
import { SUBSCRIPTION_STATUSES } from "../../src/db/billing-enums";

// mayHaveDueTimeEvent lets a read skip the payment facts: it must say true
// whenever some facts make an event due, and false only when none do.

const createdAt = "2027-01-30T09:00:00.000Z";
const periodEnd = "2027-02-28T10:00:00.000Z";
const at = (iso: string, ms = 0) => new Date(Date.parse(iso) + ms);
const NOWS = [at(createdAt, HOUR_MS), at(periodEnd, -1), at(periodEnd), at(createdAt, 7 * DAY_MS), at(periodEnd, 3 * DAY_MS), at(periodEnd, 60 * DAY_MS)];
const FACTS: PaymentFacts[] = [false, true].flatMap((paymentInFlight) =>
  [false, true].flatMap((retriesExhausted) =>
    [null, at(periodEnd, 2 * DAY_MS).toISOString(), at(periodEnd, 90 * DAY_MS).toISOString()].map((nextRetryAt) => ({ paymentInFlight, retriesExhausted, nextRetryAt })),
  ),
);

function state(status: LifecycleState["status"]): LifecycleState {
  return {
    status,
    currentPeriodStart: "2027-01-31T10:00:00.000Z",
    currentPeriodEnd: periodEnd,
    billingCycleAnchor: "2027-01-31T10:00:00.000Z",
    trialEndsAt: null,
    cancelAtPeriodEnd: 0,
    canceledAt: null,
    endedAt: null,
    createdAt,
  };
}

describe("mayHaveDueTimeEvent", () => {
  const cases = SUBSCRIPTION_STATUSES.flatMap((status) => NOWS.map((now) => [status, now.toISOString()] as const));
  it.each(cases)("%s at %s: true exactly when some payment facts make a time event due", (status, now) => {
    const dueForSomeFacts = FACTS.some((facts) => dueTimeEvent(state(status), facts, new Date(now)) !== null);
    expect(mayHaveDueTimeEvent(state(status), new Date(now))).toBe(dueForSomeFacts);
  });

  it("a subscription whose paid period runs on has nothing due; one whose period is over has", () => {
    expect(mayHaveDueTimeEvent(state("active"), at(periodEnd, -1))).toBe(false);
    expect(mayHaveDueTimeEvent(state("active"), at(periodEnd))).toBe(true);
  });
});
