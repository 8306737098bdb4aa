import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { insertPlan } from "../../src/billing/plans.repository";
import { createDb } from "../../src/db/create-db";
import type { TestUser } from "./auth-session";
import { api, tokenBodyFor } from "./billing-api";
import { mandateEvent, sendWebhook } from "./webhook-signer";

/**
 * Puts a plan in the catalog directly (no operator sign-up needed in files
 * that are not about plan management).
 *
 * @example
 * ```ts
 * await seedPlan("basic", { amountMinor: 500 })
 * ```
 */
export async function seedPlan(code: string, overrides: Partial<Parameters<typeof insertPlan>[1]> = {}): Promise<void> {
  const now = new Date().toISOString();
  const inserted = await insertPlan(createDb(env.DB), {
    id: crypto.randomUUID(),
    code,
    name: `Plan ${code}`,
    description: null,
    amountMinor: 1500,
    currency: "EUR",
    interval: "month",
    intervalCount: 1,
    trialDays: 0,
    active: 1,
    createdBy: null,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  });
  expect(inserted).toBe(true);
}

/** Subscribes `user` to a plan through the API; returns the subscription id. */
export async function subscribe(user: TestUser, planCode: string): Promise<string> {
  const response = await api("/api/billing/subscriptions", { user, json: { planCode } });
  expect(response.status).toBe(201);
  return response.body.subscription.id;
}

/**
 * Stores a token for `user` through the API (its mandate set up at the fake
 * GoCardless for the user's customer) and activates its mandate with a
 * signed webhook, as the provider would; returns its id and plain mandate id.
 */
export async function addActiveToken(user: TestUser): Promise<{ id: string; mandateId: string }> {
  const body = await tokenBodyFor(user);
  const created = await api("/api/billing/direct-debit-tokens", { user, json: body });
  expect(created.status).toBe(201);
  const activated = await sendWebhook([mandateEvent(body.token, "active")]);
  expect(activated.status).toBe(200);
  return { id: created.body.token.id, mandateId: body.token };
}

/** Starts a payment attempt through the API; returns the attempt. */
export async function startPayment(user: TestUser, subscriptionId: string, key = crypto.randomUUID()): Promise<{ id: string; attemptNumber: number }> {
  const response = await api(`/api/billing/subscriptions/${subscriptionId}/payment-attempts`, {
    user,
    method: "POST",
    headers: { "Idempotency-Key": key },
  });
  expect(response.status).toBe(201);
  return response.body.paymentAttempt;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * State setup by a direct UPDATE, because the API has no way to move time:
 * shifts the subscription's current period (keeping its length) so that it
 * ends `endsInDays` from now (negative: ended that long ago), optionally in
 * another status. While trialing, the trial's end moves with the period; the
 * billing anchor always does.
 * Returns the new period.
 *
 * @example
 * ```ts
 * await setSubscriptionState(subscriptionId, { periodEndsInDays: 1 }) // the renewal is due
 * ```
 */
export async function setSubscriptionState(
  subscriptionId: string,
  state: { periodEndsInDays: number; status?: string },
): Promise<{ currentPeriodStart: string; currentPeriodEnd: string }> {
  const row = await env.DB.prepare("select status, currentPeriodStart, currentPeriodEnd from user_subscriptions where id = ?")
    .bind(subscriptionId)
    .first<{ status: string; currentPeriodStart: string; currentPeriodEnd: string }>();
  expect(row).not.toBeNull();
  const length = Date.parse(row!.currentPeriodEnd) - Date.parse(row!.currentPeriodStart);
  const end = Date.now() + state.periodEndsInDays * DAY_MS;
  const period = { currentPeriodStart: new Date(end - length).toISOString(), currentPeriodEnd: new Date(end).toISOString() };
  const status = state.status ?? row!.status;
  // The billing anchor is the new period end, so the next periods fall on its grid: shifting
  // the old anchor by the same duration would not (months differ in length: the anchor's
  // day of month would move, and the next period end with it).
  await env.DB.prepare(
    `update user_subscriptions set status = ?, currentPeriodStart = ?, currentPeriodEnd = ?, billingCycleAnchor = ?,
       trialEndsAt = case when ? = 'trialing' then ? else trialEndsAt end where id = ?`,
  )
    .bind(status, period.currentPeriodStart, period.currentPeriodEnd, period.currentPeriodEnd, status, period.currentPeriodEnd, subscriptionId)
    .run();
  return period;
}
