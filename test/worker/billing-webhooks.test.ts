import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { BILLING_POLICY } from "../../src/billing/lifecycle/billing-policy";
import { app } from "../../src/app";
import { ORIGIN, signedInUser, type TestUser } from "../support/auth-session";
import { api, billingSnapshot } from "../support/billing-api";
import { addActiveToken, seedPlan, setSubscriptionState, startPayment, subscribe } from "../support/billing-setup";
import { migrateToLatest } from "../support/migrate-to-latest";
import { paymentConfirmed, paymentFailed, sendWebhook, signatureHeader } from "../support/webhook-signer";

// The provider's side of billing: signed GoCardless-style events through
// POST /api/billing/webhooks/:provider, on a real local D1.

const DAY_MS = 24 * 60 * 60 * 1000;
let carol: TestUser;
let subscriptionId: string;

async function attemptRow(id: string) {
  return env.DB.prepare("select * from payment_attempts where id = ?").bind(id).first<Record<string, any>>();
}
async function subscriptionStatus(): Promise<string> {
  return (await env.DB.prepare("select status from user_subscriptions where id = ?").bind(subscriptionId).first<{ status: string }>())!.status;
}
/** Starts carol's next payment once it is due: her period is moved to end tomorrow first (each success advances it). */
async function startRenewal(key?: string) {
  await setSubscriptionState(subscriptionId, { periodEndsInDays: 1 });
  return startPayment(carol, subscriptionId, key);
}

beforeAll(async () => {
  await migrateToLatest(env.DB);
  await seedPlan("weekly", { amountMinor: 700, interval: "week", intervalCount: 2 });
});
// Every test gets its own customer: none depends on what another left behind.
beforeEach(async () => {
  carol = await signedInUser(`carol-${crypto.randomUUID()}@example.com`);
  subscriptionId = await subscribe(carol, "weekly");
  await addActiveToken(carol);
});

describe("signatures", () => {
  // GoCardless's own published example is checked in gocardless-webhook-signature.test.ts.
  const cases: [string, (body: string) => Promise<Record<string, unknown>>][] = [
    ["no signature header", async () => ({ signature: null })],
    ["an empty header", async () => ({ signature: "" })],
    ["garbage", async () => ({ signature: "sha256=deadbeef" })],
    ["the wrong secret", async () => ({ secret: "whsec_not_the_right_one" })],
    ["a signature of another body", async () => ({ signature: await signatureHeader('{"events":[]}') })],
    ["an upper-cased hex signature", async (body) => ({ signature: (await signatureHeader(body)).toUpperCase() })],
    ["a Stripe-style t=…,v1=… header", async (body) => ({ signature: `t=${Math.floor(Date.now() / 1000)},v1=${await signatureHeader(body)}` })],
  ];

  it.each(cases)("refuses %s: 498 INVALID_SIGNATURE and nothing changes", async (_name, options) => {
    const attempt = await startRenewal(`sig-${crypto.randomUUID()}`);
    const events = [paymentConfirmed(attempt.id)];
    const rawBody = JSON.stringify({ events });
    const before = await billingSnapshot();

    const response = await sendWebhook(events, { rawBody, ...(await options(rawBody)) });

    expect(response.status).toBe(498);
    expect(await response.json()).toEqual({ error: { code: "INVALID_SIGNATURE", message: expect.any(String) } });
    expect(await billingSnapshot()).toEqual(before);
    // The same body with a good signature is accepted: only the signature was wrong.
    expect((await sendWebhook(events)).status).toBe(200);
    expect((await attemptRow(attempt.id))!.status).toBe("succeeded");
  });

  it("accepts either secret while WEBHOOK_SECRET_GOCARDLESS lists two (rotation); none configured is 500", async () => {
    const attempt = await startRenewal();
    const rawBody = JSON.stringify({ events: [paymentConfirmed(attempt.id)] });
    const post = (bindings: object, signature: string) =>
      app.fetch(
        new Request(`${ORIGIN}/api/billing/webhooks/gocardless`, {
          method: "POST",
          body: rawBody,
          headers: { "content-type": "application/json", "Webhook-Signature": signature },
        }),
        { ...env, ...bindings },
      );
    const rotating = { WEBHOOK_SECRET_GOCARDLESS: "whsec_new_secret, whsec_old_secret" };
    expect((await post(rotating, await signatureHeader(rawBody, { secret: "whsec_nobody" }))).status).toBe(498);
    const unconfigured = await post({ WEBHOOK_SECRET_GOCARDLESS: "" }, await signatureHeader(rawBody));
    expect(unconfigured.status).toBe(500);
    expect(((await unconfigured.json()) as any).error.code).toBe("WEBHOOK_NOT_CONFIGURED");
    expect((await post(rotating, await signatureHeader(rawBody, { secret: "whsec_old_secret" }))).status).toBe(200);
    expect((await attemptRow(attempt.id))!.status).toBe("succeeded");
  });

  it("an unknown provider is 404", async () => {
    const response = await sendWebhook([], { provider: "stripe" });
    expect(response.status).toBe(404);
    expect(((await response.json()) as any).error.code).toBe("NOT_FOUND");
  });
});

describe("events", () => {
  it("a signed body of another shape is 400 and changes nothing", async () => {
    const before = await billingSnapshot();
    const notJson = await sendWebhook([], { rawBody: "{not json" });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as any).error.code).toBe("INVALID_JSON");
    const noEvents = await sendWebhook([], { rawBody: JSON.stringify({ events: "none" }) });
    expect(noEvents.status).toBe(400);
    expect(((await noEvents.json()) as any).error).toMatchObject({ code: "VALIDATION_FAILED", details: { fields: [{ path: "events" }] } });
    // (An event that has the shape but values the database would refuse is
    // ignored or clamped instead: billing-webhook-poison.test.ts.)
    expect(await billingSnapshot()).toEqual(before);
  });

  it("an event without a string id (or type) does not refuse its delivery: the others apply, it is recorded as ignored under a stand-in id and logged once; a redelivery is all duplicates", async () => {
    const attempt = await startPayment(carol, subscriptionId);
    const odd = [
      { resource_type: "payments", action: "confirmed", links: { payment: "PM-NOID" }, resource_metadata: { payment_attempt_id: attempt.id } },
      { id: 42, resource_type: "payments", action: "confirmed", links: { payment: "PM-NUMID" }, resource_metadata: { payment_attempt_id: attempt.id } },
      { id: "EV-NOTYPE", links: { payment: "PM-NOTYPE" } },
    ];
    const rawBody = JSON.stringify({ events: [...odd, paymentConfirmed(attempt.id, "PM-GOOD")] });
    const warnings: string[] = [];
    const warn = vi.spyOn(console, "warn").mockImplementation((line: string) => void warnings.push(line));
    try {
      const response = await sendWebhook([], { rawBody });
      expect(response.status).toBe(200);
      const { results } = (await response.json()) as { results: { eventId: string; outcome: string }[] };
      expect(results.map((result) => result.outcome)).toEqual(["ignored", "ignored", "ignored", "applied"]);
      expect(results.slice(0, 2).map((result) => result.eventId)).toEqual([expect.stringMatching(/^sha256:[0-9a-f]{64}$/), expect.stringMatching(/^sha256:[0-9a-f]{64}$/)]);
      expect(results[0]!.eventId).not.toBe(results[1]!.eventId);
      expect(warnings.filter((line) => line.includes("sha256:"))).toHaveLength(2);
      expect(await attemptRow(attempt.id)).toMatchObject({ status: "succeeded", providerPaymentId: "PM-GOOD" });
      const again = await sendWebhook([], { rawBody });
      expect(((await again.json()) as any).results.map((result: any) => result.outcome)).toEqual(["duplicate", "duplicate", "duplicate", "duplicate"]);
    } finally {
      warn.mockRestore();
    }
  });

  it("events billing does not act on, or about unknown payments, are recorded as ignored and acknowledged", async () => {
    const response = await sendWebhook([
      { id: "EV-PAIDOUT", resource_type: "payments", action: "paid_out", links: { payment: "PM-X" } },
      { id: "EV-CREDITOR", resource_type: "creditors", action: "updated", links: { creditor: "CR-1" } },
      paymentConfirmed("no-such-attempt"),
    ]);
    expect(response.status).toBe(200);
    const { results } = (await response.json()) as { results: { outcome: string }[] };
    expect(results.map((result) => result.outcome)).toEqual(["ignored", "ignored", "ignored"]);
    const rows = await env.DB.prepare("select eventType, outcome from billing_webhook_events where eventId in ('EV-PAIDOUT','EV-CREDITOR') order by eventId").all();
    expect(rows.results).toEqual([
      { eventType: "creditors.updated", outcome: "ignored" },
      { eventType: "payments.paid_out", outcome: "ignored" },
    ]);
  });

  it("the same event delivered 5 times at once is applied exactly once", async () => {
    const attempt = await startRenewal();
    const event = paymentFailed(attempt.id);
    const before = (await env.DB.prepare("select count(*) as n from billing_webhook_events").first<{ n: number }>())!.n;

    const responses = await Promise.all(Array.from({ length: 5 }, () => sendWebhook([event], { concurrent: true })));

    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    const outcomes = await Promise.all(responses.map(async (r) => ((await r.json()) as any).results[0].outcome));
    expect(outcomes.filter((outcome) => outcome === "applied")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === "duplicate")).toHaveLength(4);
    const after = (await env.DB.prepare("select count(*) as n from billing_webhook_events").first<{ n: number }>())!.n;
    expect(after - before).toBe(1);
    expect((await attemptRow(attempt.id))!.status).toBe("failed");
  });

  it("retries follow the schedule (+1, +3, +7 days); when it has run out and the period ends the subscription is unpaid; a success reactivates it", async () => {
    // Carol has paid once: her subscription is active, and its renewals fail.
    await sendWebhook([paymentConfirmed((await startPayment(carol, subscriptionId)).id)]);
    const first = await startRenewal();
    await sendWebhook([paymentFailed(first.id, "refer_to_payer")]);
    expect((await attemptRow(first.id))!).toMatchObject({ attemptNumber: 1, status: "failed" });
    const seen: { attemptNumber: number; retryInDays: number | null }[] = [];
    for (let i = 0; i < BILLING_POLICY.retryDelaysDays.length; i++) {
      const attempt = await startPayment(carol, subscriptionId);
      const failedAt = Date.now();
      await sendWebhook([paymentFailed(attempt.id, "refer_to_payer")]);
      const row = (await attemptRow(attempt.id))!;
      seen.push({
        attemptNumber: row.attemptNumber,
        retryInDays: row.nextRetryAt === null ? null : Math.round((Date.parse(row.nextRetryAt) - failedAt) / DAY_MS),
      });
    }
    expect(seen).toEqual([
      { attemptNumber: 2, retryInDays: BILLING_POLICY.retryDelaysDays[1] },
      { attemptNumber: 3, retryInDays: BILLING_POLICY.retryDelaysDays[2] },
      { attemptNumber: 4, retryInDays: null },
    ]);
    // The period carol paid for still runs: failed renewals do not end it.
    expect(await subscriptionStatus()).toBe("active");
    // Once it ends, with the schedule used up, the next read makes it unpaid (past_due, then exhausted).
    await setSubscriptionState(subscriptionId, { periodEndsInDays: -1 });
    expect((await api(`/api/billing/subscriptions/${subscriptionId}`, { user: carol })).body.subscription.status).toBe("unpaid");
    expect(await subscriptionStatus()).toBe("unpaid");

    // Suspended for a while: the period paid before is long over.
    await setSubscriptionState(subscriptionId, { periodEndsInDays: -30 });
    const attempt = await startPayment(carol, subscriptionId);
    expect(attempt.attemptNumber).toBe(5);
    const before = new Date().toISOString();
    await sendWebhook([paymentConfirmed(attempt.id)]);
    const after = new Date().toISOString();
    expect(await subscriptionStatus()).toBe("active");
    // The paid period starts at the payment, not at the end of the old one.
    const period = (await env.DB.prepare("select currentPeriodStart, currentPeriodEnd from user_subscriptions where id = ?").bind(subscriptionId).first<{ currentPeriodStart: string; currentPeriodEnd: string }>())!;
    expect(period.currentPeriodStart >= before && period.currentPeriodStart <= after).toBe(true);
    expect(Date.parse(period.currentPeriodEnd) - Date.parse(period.currentPeriodStart)).toBe(14 * DAY_MS);
    expect((await startRenewal()).attemptNumber).toBe(1);
  });

  it("the period advances by the plan's interval × intervalCount (2 weeks)", async () => {
    // A renewal of a subscription already paid for once (the first payment starts its period at the payment).
    await sendWebhook([paymentConfirmed((await startRenewal()).id)]);
    const attempt = await startRenewal();
    const before = await env.DB.prepare("select currentPeriodEnd from user_subscriptions where id = ?").bind(subscriptionId).first<{ currentPeriodEnd: string }>();
    const { paymentAttempts } = (await api("/api/billing/payment-attempts?limit=1", { user: carol })).body;
    expect(paymentAttempts[0].id).toBe(attempt.id);
    await sendWebhook([paymentConfirmed(attempt.id)]);
    const after = await env.DB.prepare("select currentPeriodStart, currentPeriodEnd from user_subscriptions where id = ?").bind(subscriptionId).first<{ currentPeriodStart: string; currentPeriodEnd: string }>();
    expect(after!.currentPeriodStart).toBe(before!.currentPeriodEnd);
    expect(Date.parse(after!.currentPeriodEnd) - Date.parse(after!.currentPeriodStart)).toBe(14 * DAY_MS);
  });
});
