import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { signedInUser, type TestUser } from "../support/auth-session";
import { api, billingSnapshot } from "../support/billing-api";
import { addActiveToken, seedPlan, setSubscriptionState, subscribe } from "../support/billing-setup";
import { migrateToLatest } from "../support/migrate-to-latest";
import { paymentConfirmed, sendWebhook } from "../support/webhook-signer";

// Retries never create duplicate payments: one Idempotency-Key, one attempt.
// Concurrent calls go through the Worker's app in this isolate (see
// callAppConcurrently): through exports.default.fetch they would not overlap.

let dana: TestUser;
let subscriptionId: string;
let otherSubscriptionId: string;
let tokenId: string;

function pay(key: string, init: { json?: unknown; body?: string; subscription?: string; concurrent?: boolean } = {}) {
  return api(`/api/billing/subscriptions/${init.subscription ?? subscriptionId}/payment-attempts`, {
    user: dana,
    method: "POST",
    json: init.json,
    body: init.body,
    headers: { "Idempotency-Key": key },
    concurrent: init.concurrent,
  });
}
async function attemptCount(key?: string): Promise<number> {
  const query = key
    ? env.DB.prepare("select count(*) as n from payment_attempts where idempotencyKey = ?").bind(key)
    : env.DB.prepare("select count(*) as n from payment_attempts");
  return (await query.first<{ n: number }>())!.n;
}

beforeAll(async () => {
  await migrateToLatest(env.DB);
  await seedPlan("pro", { amountMinor: 2500, currency: "GBP" });
  await seedPlan("addon", { amountMinor: 300 });
  dana = await signedInUser("dana@example.com");
  subscriptionId = await subscribe(dana, "pro");
  otherSubscriptionId = await subscribe(dana, "addon");
  tokenId = (await addActiveToken(dana)).id;
});

describe("Idempotency-Key on POST /subscriptions/:id/payment-attempts", () => {
  it("50 concurrent requests with one key and body → exactly one attempt and 50 identical responses", async () => {
    const key = crypto.randomUUID();
    const responses = await Promise.all(Array.from({ length: 50 }, () => pay(key, { json: { directDebitTokenId: tokenId }, concurrent: true })));

    expect(await attemptCount(key)).toBe(1);
    expect(await attemptCount()).toBe(1);
    expect(new Set(responses.map((response) => response.status))).toEqual(new Set([201]));
    expect(new Set(responses.map((response) => response.text)).size).toBe(1);
    expect(responses[0]!.body.paymentAttempt).toMatchObject({ amountMinor: 2500, currency: "GBP", status: "pending" });
    // 50 requests whose queries now truly interleave (no isolate-wide lock): ~5 s on a loaded 2-core machine.
  }, 20_000);

  it("the same key and an equivalent body (other formatting, other key order) answers the same", async () => {
    const key = crypto.randomUUID();
    const first = await pay(key, { subscription: otherSubscriptionId });
    const again = await pay(key, { subscription: otherSubscriptionId, body: "  {}  " });
    expect(again.status).toBe(first.status);
    expect(again.text).toBe(first.text);
    expect(await attemptCount(key)).toBe(1);
    await sendWebhook([paymentConfirmed(first.body.paymentAttempt.id)]);

    // Paid: the renewal is due once the period is about to end.
    await setSubscriptionState(otherSubscriptionId, { periodEndsInDays: 1 });
    const named = crypto.randomUUID();
    const one = await pay(named, { subscription: otherSubscriptionId, json: { directDebitTokenId: tokenId } });
    const two = await pay(named, { subscription: otherSubscriptionId, body: `{ "directDebitTokenId" :\n"${tokenId}" }` });
    expect(one.status).toBe(201);
    expect(two.text).toBe(one.text);
    await sendWebhook([paymentConfirmed(one.body.paymentAttempt.id)]);
  });

  it("the same key with another body, or for another subscription, is 409 IDEMPOTENCY_KEY_REUSED and stores nothing", async () => {
    await setSubscriptionState(otherSubscriptionId, { periodEndsInDays: 1 });
    const key = crypto.randomUUID();
    const first = await pay(key, { subscription: otherSubscriptionId, json: { directDebitTokenId: tokenId } });
    expect(first.status).toBe(201);
    const before = await billingSnapshot();

    const otherBody = await pay(key, { subscription: otherSubscriptionId });
    const otherPath = await pay(key, { subscription: subscriptionId, json: { directDebitTokenId: tokenId } });

    for (const response of [otherBody, otherPath]) {
      expect(response.status).toBe(409);
      expect(response.body).toEqual({ error: { code: "IDEMPOTENCY_KEY_REUSED", message: expect.stringMatching(/new key/) } });
    }
    expect(await billingSnapshot()).toEqual(before);
  });

  it("one key raced on two subscriptions at once: one 201, one 409, never a 500 or a second row", async () => {
    await seedPlan("race-a");
    await seedPlan("race-b");
    const [a, b] = [await subscribe(dana, "race-a"), await subscribe(dana, "race-b")];
    for (let round = 0; round < 5; round++) {
      // Whichever was paid in an earlier round: due again.
      for (const subscription of [a, b]) await setSubscriptionState(subscription, { periodEndsInDays: 1 });
      const key = `race-${round}-${crypto.randomUUID()}`;
      const responses = await Promise.all([pay(key, { subscription: a, concurrent: true }), pay(key, { subscription: b, concurrent: true })]);
      expect(responses.map((response) => response.status).sort()).toEqual([201, 409]);
      expect(responses.find((response) => response.status === 409)!.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
      expect(await attemptCount(key)).toBe(1);
      await sendWebhook([paymentConfirmed(responses.find((response) => response.status === 201)!.body.paymentAttempt.id)]);
    }
  });

  it("10 concurrent subscriptions to one plan: the partial unique index lets exactly one through", async () => {
    await seedPlan("race-subscribe");
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => api("/api/billing/subscriptions", { user: dana, json: { planCode: "race-subscribe" }, concurrent: true })),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([201, ...Array(9).fill(409)]);
    expect(new Set(responses.filter((r) => r.status === 409).map((r) => r.body.error.code))).toEqual(new Set(["SUBSCRIPTION_EXISTS"]));
    const rows = await env.DB.prepare(
      "select count(*) as n from user_subscriptions where userId = ? and planId = (select id from subscription_plans where code = 'race-subscribe')",
    ).bind(dana.id).first<{ n: number }>();
    expect(rows!.n).toBe(1);
  });

  it("a user can never set an attempt's amount, currency or outcome: such fields are refused", async () => {
    const before = await billingSnapshot();
    for (const field of [{ amountMinor: 1 }, { currency: "USD" }, { status: "succeeded" }, { failureCode: null }, { attemptNumber: 7 }]) {
      const response = await pay(crypto.randomUUID(), { subscription: subscriptionId, json: field });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: "VALIDATION_FAILED", details: { fields: [{ path: Object.keys(field)[0], message: "unknown field" }] } });
    }
    expect(await billingSnapshot()).toEqual(before);
  });

  it("no route but the signed webhook writes an attempt after creation (the route table proves it)", () => {
    const attemptRoutes = app.routes.filter((route) => /payment-attempts|webhooks/.test(route.path) && route.method !== "ALL");
    // Each guard is listed as its own handler of the route, hence the Set.
    expect([...new Set(attemptRoutes.map((route) => `${route.method} ${route.path}`))].sort()).toEqual([
      "GET /api/billing/payment-attempts",
      "GET /api/billing/payment-attempts/:id",
      "POST /api/billing/subscriptions/:id/payment-attempts",
      "POST /api/billing/webhooks/:provider",
    ]);
  });
});
