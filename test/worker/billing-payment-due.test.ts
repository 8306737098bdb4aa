import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { RENEWAL_WINDOW_DAYS } from "../../src/billing/payment-due";
import { signedInUser, type TestUser } from "../support/auth-session";
import { api, billingSnapshot, callAppConcurrently } from "../support/billing-api";
import { addActiveToken, seedPlan, setSubscriptionState, startPayment, subscribe } from "../support/billing-setup";
import { migrateToLatest } from "../support/migrate-to-latest";
import { paymentConfirmed, sendWebhook } from "../support/webhook-signer";

// A payment can be started only for an amount that is due: never for
// periods far ahead, never for a subscription that is ending. Through the
// Worker on a real local D1; the clock is moved by shifting the stored period
// (setSubscriptionState), since the API has no way to move time.

const DAY_MS = 24 * 60 * 60 * 1000;
let sam: TestUser;
let plans = 0;

beforeAll(async () => {
  await migrateToLatest(env.DB);
  sam = await signedInUser("sam-due@example.com");
  await addActiveToken(sam);
});

function pay(subscriptionId: string, key = crypto.randomUUID()) {
  return api(`/api/billing/subscriptions/${subscriptionId}/payment-attempts`, { user: sam, method: "POST", headers: { "Idempotency-Key": key } });
}
async function subscriptionRow(id: string) {
  return (await env.DB.prepare("select status, currentPeriodEnd from user_subscriptions where id = ?").bind(id).first<{ status: string; currentPeriodEnd: string }>())!;
}
/** A fresh subscription of sam's to its own monthly plan (with a trial when asked). */
async function newSubscription(trialDays = 0): Promise<string> {
  const code = `due-${++plans}`;
  await seedPlan(code, { amountMinor: 1200, trialDays });
  return subscribe(sam, code);
}
const dueFromOf = (periodEnd: string) => new Date(Date.parse(periodEnd) - RENEWAL_WINDOW_DAYS * DAY_MS).toISOString();

describe("paying ahead", () => {
  it("an active subscription just paid cannot be paid again: 409 PAYMENT_NOT_DUE, nothing stored; the first key still replays", async () => {
    const subscriptionId = await newSubscription();
    const firstKey = crypto.randomUUID();
    const first = await pay(subscriptionId, firstKey);
    expect(first.status).toBe(201);
    await sendWebhook([paymentConfirmed(first.body.paymentAttempt.id)]);
    const paid = await subscriptionRow(subscriptionId);
    expect(paid.status).toBe("active");
    const before = await billingSnapshot();

    const ahead = await pay(subscriptionId);

    expect(ahead.status).toBe(409);
    expect(ahead.body.error).toEqual({
      code: "PAYMENT_NOT_DUE",
      message: expect.any(String),
      details: { currentPeriodEnd: paid.currentPeriodEnd, dueFrom: dueFromOf(paid.currentPeriodEnd) },
    });
    expect(await billingSnapshot()).toEqual(before);
    expect(await subscriptionRow(subscriptionId)).toEqual(paid);

    // A retry of the first request is a replay, answered before the due check.
    const replay = await pay(subscriptionId, firstKey);
    expect(replay.status).toBe(201);
    expect(replay.body.paymentAttempt).toMatchObject({ id: first.body.paymentAttempt.id, status: "succeeded" });
    expect(await billingSnapshot()).toEqual(before);
  });

  // Each case: a subscription in `status` whose period (or trial) ends
  // `endsInDays` from now, optionally canceled at period end through the API.
  const MINUTE_IN_DAYS = 1 / (24 * 60);
  const cases: { name: string; status: string; endsInDays: number; cancelAtPeriodEnd?: true; due: boolean }[] = [
    { name: "active, ends a minute after the renewal window opens", status: "active", endsInDays: RENEWAL_WINDOW_DAYS + MINUTE_IN_DAYS, due: false },
    { name: "active, ends a minute inside the renewal window", status: "active", endsInDays: RENEWAL_WINDOW_DAYS - MINUTE_IN_DAYS, due: true },
    { name: "active, the period ended 5 days ago", status: "active", endsInDays: -5, due: true },
    { name: "trialing, the trial ends in 10 days", status: "trialing", endsInDays: 10, due: false },
    { name: "trialing, the trial ends tomorrow", status: "trialing", endsInDays: 1, due: true },
    { name: "active with cancelAtPeriodEnd, ends tomorrow", status: "active", endsInDays: 1, cancelAtPeriodEnd: true, due: false },
    { name: "trialing with cancelAtPeriodEnd, ends tomorrow", status: "trialing", endsInDays: 1, cancelAtPeriodEnd: true, due: false },
    { name: "incomplete, its placeholder period ends in 30 days", status: "incomplete", endsInDays: 30, due: true },
    { name: "past_due, the period ends in 20 days", status: "past_due", endsInDays: 20, due: true },
    { name: "unpaid, the period ends in 20 days", status: "unpaid", endsInDays: 20, due: true },
  ];

  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const subscriptionId = await newSubscription(c.status === "trialing" ? 14 : 0);
    const { currentPeriodEnd } = await setSubscriptionState(subscriptionId, { periodEndsInDays: c.endsInDays, status: c.status });
    if (c.cancelAtPeriodEnd) {
      const canceled = await api(`/api/billing/subscriptions/${subscriptionId}/cancel`, { user: sam, json: { atPeriodEnd: true } });
      expect(canceled.body.subscription).toMatchObject({ status: c.status, cancelAtPeriodEnd: true });
    }
    const before = await billingSnapshot();

    const response = await pay(subscriptionId);

    if (c.due) {
      expect(response.status).toBe(201);
      expect(response.body.paymentAttempt).toMatchObject({ subscriptionId, status: "pending", amountMinor: 1200 });
    } else {
      expect(response.status).toBe(409);
      expect(response.body.error).toEqual({
        code: "PAYMENT_NOT_DUE",
        message: expect.any(String),
        // An ending subscription owes nothing more: it is never due.
        details: { currentPeriodEnd, dueFrom: c.cancelAtPeriodEnd ? null : dueFromOf(currentPeriodEnd) },
      });
      expect(await billingSnapshot()).toEqual(before);
    }
  });

  it("a payment that settles between the due check and the insert: the insert sees the moved period, 409 PAYMENT_NOT_DUE", async () => {
    const subscriptionId = await newSubscription();
    await setSubscriptionState(subscriptionId, { periodEndsInDays: 1, status: "active" });
    const open = await startPayment(sam, subscriptionId);
    let confirmed = false;
    // The local D1, except that the provider confirms the open attempt right
    // before the route's insert of a new attempt: after the route has read the
    // subscription (due) and while no attempt is open any more.
    const d1 = new Proxy(env.DB, {
      get(target, property) {
        if (property === "prepare") {
          return (sql: string) => {
            const statement = target.prepare(sql);
            return /^insert into "payment_attempts"/i.test(sql) ? hooked(statement) : statement;
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const hooked = (statement: D1PreparedStatement): D1PreparedStatement =>
      new Proxy(statement, {
        get(target, property) {
          if (property === "bind") return (...values: unknown[]) => hooked(target.bind(...values));
          if (property === "all" || property === "run") {
            return async () => {
              if (!confirmed) {
                confirmed = true;
                expect((await sendWebhook([paymentConfirmed(open.id)], { concurrent: true })).status).toBe(200);
              }
              return target[property]();
            };
          }
          const value = Reflect.get(target, property);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });

    const response = await callAppConcurrently(
      `/api/billing/subscriptions/${subscriptionId}/payment-attempts`,
      { method: "POST", cookie: sam.cookie, ip: sam.ip, headers: { "Idempotency-Key": crypto.randomUUID() } },
      { ...env, DB: d1 },
    );

    expect(confirmed).toBe(true);
    const paid = await subscriptionRow(subscriptionId);
    expect(paid.status).toBe("active");
    expect({ status: response.status, body: await response.json() }).toEqual({
      status: 409,
      body: { error: { code: "PAYMENT_NOT_DUE", message: expect.any(String), details: { currentPeriodEnd: paid.currentPeriodEnd, dueFrom: dueFromOf(paid.currentPeriodEnd) } } },
    });
    const attempts = await env.DB.prepare("select status from payment_attempts where subscriptionId = ?").bind(subscriptionId).all();
    expect(attempts.results).toEqual([{ status: "succeeded" }]);
  });
});
