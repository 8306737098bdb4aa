import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import type { Env } from "../../src/env";
import { callWorker, ORIGIN, signIn, signedInUser, type TestUser } from "../support/auth-session";
import { api } from "../support/billing-api";
import { addActiveToken, seedPlan, setSubscriptionState, startPayment, subscribe } from "../support/billing-setup";
import { migrateToLatest } from "../support/migrate-to-latest";
import { paymentConfirmed, paymentFailed, sendWebhook } from "../support/webhook-signer";

// The five ways the billing rules lost money or misled (issue 10), each
// reproduced from outside: the HTTP API and signed provider webhooks on a real
// local D1. Each test sets up its own user and plan.

let plans = 0;
async function freshPlan(overrides: Parameters<typeof seedPlan>[1] = {}): Promise<string> {
  const code = `bug-${++plans}`;
  await seedPlan(code, { amountMinor: 1200, interval: "month", ...overrides });
  return code;
}
async function subscription(user: TestUser, id: string) {
  const response = await api(`/api/billing/subscriptions/${id}`, { user });
  expect(response.status).toBe(200);
  return response.body.subscription;
}
let users = 0;
async function payingUser(): Promise<TestUser> {
  const user = await signedInUser(`lifecycle-bug-${++users}-${crypto.randomUUID().slice(0, 6)}@example.com`);
  await addActiveToken(user);
  return user;
}

beforeAll(async () => {
  await migrateToLatest(env.DB);
});

afterEach(() => {
  vi.useRealTimers();
});

describe("1. a failed first payment never gives a free period", () => {
  it("incomplete → failure stays incomplete → the retry's success starts the first period at confirmation", async () => {
    const user = await payingUser();
    const id = await subscribe(user, await freshPlan());
    const first = await startPayment(user, id);
    expect((await sendWebhook([paymentFailed(first.id)])).status).toBe(200);
    expect((await subscription(user, id)).status).toBe("incomplete");

    const retry = await startPayment(user, id);
    const before = new Date().toISOString();
    expect((await sendWebhook([paymentConfirmed(retry.id)])).status).toBe(200);
    const after = new Date().toISOString();

    const paid = await subscription(user, id);
    expect(paid.status).toBe("active");
    // One payment, one period, starting when it was confirmed (never in the future).
    expect(paid.currentPeriodStart >= before && paid.currentPeriodStart <= after).toBe(true);
    expect(paid.billingCycleAnchor).toBe(paid.currentPeriodStart);
  });
});

describe("2. the billing day does not drift", () => {
  it("monthly from Jan 31 renews to Feb 28, then Mar 31, then Apr 30", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2027-01-31T10:00:00.000Z"));
    let user = await payingUser();
    const id = await subscribe(user, await freshPlan());
    const first = await startPayment(user, id);
    expect((await sendWebhook([paymentConfirmed(first.id)])).status).toBe(200);
    expect(await subscription(user, id)).toMatchObject({
      currentPeriodStart: "2027-01-31T10:00:00.000Z",
      currentPeriodEnd: "2027-02-28T10:00:00.000Z",
    });

    const ends = ["2027-03-31T10:00:00.000Z", "2027-04-30T10:00:00.000Z", "2027-05-31T10:00:00.000Z"];
    for (const end of ends) {
      const current = await subscription(user, id);
      // Inside the renewal window: one day before the current period ends.
      vi.setSystemTime(new Date(Date.parse(current.currentPeriodEnd) - 24 * 60 * 60 * 1000));
      user = await signIn(user); // a month later the first session has expired
      const renewal = await startPayment(user, id);
      expect((await sendWebhook([paymentConfirmed(renewal.id)])).status).toBe(200);
      expect(await subscription(user, id)).toMatchObject({ currentPeriodStart: current.currentPeriodEnd, currentPeriodEnd: end });
    }
  });
});

describe("3. money for a canceled subscription is marked as owed back", () => {
  it("cancel now while a payment is open; its success marks the attempt refundDue, visible in the API", async () => {
    const user = await payingUser();
    const id = await subscribe(user, await freshPlan());
    const attempt = await startPayment(user, id);
    expect((await api(`/api/billing/subscriptions/${id}/cancel`, { user, json: { atPeriodEnd: false } })).status).toBe(200);

    const response = await sendWebhook([paymentConfirmed(attempt.id)]);
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).results[0].outcome).toBe("applied");

    expect((await subscription(user, id)).status).toBe("canceled");
    const shown = await api(`/api/billing/payment-attempts/${attempt.id}`, { user });
    expect(shown.body.paymentAttempt).toMatchObject({ status: "succeeded", refundDue: true });
    // The operator's query finds it.
    const owed = await env.DB.prepare("select id from payment_attempts where refundDue = 1 and id = ?").bind(attempt.id).all();
    expect(owed.results).toHaveLength(1);
  });
});

describe("4. a renewal that fails early does not end a running paid period", () => {
  it("active with 2 days left: the failed renewal leaves it active (and entitled) until the period ends", async () => {
    const user = await payingUser();
    const id = await subscribe(user, await freshPlan({ interval: "day", intervalCount: 30 }));
    const first = await startPayment(user, id);
    expect((await sendWebhook([paymentConfirmed(first.id)])).status).toBe(200);
    const period = await setSubscriptionState(id, { periodEndsInDays: 2 });

    const renewal = await startPayment(user, id);
    expect((await sendWebhook([paymentFailed(renewal.id)])).status).toBe(200);

    expect(await subscription(user, id)).toMatchObject({ status: "active", currentPeriodEnd: period.currentPeriodEnd });
    const entitlements = await api("/api/billing/entitlements", { user });
    expect(entitlements.status).toBe(200);
    expect(entitlements.body.entitlements).toEqual([
      expect.objectContaining({ subscriptionId: id, status: "active", until: period.currentPeriodEnd }),
    ]);
  });
});

describe("5. deleting an account never loses a payment in flight", () => {
  async function deleteAccount(user: TestUser, bindings?: Env): Promise<Response> {
    const init = { method: "POST", body: JSON.stringify({ password: user.password }), headers: { cookie: user.cookie, "cf-connecting-ip": user.ip, "content-type": "application/json", origin: ORIGIN } };
    if (!bindings) return callWorker("/api/auth/delete-user", init);
    return app.fetch(new Request(`${ORIGIN}/api/auth/delete-user`, init), bindings);
  }
  const userExists = async (id: string) => (await env.DB.prepare(`select count(*) as n from "user" where id = ?`).bind(id).first<number>("n")) === 1;

  it("refused with 409 PAYMENT_IN_FLIGHT while a payment is open; the provider's confirmation then applies", async () => {
    const user = await payingUser();
    const id = await subscribe(user, await freshPlan());
    const attempt = await startPayment(user, id);

    const response = await deleteAccount(user);
    expect(response.status).toBe(409);
    // The API's one error shape; Better Auth's client reads the top-level code and message (billing-api-auth-client.test.ts).
    const body = (await response.json()) as any;
    expect(body).toEqual({
      error: { code: "PAYMENT_IN_FLIGHT", message: expect.stringContaining("money in flight"), details: { openAttempts: 1, refundsDue: 0, collectingSubscriptions: 1, setAsideAtProvider: 0 } },
      code: "PAYMENT_IN_FLIGHT",
      message: body.error.message,
    });
    expect(await userExists(user.id)).toBe(true);

    const confirmed = await sendWebhook([paymentConfirmed(attempt.id)]);
    expect(((await confirmed.json()) as any).results[0].outcome).toBe("applied");
  });

  it("a payment started between the check and the delete still stops the delete (database guard)", async () => {
    const user = await payingUser();
    const id = await subscribe(user, await freshPlan());
    // Nothing collects yet when the check runs: the subscription was canceled.
    expect((await api(`/api/billing/subscriptions/${id}/cancel`, { user, json: { atPeriodEnd: false } })).status).toBe(200);
    const attemptId = `race-${crypto.randomUUID()}`;
    // Just before Better Auth deletes the user row, an open attempt appears
    // (a payment started by another request at that instant).
    const guarded = (statement: D1PreparedStatement): D1PreparedStatement =>
      new Proxy(statement, {
        get(inner, name) {
          const value = Reflect.get(inner, name);
          if (typeof value !== "function") return value;
          if (name === "bind") return (...args: unknown[]) => guarded(value.apply(inner, args));
          return async (...args: unknown[]) => {
            await insertOpenAttempt(user.id, attemptId);
            return value.apply(inner, args);
          };
        },
      });
    const d1 = new Proxy(env.DB, {
      get(target, property) {
        if (property === "prepare") {
          return (query: string) => (/^delete from "user"/i.test(query.trim()) ? guarded(target.prepare(query)) : target.prepare(query));
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });

    const response = await deleteAccount(user, { ...env, DB: d1 } as Env);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(await userExists(user.id)).toBe(true);
    expect(await env.DB.prepare("select status from payment_attempts where id = ?").bind(attemptId).first("status")).toBe("pending");
  });

  it("an account with nothing in flight and nothing collecting is deleted, with its billing history", async () => {
    const user = await payingUser();
    const id = await subscribe(user, await freshPlan());
    expect((await api(`/api/billing/subscriptions/${id}/cancel`, { user, json: { atPeriodEnd: false } })).status).toBe(200);
    const response = await deleteAccount(user);
    expect(response.status).toBe(200);
    expect(await userExists(user.id)).toBe(false);
  });
});

async function insertOpenAttempt(userId: string, id: string): Promise<void> {
  const now = new Date().toISOString();
  await env.DB.prepare(
    `insert into payment_attempts (id, userId, amountMinor, currency, status, attemptNumber, idempotencyKey, requestFingerprint, provider, createdAt, updatedAt)
     values (?, ?, 1200, 'EUR', 'pending', 1, ?, ?, 'gocardless', ?, ?)`,
  )
    .bind(id, userId, id, "0".repeat(64), now, now)
    .run();
}
