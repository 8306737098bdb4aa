import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { BILLING_POLICY, HOUR_MS } from "../../src/billing/lifecycle/billing-policy";
import { loadFingerprintKey } from "../../src/billing/token-fingerprint";
import { applyBillingEvent, type ApplyContext } from "../../src/billing/webhooks/apply-billing-event";
import type { BillingEvent } from "../../src/billing/webhooks/billing-event";
import { createDb } from "../../src/db/create-db";
import { signIn, signedInUser, type TestUser } from "../support/auth-session";
import { api } from "../support/billing-api";
import { addActiveToken, seedPlan, setSubscriptionState, startPayment, subscribe } from "../support/billing-setup";
import { migrateToLatest } from "../support/migrate-to-latest";
import { paymentConfirmed, sendWebhook } from "../support/webhook-signer";

// The lifecycle through the API: time events applied on read, resume,
// entitlements, and the provider's cancel / reversal / reinstatement events
// (applied in-process here; gocardless-webhook-events.test.ts sends GoCardless's own events).

let plans = 0;
async function freshUserAndPlan(overrides: Parameters<typeof seedPlan>[1] = {}): Promise<{ user: TestUser; planCode: string }> {
  const planCode = `life-${++plans}`;
  await seedPlan(planCode, { amountMinor: 900, interval: "day", intervalCount: 30, ...overrides });
  const user = await signedInUser(`${planCode}-${crypto.randomUUID().slice(0, 6)}@example.com`);
  await addActiveToken(user);
  return { user, planCode };
}
const read = async (user: TestUser, id: string) => (await api(`/api/billing/subscriptions/${id}`, { user })).body.subscription;
const entitlements = async (user: TestUser) => (await api("/api/billing/entitlements", { user })).body.entitlements;
const attempt = async (id: string) => (await env.DB.prepare("select status, failureCode, refundDue from payment_attempts where id = ?").bind(id).first())!;

function apply(event: BillingEvent): Promise<string> {
  const context: ApplyContext = { db: createDb(env.DB), d1: env.DB, provider: "gocardless", fingerprintKey: () => loadFingerprintKey(env.TOKEN_FINGERPRINT_KEY), now: new Date() };
  return applyBillingEvent(context, event);
}
const paymentRef = (attemptId: string, providerPaymentId: string) => ({ eventId: `EV-${crypto.randomUUID()}`, paymentAttemptId: attemptId, providerPaymentId });

beforeAll(async () => {
  await migrateToLatest(env.DB);
});
afterEach(() => {
  vi.useRealTimers();
});

describe("entitlements", () => {
  it("none while incomplete; until the period's end once paid; none for another user", async () => {
    const { user, planCode } = await freshUserAndPlan();
    const id = await subscribe(user, planCode);
    expect(await entitlements(user)).toEqual([]);
    const paid = await startPayment(user, id);
    await sendWebhook([paymentConfirmed(paid.id)]);
    const subscription = await read(user, id);
    expect(await entitlements(user)).toEqual([{ subscriptionId: id, planId: subscription.planId, planCode, status: "active", until: subscription.currentPeriodEnd }]);
    const other = await signedInUser(`other-${crypto.randomUUID().slice(0, 6)}@example.com`);
    expect(await entitlements(other)).toEqual([]);
    expect((await api("/api/billing/entitlements")).status).toBe(401);
  });

  it("a period that ended unpaid: the grace while past_due, then never again — even before anything wrote the new status", async () => {
    const { user, planCode } = await freshUserAndPlan();
    const id = await subscribe(user, planCode);
    await sendWebhook([paymentConfirmed((await startPayment(user, id)).id)]);
    const ended = await setSubscriptionState(id, { periodEndsInDays: -1 });
    // Stored status still says active; the entitlement reads the period and now.
    const inGrace = await entitlements(user);
    expect(inGrace).toEqual([expect.objectContaining({ status: "past_due" })]);
    expect(Date.parse(inGrace[0].until) - Date.parse(ended.currentPeriodEnd)).toBe(BILLING_POLICY.pastDueGraceDays * 24 * HOUR_MS);
    await setSubscriptionState(id, { periodEndsInDays: -BILLING_POLICY.pastDueGraceDays - 1, status: "active" });
    expect(await entitlements(user)).toEqual([]);
    expect(await env.DB.prepare("select status from user_subscriptions where id = ?").bind(id).first("status")).toBe("active");
  });
});

describe("time events applied on read", () => {
  it("an incomplete subscription with nothing in flight expires at its deadline; a submitted payment keeps it waiting", async () => {
    const { user, planCode } = await freshUserAndPlan();
    const { user: patient, planCode: otherPlan } = await freshUserAndPlan();
    const idle = await subscribe(user, planCode);
    const waiting = await subscribe(patient, otherPlan);
    await startPayment(patient, waiting);

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date(Date.now() + BILLING_POLICY.incompleteDeadlineHours * HOUR_MS + 1000));
    const [fresh, freshPatient] = [await signIn(user), await signIn(patient)];
    expect(await read(fresh, idle)).toMatchObject({ status: "incomplete_expired", endedAt: new Date().toISOString() });
    expect((await read(freshPatient, waiting)).status).toBe("incomplete");
    // Expired is over: a new subscription to the plan is allowed.
    expect((await api("/api/billing/subscriptions", { user: fresh, json: { planCode } })).status).toBe(201);
  });
});

describe("resume", () => {
  it("undoes cancel-at-period-end while the period runs; refused (409 INVALID_TRANSITION) when nothing is pending", async () => {
    const { user, planCode } = await freshUserAndPlan();
    const id = await subscribe(user, planCode);
    await sendWebhook([paymentConfirmed((await startPayment(user, id)).id)]);
    expect((await api(`/api/billing/subscriptions/${id}/cancel`, { user, json: { atPeriodEnd: true } })).body.subscription.cancelAtPeriodEnd).toBe(true);
    const resumed = await api(`/api/billing/subscriptions/${id}/resume`, { user, method: "POST" });
    expect(resumed.status).toBe(200);
    expect(resumed.body.subscription).toMatchObject({ status: "active", cancelAtPeriodEnd: false, canceledAt: null });
    const again = await api(`/api/billing/subscriptions/${id}/resume`, { user, method: "POST" });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: "INVALID_TRANSITION", details: { status: "active", event: "resume" } });
  });
});

describe("provider events after the outcome", () => {
  it("payment cancelled by the provider: attempt failed (a collection that did not happen), subscription unchanged, a new payment can start", async () => {
    const { user, planCode } = await freshUserAndPlan();
    const id = await subscribe(user, planCode);
    const open = await startPayment(user, id);
    expect(await apply({ kind: "payment_canceled", eventType: "payments.cancelled", failureCode: "mandate_cancelled", failureMessage: "The mandate was cancelled.", ...paymentRef(open.id, `PM-${open.id.slice(0, 8)}`) })).toBe("applied");
    expect(await attempt(open.id)).toMatchObject({ status: "failed", failureCode: "mandate_cancelled" });
    expect((await read(user, id)).status).toBe("incomplete");
    await startPayment(user, id);
  });

  it("a chargeback reopens the debt (past_due, reason on the attempt); its reversal pays the period again", async () => {
    const { user, planCode } = await freshUserAndPlan();
    const id = await subscribe(user, planCode);
    const first = await startPayment(user, id);
    await sendWebhook([paymentConfirmed(first.id, `PM-${first.id.slice(0, 8)}`)]);
    const paid = await read(user, id);

    const reversed = await apply({ kind: "payment_reversed", eventType: "payments.charged_back", failureCode: "charged_back", failureMessage: "The customer disputed the payment.", ...paymentRef(first.id, `PM-${first.id.slice(0, 8)}`) });
    expect(reversed).toBe("applied");
    expect(await attempt(first.id)).toMatchObject({ status: "failed", failureCode: "charged_back", refundDue: 0 });
    const reopened = await read(user, id);
    expect(reopened).toMatchObject({ status: "past_due", currentPeriodEnd: paid.currentPeriodStart });
    // Its first payment: no period before it was paid, so no past-due grace either (issue 11).
    expect(await entitlements(user)).toEqual([]);

    expect(await apply({ kind: "payment_reinstated", eventType: "payments.chargeback_cancelled", ...paymentRef(first.id, `PM-${first.id.slice(0, 8)}`) })).toBe("applied");
    expect(await read(user, id)).toMatchObject({ status: "active", currentPeriodStart: paid.currentPeriodStart, currentPeriodEnd: paid.currentPeriodEnd });
  });
});
