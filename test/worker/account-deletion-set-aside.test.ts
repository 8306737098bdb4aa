import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { callWorker, ORIGIN, signedInUser, type TestUser } from "../support/auth-session";
import { api } from "../support/billing-api";
import { addActiveToken, seedPlan, setSubscriptionState, startPayment, subscribe } from "../support/billing-setup";
import { cancellationFailedBody, createdPaymentBody } from "../support/gocardless/api-fixtures";
import { installFakeGoCardless } from "../support/gocardless/fake-gocardless";
import { migrateToLatest } from "../support/migrate-to-latest";
import { paymentConfirmed, paymentEvent, sendWebhook } from "../support/webhook-signer";

// Break-it F8: deleting an account must not drop a payment we set aside that
// GoCardless may still collect (providerCancel `due` or `cancellation_failed`).
// From outside: the HTTP API, signed webhooks, the Cron Trigger, GoCardless
// stubbed at the network edge with its API reference's bodies.

const BASE = env.GOCARDLESS_API_URL.replace(/\/+$/, "");

/** GoCardless's payments, by id, with the status each has there now. */
function goCardlessPayments(): Map<string, string> {
  installFakeGoCardless();
  const statuses = new Map<string, string>();
  const next = globalThis.fetch;
  const json = (body: unknown, status: number) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const path = request.url.slice(BASE.length);
    const id = /^\/payments\/([^/?]+)/.exec(path)?.[1];
    if (!request.url.startsWith(BASE) || !id || !statuses.has(id)) return next(input, init);
    const body = createdPaymentBody("unused", id);
    body.payments.status = statuses.get(id)!;
    if (request.method === "POST" && path.endsWith("/actions/cancel")) {
      // Only a payment still pending_submission can be cancelled (API reference).
      if (body.payments.status !== "pending_submission") return json(cancellationFailedBody, 422);
      statuses.set(id, "cancelled");
      body.payments.status = "cancelled";
    }
    return json(body, 200);
  });
  return statuses;
}

async function runEngine() {
  vi.spyOn(console, "log").mockImplementation(() => {});
  await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "*/15 * * * *" }), env as Env);
}

async function deleteAccount(user: TestUser): Promise<Response> {
  return callWorker("/api/auth/delete-user", {
    method: "POST",
    body: JSON.stringify({ password: user.password }),
    headers: { cookie: user.cookie, "cf-connecting-ip": user.ip, "content-type": "application/json", origin: ORIGIN },
  });
}
const userExists = async (id: string) => (await env.DB.prepare(`select count(*) as n from "user" where id = ?`).bind(id).first<number>("n")) === 1;
const attemptRow = (id: string) => env.DB.prepare("select status, providerCancel, refundDue from payment_attempts where id = ?").bind(id).first();
/** Deleting the user with a statement, as the delete-user route's final step does: only the trigger stands in the way. */
const deleteRow = (id: string) => env.DB.prepare(`delete from "user" where id = ?`).bind(id).run();

let users = 0;
async function payingUser(): Promise<TestUser> {
  const user = await signedInUser(`set-aside-delete-${++users}-${crypto.randomUUID().slice(0, 6)}@example.com`);
  await addActiveToken(user);
  return user;
}
async function plan(): Promise<string> {
  const code = `set-aside-delete-${++users}`;
  await seedPlan(code, { amountMinor: 1500, currency: "GBP", interval: "month" });
  return code;
}

beforeAll(async () => {
  await migrateToLatest(env.DB);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("deleting an account while GoCardless may still collect a payment we set aside", () => {
  it("a renewal GoCardless already submitted, set aside by cancel-at-period-end, its cancel refused (cancellation_failed): 409 PAYMENT_IN_FLIGHT (hook and trigger); its confirmation is then owed back", async () => {
    const gc = goCardlessPayments();
    const user = await payingUser();
    const id = await subscribe(user, await plan());
    const first = await startPayment(user, id);
    expect((await sendWebhook([paymentConfirmed(first.id)])).status).toBe(200);
    await setSubscriptionState(id, { periodEndsInDays: 1 });
    const renewal = await startPayment(user, id);
    const payment = `PM${crypto.randomUUID().slice(0, 10)}`;
    gc.set(payment, "submitted");
    expect((await sendWebhook([paymentEvent("submitted", renewal.id, payment)])).status).toBe(200);
    expect((await api(`/api/billing/subscriptions/${id}/cancel`, { user, json: { atPeriodEnd: true } })).status).toBe(200);
    await runEngine();
    expect(await attemptRow(renewal.id)).toEqual({ status: "canceled", providerCancel: "cancellation_failed", refundDue: 0 });

    const refused = await deleteAccount(user);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as any).error).toMatchObject({ code: "PAYMENT_IN_FLIGHT", details: { openAttempts: 0, refundsDue: 0, collectingSubscriptions: 0, setAsideAtProvider: 1 } });
    await expect(deleteRow(user.id)).rejects.toThrow(/PAYMENT_IN_FLIGHT/);
    expect(await userExists(user.id)).toBe(true);

    // GoCardless collects it after all: recorded, and owed back (never lost).
    const confirmed = await sendWebhook([paymentConfirmed(renewal.id, payment)]);
    expect(((await confirmed.json()) as any).results[0].outcome).toBe("applied");
    expect(await attemptRow(renewal.id)).toMatchObject({ status: "succeeded", refundDue: 1 });
    expect((await deleteAccount(user)).status).toBe(409);
  });

  it("the same, but the payment then fails at GoCardless: nothing can move any more, and the account is deleted", async () => {
    const gc = goCardlessPayments();
    const user = await payingUser();
    const id = await subscribe(user, await plan());
    const attempt = await startPayment(user, id);
    const payment = `PM${crypto.randomUUID().slice(0, 10)}`;
    gc.set(payment, "submitted");
    expect((await sendWebhook([paymentEvent("submitted", attempt.id, payment)])).status).toBe(200);
    expect((await api(`/api/billing/subscriptions/${id}/cancel`, { user, json: { atPeriodEnd: false } })).status).toBe(200);
    await runEngine();
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "canceled", providerCancel: "cancellation_failed" });
    expect((await deleteAccount(user)).status).toBe(409);

    expect((await sendWebhook([paymentEvent("failed", attempt.id, payment, "insufficient_funds")])).status).toBe(200);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "canceled", providerCancel: null });
    expect((await deleteAccount(user)).status).toBe(200);
    expect(await userExists(user.id)).toBe(false);
  });

  it("cancelled now while its payment is pending_submission (providerCancel due): 409 until the engine has cancelled it at GoCardless, then deleted", async () => {
    const gc = goCardlessPayments();
    const user = await payingUser();
    const id = await subscribe(user, await plan());
    const attempt = await startPayment(user, id);
    const payment = `PM${crypto.randomUUID().slice(0, 10)}`;
    gc.set(payment, "pending_submission");
    expect((await sendWebhook([paymentEvent("submitted", attempt.id, payment)])).status).toBe(200);
    expect((await api(`/api/billing/subscriptions/${id}/cancel`, { user, json: { atPeriodEnd: false } })).status).toBe(200);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "canceled", providerCancel: "due" });

    const refused = await deleteAccount(user);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as any).error.details).toEqual({ openAttempts: 0, refundsDue: 0, collectingSubscriptions: 0, setAsideAtProvider: 1 });
    await expect(deleteRow(user.id)).rejects.toThrow(/PAYMENT_IN_FLIGHT/);

    await runEngine();
    expect(gc.get(payment)).toBe("cancelled");
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "canceled", providerCancel: "cancelled" });
    expect((await deleteAccount(user)).status).toBe(200);
    expect(await userExists(user.id)).toBe(false);
  });
});
