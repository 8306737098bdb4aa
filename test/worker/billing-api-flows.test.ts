import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { BILLING_POLICY } from "../../src/billing/lifecycle/billing-policy";
import { signedInUser, type TestUser } from "../support/auth-session";
import { api, billingSnapshot, planBody, seenResponseBodies, signUpOperator, tokenBodyFor } from "../support/billing-api";
import { setSubscriptionState } from "../support/billing-setup";
import { migrateToLatest } from "../support/migrate-to-latest";
import { mandateEvent, paymentConfirmed, paymentFailed, sendWebhook } from "../support/webhook-signer";

// One story per user, through the Worker on a real local D1; storage is
// shared by the tests of this file, so each step builds on the previous one.

const DAY_MS = 24 * 60 * 60 * 1000;
let operator: TestUser;
let alice: TestUser;
let bob: TestUser;
const storedTokens: string[] = [];

async function tokenRow(id: string) {
  return env.DB.prepare("select * from direct_debit_tokens where id = ?").bind(id).first<Record<string, unknown>>();
}

beforeAll(async () => {
  // Files share one module graph: this file checks only the bodies it saw itself.
  seenResponseBodies.length = 0;
  await migrateToLatest(env.DB);
  operator = await signUpOperator();
  alice = await signedInUser("alice@example.com");
  bob = await signedInUser("bob@example.com");
});

describe("plans", () => {
  it("an operator creates plans, recorded as createdBy; the public list shows active ones", async () => {
    const monthly = await api("/api/billing/plans", { user: operator, json: planBody("pro-monthly", { description: "Everything" }) });
    expect(monthly.status).toBe(201);
    expect(monthly.body.plan).toMatchObject({ code: "pro-monthly", amountMinor: 1500, currency: "EUR", interval: "month", intervalCount: 1, trialDays: 0, active: true, createdBy: operator.id });
    const trial = await api("/api/billing/plans", { user: operator, json: planBody("team-trial", { amountMinor: 900, trialDays: 14 }) });
    expect(trial.status).toBe(201);
    const retired = await api("/api/billing/plans", { user: operator, json: planBody("legacy", { active: false }) });
    expect(retired.status).toBe(201);

    const row = await env.DB.prepare("select createdBy from subscription_plans where code = 'pro-monthly'").first();
    expect(row).toEqual({ createdBy: operator.id });

    const list = await api("/api/billing/plans");
    expect(list.status).toBe(200);
    expect(list.body.plans.map((plan: { code: string }) => plan.code)).toEqual(["team-trial", "pro-monthly"]);
    expect(list.body.plans[0]).not.toHaveProperty("createdBy");
  });

  it("a user who is not an operator gets 403, and an unverified operator e-mail is not enough", async () => {
    const response = await api("/api/billing/plans", { user: alice, json: planBody("sneaky") });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe("FORBIDDEN");
    await env.DB.prepare(`update "user" set "emailVerified" = 0 where id = ?`).bind(operator.id).run();
    const unverified = await api("/api/billing/plans/pro-monthly/deactivate", { user: operator, method: "POST" });
    await env.DB.prepare(`update "user" set "emailVerified" = 1 where id = ?`).bind(operator.id).run();
    expect(unverified.status).toBe(403);
  });

  it("a duplicate code is 409 PLAN_EXISTS", async () => {
    const response = await api("/api/billing/plans", { user: operator, json: planBody("pro-monthly") });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe("PLAN_EXISTS");
  });
});

describe("alice: subscribe, add a mandate, pay, fail, retry", () => {
  let subscriptionId: string;
  let tokenId: string;
  let mandateId: string;
  let firstAttemptId: string;

  it("subscribes: incomplete until the first payment; a second live subscription to the plan is 409", async () => {
    const created = await api("/api/billing/subscriptions", { user: alice, json: { planCode: "pro-monthly" } });
    expect(created.status).toBe(201);
    expect(created.body.subscription).toMatchObject({ planCode: "pro-monthly", status: "incomplete", trialEndsAt: null, cancelAtPeriodEnd: false });
    subscriptionId = created.body.subscription.id;

    const again = await api("/api/billing/subscriptions", { user: alice, json: { planCode: "pro-monthly" } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("SUBSCRIPTION_EXISTS");

    const retired = await api("/api/billing/subscriptions", { user: alice, json: { planCode: "legacy" } });
    expect(retired.status).toBe(404);
    expect(retired.body.error.code).toBe("PLAN_NOT_FOUND");

    const mine = await api("/api/billing/subscriptions", { user: alice });
    expect(mine.body.subscriptions.map((s: { id: string }) => s.id)).toEqual([subscriptionId]);
    const one = await api(`/api/billing/subscriptions/${subscriptionId}`, { user: alice });
    expect(one.body.subscription).toEqual(created.body.subscription);
  });

  it("adds a token: stored encrypted, listed masked, pending until its mandate activates", async () => {
    const body = await tokenBodyFor(alice);
    mandateId = body.token;
    storedTokens.push(body.token);
    const created = await api("/api/billing/direct-debit-tokens", { user: alice, json: body });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body.token).sort()).toEqual(
      ["accountLast4", "bankName", "createdAt", "id", "isDefault", "mandateReference", "provider", "revokedAt", "status", "updatedAt"],
    );
    expect(created.body.token).toMatchObject({ status: "pending", isDefault: false, accountLast4: "4321", mandateReference: body.mandateReference });
    tokenId = created.body.token.id;

    const row = (await tokenRow(tokenId))!;
    expect(row.tokenKeyId).toBe("k2"); // the first key in TOKEN_ENCRYPTION_KEYS is current
    expect(String(row.tokenCiphertext)).not.toContain(body.token);
    expect(row.tokenFingerprint).toMatch(/^[0-9a-f]{64}$/);

    const duplicate = await api("/api/billing/direct-debit-tokens", { user: alice, json: { ...body, mandateReference: "OTHER" } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe("TOKEN_EXISTS");
  });

  it("cannot pay with a pending mandate", async () => {
    const noDefault = await api(`/api/billing/subscriptions/${subscriptionId}/payment-attempts`, {
      user: alice,
      method: "POST",
      headers: { "Idempotency-Key": "alice-early-1" },
    });
    expect(noDefault.status).toBe(409);
    expect(noDefault.body.error.code).toBe("NO_DEFAULT_TOKEN");
    const named = await api(`/api/billing/subscriptions/${subscriptionId}/payment-attempts`, {
      user: alice,
      json: { directDebitTokenId: tokenId },
      headers: { "Idempotency-Key": "alice-early-2" },
    });
    expect(named.status).toBe(409);
    expect(named.body.error.code).toBe("TOKEN_NOT_ACTIVE");
  });

  it("the signed mandates.active webhook activates the token and makes it the default", async () => {
    const response = await sendWebhook([mandateEvent(mandateId, "active")]);
    expect(response.status).toBe(200);
    expect((await response.json<{ results: unknown[] }>()).results).toEqual([{ eventId: expect.any(String), outcome: "applied" }]);
    const listed = await api("/api/billing/direct-debit-tokens", { user: alice });
    expect(listed.body.tokens).toEqual([expect.objectContaining({ id: tokenId, status: "active", isDefault: true })]);
  });

  it("starts a payment: pending, amount and currency from the plan, charged to the default token", async () => {
    const response = await api(`/api/billing/subscriptions/${subscriptionId}/payment-attempts`, {
      user: alice,
      method: "POST",
      headers: { "Idempotency-Key": "alice-pay-1" },
    });
    expect(response.status).toBe(201);
    expect(response.body.paymentAttempt).toMatchObject({
      subscriptionId,
      directDebitTokenId: tokenId,
      amountMinor: 1500,
      currency: "EUR",
      status: "pending",
      attemptNumber: 1,
      provider: "gocardless",
      nextRetryAt: null,
    });
    firstAttemptId = response.body.paymentAttempt.id;

    const second = await api(`/api/billing/subscriptions/${subscriptionId}/payment-attempts`, {
      user: alice,
      method: "POST",
      headers: { "Idempotency-Key": "alice-pay-other-key" },
    });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe("PAYMENT_IN_PROGRESS");
  });

  it("payments.confirmed → attempt succeeded, subscription active with a one-month period from now", async () => {
    const before = Date.now();
    const event = paymentConfirmed(firstAttemptId, "PM0001ALICE");
    const response = await sendWebhook([event]);
    expect(response.status).toBe(200);

    const attempt = await api(`/api/billing/payment-attempts/${firstAttemptId}`, { user: alice });
    expect(attempt.body.paymentAttempt).toMatchObject({ status: "succeeded", providerPaymentId: "PM0001ALICE", failureCode: null });
    const { subscription } = (await api(`/api/billing/subscriptions/${subscriptionId}`, { user: alice })).body;
    expect(subscription.status).toBe("active");
    const start = new Date(subscription.currentPeriodStart);
    expect(start.getTime()).toBeGreaterThanOrEqual(before - 1000);
    const expectedEnd = new Date(start);
    expectedEnd.setUTCMonth(expectedEnd.getUTCMonth() + 1);
    expect(subscription.currentPeriodEnd).toBe(expectedEnd.toISOString());

    // The provider redelivers the same event: acknowledged, nothing changes.
    const snapshot = await billingSnapshot();
    const redelivered = await sendWebhook([event]);
    expect(redelivered.status).toBe(200);
    expect((await redelivered.json<{ results: unknown[] }>()).results).toEqual([{ eventId: event.id, outcome: "duplicate" }]);
    expect(await billingSnapshot()).toEqual(snapshot);
  });

  it("a renewal that fails → attempt failed with the retry schedule; active until the paid period ends, then past_due", async () => {
    // Just paid: the next period is not due yet.
    const ahead = await api(`/api/billing/subscriptions/${subscriptionId}/payment-attempts`, {
      user: alice,
      method: "POST",
      headers: { "Idempotency-Key": "alice-pay-ahead" },
    });
    expect(ahead.status).toBe(409);
    expect(ahead.body.error.code).toBe("PAYMENT_NOT_DUE");
    // A day before the period ends, the renewal is due.
    await setSubscriptionState(subscriptionId, { periodEndsInDays: 1 });
    const { subscription: active } = (await api(`/api/billing/subscriptions/${subscriptionId}`, { user: alice })).body;
    expect(active.status).toBe("active");
    const started = await api(`/api/billing/subscriptions/${subscriptionId}/payment-attempts`, {
      user: alice,
      method: "POST",
      headers: { "Idempotency-Key": "alice-pay-2" },
    });
    expect(started.status).toBe(201);
    expect(started.body.paymentAttempt.attemptNumber).toBe(1);

    const before = Date.now();
    const response = await sendWebhook([paymentFailed(started.body.paymentAttempt.id, "insufficient_funds")]);
    expect(response.status).toBe(200);

    const { paymentAttempt } = (await api(`/api/billing/payment-attempts/${started.body.paymentAttempt.id}`, { user: alice })).body;
    expect(paymentAttempt).toMatchObject({ status: "failed", failureCode: "insufficient_funds", failureMessage: expect.stringContaining("insufficient funds") });
    const retryIn = Date.parse(paymentAttempt.nextRetryAt) - before;
    expect(retryIn).toBeGreaterThanOrEqual(BILLING_POLICY.retryDelaysDays[0]! * DAY_MS - 1000);
    expect(retryIn).toBeLessThanOrEqual(BILLING_POLICY.retryDelaysDays[0]! * DAY_MS + 60_000);

    // The period she paid for still runs: still active.
    const { subscription } = (await api(`/api/billing/subscriptions/${subscriptionId}`, { user: alice })).body;
    expect(subscription).toMatchObject({ status: "active", currentPeriodEnd: active.currentPeriodEnd });
    // Once it has ended, reading it applies the period end: past_due.
    const ended = await setSubscriptionState(subscriptionId, { periodEndsInDays: -1 });
    const { subscription: lapsed } = (await api(`/api/billing/subscriptions/${subscriptionId}`, { user: alice })).body;
    expect(lapsed).toMatchObject({ status: "past_due", currentPeriodEnd: ended.currentPeriodEnd });
  });

  it("the retry succeeds: attempt number 2, subscription active again, period advanced from the old end", async () => {
    const { subscription: pastDue } = (await api(`/api/billing/subscriptions/${subscriptionId}`, { user: alice })).body;
    const retry = await api(`/api/billing/subscriptions/${subscriptionId}/payment-attempts`, {
      user: alice,
      json: { directDebitTokenId: tokenId },
      headers: { "Idempotency-Key": "alice-pay-3" },
    });
    expect(retry.body.paymentAttempt.attemptNumber).toBe(2);
    await sendWebhook([paymentConfirmed(retry.body.paymentAttempt.id)]);

    const { subscription } = (await api(`/api/billing/subscriptions/${subscriptionId}`, { user: alice })).body;
    expect(subscription.status).toBe("active");
    expect(subscription.currentPeriodStart).toBe(pastDue.currentPeriodEnd);
    // One calendar month later, the day clamped to the month's length (Jan 31 → Feb 28).
    const from = new Date(pastDue.currentPeriodEnd);
    const expectedEnd = new Date(from);
    expectedEnd.setUTCDate(1);
    expectedEnd.setUTCMonth(expectedEnd.getUTCMonth() + 1);
    const daysInMonth = new Date(Date.UTC(expectedEnd.getUTCFullYear(), expectedEnd.getUTCMonth() + 1, 0)).getUTCDate();
    expectedEnd.setUTCDate(Math.min(from.getUTCDate(), daysInMonth));
    expect(subscription.currentPeriodEnd).toBe(expectedEnd.toISOString());
  });

  it("lists her attempts newest first, with keyset pagination", async () => {
    const first = await api("/api/billing/payment-attempts?limit=2", { user: alice });
    expect(first.status).toBe(200);
    expect(first.body.paymentAttempts).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await api(`/api/billing/payment-attempts?limit=2&cursor=${first.body.nextCursor}`, { user: alice });
    expect(second.body.paymentAttempts).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    const ids = [...first.body.paymentAttempts, ...second.body.paymentAttempts].map((a: { id: string }) => a.id);
    expect(new Set(ids).size).toBe(3);
    expect(ids.at(-1)).toBe(firstAttemptId);
    const all = await api("/api/billing/payment-attempts", { user: alice });
    expect(all.body.paymentAttempts.map((a: { id: string }) => a.id)).toEqual(ids);
  });

  it("the price of a plan with live subscribers cannot change; its name can", async () => {
    const price = await api("/api/billing/plans/pro-monthly", { user: operator, method: "PATCH", json: { amountMinor: 1900 } });
    expect(price.status).toBe(409);
    expect(price.body.error).toMatchObject({ code: "PLAN_HAS_SUBSCRIBERS", details: { fields: ["amountMinor"] } });
    expect(price.body.error.message).toMatch(/create a new plan/);
    const currency = await api("/api/billing/plans/pro-monthly", { user: operator, method: "PATCH", json: { currency: "GBP" } });
    expect(currency.body.error.code).toBe("PLAN_HAS_SUBSCRIBERS");
    const name = await api("/api/billing/plans/pro-monthly", { user: operator, method: "PATCH", json: { name: "Pro (monthly)", amountMinor: 1500 } });
    expect(name.status).toBe(200);
    expect(name.body.plan).toMatchObject({ name: "Pro (monthly)", amountMinor: 1500 });
  });

  it("cancels at period end: stays active with cancelAtPeriodEnd; canceling now ends it; canceled is terminal", async () => {
    const later = await api(`/api/billing/subscriptions/${subscriptionId}/cancel`, { user: alice, json: { atPeriodEnd: true } });
    expect(later.status).toBe(200);
    expect(later.body.subscription).toMatchObject({ status: "active", cancelAtPeriodEnd: true, canceledAt: expect.any(String), endedAt: null });

    const now = await api(`/api/billing/subscriptions/${subscriptionId}/cancel`, { user: alice, json: { atPeriodEnd: false } });
    expect(now.body.subscription).toMatchObject({ status: "canceled", endedAt: expect.any(String) });

    const again = await api(`/api/billing/subscriptions/${subscriptionId}/cancel`, { user: alice, json: { atPeriodEnd: false } });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: "INVALID_TRANSITION", details: { status: "canceled", event: "cancel_now" } });

    const pay = await api(`/api/billing/subscriptions/${subscriptionId}/payment-attempts`, {
      user: alice,
      method: "POST",
      headers: { "Idempotency-Key": "alice-after-cancel" },
    });
    expect(pay.status).toBe(409);
    expect(pay.body.error.code).toBe("SUBSCRIPTION_NOT_PAYABLE");

    // With the old subscription over, subscribing to the plan again is allowed.
    const resubscribed = await api("/api/billing/subscriptions", { user: alice, json: { planCode: "pro-monthly" } });
    expect(resubscribed.status).toBe(201);
  });
});

describe("bob: a trial, several mandates, default and revoke", () => {
  const tokenIds: string[] = [];
  const mandates: string[] = [];

  it("subscribes to a plan with trial days: trialing until trialEndsAt", async () => {
    const before = Date.now();
    const created = await api("/api/billing/subscriptions", { user: bob, json: { planCode: "team-trial" } });
    expect(created.status).toBe(201);
    const { subscription } = created.body;
    expect(subscription.status).toBe("trialing");
    const trialMs = Date.parse(subscription.trialEndsAt) - before;
    expect(trialMs).toBeGreaterThanOrEqual(14 * DAY_MS - 1000);
    expect(trialMs).toBeLessThanOrEqual(14 * DAY_MS + 60_000);
    expect(subscription.currentPeriodEnd).toBe(subscription.trialEndsAt);

    const later = await api(`/api/billing/subscriptions/${subscription.id}/cancel`, { user: bob, json: { atPeriodEnd: true } });
    expect(later.body.subscription).toMatchObject({ status: "trialing", cancelAtPeriodEnd: true });
  });

  it("adds two mandates; activation makes the first the default only", async () => {
    for (let i = 0; i < 2; i++) {
      const body = await tokenBodyFor(bob, { accountLast4: `000${i}` });
      storedTokens.push(body.token);
      mandates.push(body.token);
      const created = await api("/api/billing/direct-debit-tokens", { user: bob, json: body });
      expect(created.status).toBe(201);
      tokenIds.push(created.body.token.id);
    }
    const pendingDefault = await api(`/api/billing/direct-debit-tokens/${tokenIds[0]}/default`, { user: bob, method: "POST" });
    expect(pendingDefault.status).toBe(409);
    expect(pendingDefault.body.error.code).toBe("TOKEN_NOT_ACTIVE");

    const response = await sendWebhook([mandateEvent(mandates[0]!, "active"), mandateEvent(mandates[1]!, "active")]);
    expect(response.status).toBe(200);
    const { tokens } = (await api("/api/billing/direct-debit-tokens", { user: bob })).body;
    const byId = new Map(tokens.map((token: { id: string }) => [token.id, token]));
    expect(byId.get(tokenIds[0]!)).toMatchObject({ status: "active", isDefault: true });
    expect(byId.get(tokenIds[1]!)).toMatchObject({ status: "active", isDefault: false });
  });

  it("makes the second the default: the old default is cleared in the same batch", async () => {
    const response = await api(`/api/billing/direct-debit-tokens/${tokenIds[1]}/default`, { user: bob, method: "POST" });
    expect(response.status).toBe(200);
    expect(response.body.token).toMatchObject({ id: tokenIds[1], isDefault: true });
    const rows = await env.DB.prepare("select id, isDefault from direct_debit_tokens where userId = ? order by createdAt").bind(bob.id).all();
    expect(rows.results.filter((row) => row.isDefault === 1).map((row) => row.id)).toEqual([tokenIds[1]]);
  });

  it("revokes the default: revoked, revokedAt set, no longer default; it cannot become default again", async () => {
    const response = await api(`/api/billing/direct-debit-tokens/${tokenIds[1]}`, { user: bob, method: "DELETE" });
    expect(response.status).toBe(200);
    expect(response.body.token).toMatchObject({ status: "revoked", isDefault: false, revokedAt: expect.any(String) });
    const again = await api(`/api/billing/direct-debit-tokens/${tokenIds[1]}`, { user: bob, method: "DELETE" });
    expect(again.body).toEqual(response.body);
    const makeDefault = await api(`/api/billing/direct-debit-tokens/${tokenIds[1]}/default`, { user: bob, method: "POST" });
    expect(makeDefault.status).toBe(409);

    // A late "mandate active" for the revoked token does not bring it back.
    await sendWebhook([mandateEvent(mandates[1]!, "active")]);
    expect((await tokenRow(tokenIds[1]!))).toMatchObject({ status: "revoked", isDefault: 0 });
  });

  it("mandates.cancelled from the bank revokes the other token", async () => {
    await sendWebhook([mandateEvent(mandates[0]!, "cancelled")]);
    expect(await tokenRow(tokenIds[0]!)).toMatchObject({ status: "revoked", isDefault: 0, revokedAt: expect.any(String) });
  });
});

describe("secrets", () => {
  it("no response body of this file contains a plain token or a stored ciphertext", async () => {
    const ciphertexts = (await env.DB.prepare("select tokenCiphertext from direct_debit_tokens").all()).results.map((row) => String(row.tokenCiphertext));
    expect(storedTokens.length).toBe(3);
    expect(ciphertexts.length).toBe(3);
    expect(seenResponseBodies.length).toBeGreaterThan(30);
    for (const body of seenResponseBodies) {
      for (const secret of [...storedTokens, ...ciphertexts]) expect(body).not.toContain(secret);
      // Not even the IV or the encrypted part on its own.
      for (const ciphertext of ciphertexts) for (const part of ciphertext.split(".")) expect(body).not.toContain(part);
    }
  });
});
