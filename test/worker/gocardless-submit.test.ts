import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { createGoCardlessClient } from "../../src/billing/gocardless/gocardless-client";
import { submitPendingAttempts } from "../../src/billing/gocardless/submit-pending-attempts";
import { loadTokenKeyring } from "../../src/billing/token-cipher";
import { createDb } from "../../src/db/create-db";
import { signedInUser, type TestUser } from "../support/auth-session";
import { addActiveToken, seedPlan, setSubscriptionState, startPayment, subscribe } from "../support/billing-setup";
import { createdPaymentBody, idempotentCreationConflictBody, mandateBody, mandateIsInactiveBody } from "../support/gocardless/api-fixtures";
import { migrateToLatest } from "../support/migrate-to-latest";
import { paymentEvent, sendWebhook } from "../support/webhook-signer";

// Pending attempts submitted to GoCardless on a real local D1, the API
// stubbed at the network edge with answers from its API reference.

const BASE = "https://api-sandbox.gocardless.com";
let hal: TestUser;
let mandateId: string;
let halCustomer: string;
let plans = 0;

beforeAll(async () => {
  await migrateToLatest(env.DB);
  await seedPlan("submit-plan", { amountMinor: 1500, currency: "GBP" });
  hal = await signedInUser("hal-submit@example.com");
  ({ mandateId } = await addActiveToken(hal));
  halCustomer = (await env.DB.prepare("select customerId from provider_customers where userId = ?").bind(hal.id).first<{ customerId: string }>())!.customerId;
});

function stubFetch(...answers: (Response | Error)[]) {
  const sent: { method: string; url: string; headers: Headers; body: any }[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const text = await request.text();
    sent.push({ method: request.method, url: request.url, headers: request.headers, body: text ? JSON.parse(text) : undefined });
    const answer = answers.shift();
    if (answer === undefined) throw new Error("unexpected request");
    if (answer instanceof Error) throw answer;
    return answer;
  }) as typeof globalThis.fetch;
  return { fetch, sent };
}
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
/** GoCardless's answer to `GET /mandates/:id`: the mandate is hal's customer's. */
const halsMandate = () => json(mandateBody(mandateId, halCustomer));

/** One sweep at `now`, the wall clock moved there too: the submission's clock never runs ahead of it. */
async function run(fetch: typeof globalThis.fetch, now = new Date()) {
  const client = createGoCardlessClient({ accessToken: "sandbox_token", baseUrl: BASE, fetch });
  const wall = vi.spyOn(Date, "now").mockReturnValue(now.getTime());
  try {
    return await submitPendingAttempts({ db: createDb(env.DB), client, keyring: await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEYS), now, limit: 10 });
  } finally {
    wall.mockRestore();
  }
}
const minutesLater = (minutes: number) => new Date(Date.now() + minutes * 60_000);
async function attemptRow(id: string) {
  return env.DB.prepare("select status, providerPaymentId, failureCode, failureMessage from payment_attempts where id = ?").bind(id).first();
}
/** Earlier tests leave attempts pending on purpose; these tests look at one attempt alone. */
async function cancelPendingAttempts() {
  await env.DB.prepare("update payment_attempts set status = 'canceled' where userId = ? and status = 'pending'").bind(hal.id).run();
}
async function freshAttempt() {
  const code = `submit-${++plans}`;
  await seedPlan(code, { amountMinor: 1500, currency: "GBP" });
  const subscriptionId = await subscribe(hal, code);
  return { ...(await startPayment(hal, subscriptionId)), subscriptionId };
}

describe("submitPendingAttempts", () => {
  it("asks whose mandate it is, then POSTs the pending attempt with it; the attempt becomes processing with GoCardless's payment id; a second run sends nothing", async () => {
    const attempt = await freshAttempt();
    const { fetch, sent } = stubFetch(halsMandate(), json(createdPaymentBody(attempt.id), 201));

    expect(await run(fetch)).toEqual({ due: 1, done: 1, skipped: 0, failed: 0 });

    expect(sent.map((request) => `${request.method} ${request.url}`)).toEqual([`GET ${BASE}/mandates/${mandateId}`, `POST ${BASE}/payments`]);
    expect(sent[0]!.body).toBeUndefined();
    expect(sent[1]!.headers.get("idempotency-key")).toBe(attempt.id);
    // A first payment is owed now: no charge_date, GoCardless collects as soon as the mandate allows.
    expect(sent[1]!.body).toEqual({ payments: { amount: 1500, currency: "GBP", metadata: { payment_attempt_id: attempt.id }, links: { mandate: mandateId } } });
    expect(await attemptRow(attempt.id)).toEqual({ status: "processing", providerPaymentId: "PM009P3V243EGQ", failureCode: null, failureMessage: null });
    expect(await run(stubFetch().fetch)).toEqual({ due: 0, done: 0, skipped: 0, failed: 0 });

    // GoCardless's confirmation then finds it by the payment id.
    await sendWebhook([paymentEvent("confirmed", attempt.id, "PM009P3V243EGQ")]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "succeeded" });
  });

  it("a renewal whose period still runs is collected on the period's last day", async () => {
    const attempt = await freshAttempt();
    await sendWebhook([paymentEvent("confirmed", attempt.id, `PM-FIRST-${attempt.id.slice(0, 8)}`)]);
    const period = await setSubscriptionState(attempt.subscriptionId, { periodEndsInDays: 2 });
    const renewal = await startPayment(hal, attempt.subscriptionId);
    const { fetch, sent } = stubFetch(halsMandate(), json(createdPaymentBody(renewal.id, "PM0000RENEWAL"), 201));

    expect(await run(fetch)).toEqual({ due: 1, done: 1, skipped: 0, failed: 0 });

    expect(sent[1]!.body.payments.charge_date).toBe(period.currentPeriodEnd.slice(0, 10));
    await sendWebhook([paymentEvent("cancelled", renewal.id, "PM0000RENEWAL")]);
  });

  it("a provider error is recorded on the attempt, which stays pending (a 422 refusal sent again by the next run, a lost answer after a backoff); the run after a lost answer gets the existing payment (409), not a second one", async () => {
    const attempt = await freshAttempt();
    const refused = stubFetch(halsMandate(), json(mandateIsInactiveBody, 422));
    expect(await run(refused.fetch)).toEqual({ due: 1, done: 0, skipped: 0, failed: 1 });
    expect(await attemptRow(attempt.id)).toEqual({
      status: "pending",
      providerPaymentId: null,
      failureCode: "mandate_is_inactive",
      failureMessage: "The mandate for this payment is cancelled",
    });

    // A 422 says GoCardless created nothing: no backoff (nextRetryAt null, so an ended token releases it at once).
    expect(await env.DB.prepare("select nextRetryAt from payment_attempts where id = ?").bind(attempt.id).first("nextRetryAt")).toBeNull();
    // The next run dies after GoCardless created the payment (the answer never arrives)...
    // (an answer that proves nothing waits at least 15 minutes: a later run sends it again)
    const lost = stubFetch(halsMandate(), new TypeError("Network connection lost."));
    expect(await run(lost.fetch, minutesLater(1))).toEqual({ due: 1, done: 0, skipped: 0, failed: 1 });
    expect(await run(stubFetch().fetch, minutesLater(2))).toEqual({ due: 0, done: 0, skipped: 0, failed: 0 });
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "pending", failureCode: "network_error" });
    // ...so the next run sends the same Idempotency-Key, and GoCardless names the payment it has.
    const retried = stubFetch(halsMandate(), json(idempotentCreationConflictBody("PM0000RETRIED"), 409), json(createdPaymentBody(attempt.id, "PM0000RETRIED")));
    expect(await run(retried.fetch, minutesLater(15))).toEqual({ due: 0, done: 0, skipped: 0, failed: 0 });
    expect(await run(retried.fetch, minutesLater(17))).toEqual({ due: 1, done: 1, skipped: 0, failed: 0 });
    expect(retried.sent.map((request) => request.headers.get("idempotency-key"))).toEqual([null, attempt.id, null]);
    expect(await attemptRow(attempt.id)).toEqual({ status: "processing", providerPaymentId: "PM0000RETRIED", failureCode: null, failureMessage: null });
  });

  it("an attempt whose token is no longer active is never sent: it is released (canceled, token_revoked), not failed", async () => {
    const attempt = await freshAttempt();
    await env.DB.prepare("update direct_debit_tokens set status = 'expired', isDefault = 0 where userId = ?").bind(hal.id).run();
    const { fetch, sent } = stubFetch();
    expect(await run(fetch)).toEqual({ due: 1, done: 1, skipped: 0, failed: 0 });
    expect(sent).toHaveLength(0);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "canceled", failureCode: "token_revoked" });
  });

  it("a payment id another attempt already holds is recorded as a failure on the attempt, and the run goes on", async () => {
    await env.DB.prepare("update direct_debit_tokens set status = 'active', isDefault = 1 where userId = ? and id = (select min(id) from direct_debit_tokens where userId = ?)").bind(hal.id, hal.id).run();
    const first = await freshAttempt();
    const second = await freshAttempt();
    const { fetch } = stubFetch(halsMandate(), json(createdPaymentBody(first.id, "PM0000TWICE"), 201), halsMandate(), json(createdPaymentBody(second.id, "PM0000TWICE"), 201));
    expect(await run(fetch)).toEqual({ due: 2, done: 1, skipped: 0, failed: 1 });
    expect(await attemptRow(second.id)).toMatchObject({ status: "pending", failureCode: "provider_payment_conflict" });
  });
  it("a mandate GoCardless says is another customer's (or unknown) is not charged: only the GET is sent, `mandate_not_yours` recorded", async () => {
    await cancelPendingAttempts();
    const attempt = await freshAttempt();
    const elsewhere = stubFetch(json(mandateBody(mandateId, "CU0000SOMEONEELSE")));
    expect(await run(elsewhere.fetch)).toEqual({ due: 1, done: 0, skipped: 0, failed: 1 });
    expect(elsewhere.sent.map((request) => `${request.method} ${request.url}`)).toEqual([`GET ${BASE}/mandates/${mandateId}`]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "pending", providerPaymentId: null, failureCode: "mandate_not_yours" });

    const unknown = stubFetch(json({ error: { message: "Resource not found", type: "invalid_api_usage", code: 404, errors: [{ reason: "resource_not_found", message: "Resource not found" }] } }, 404));
    // (a failed submission waits at least 15 minutes before the next try)
    expect(await run(unknown.fetch, minutesLater(16))).toEqual({ due: 1, done: 0, skipped: 0, failed: 1 });
    expect(unknown.sent).toHaveLength(1);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "pending", failureCode: "mandate_not_yours" });
    await env.DB.prepare("update payment_attempts set status = 'canceled' where id = ?").bind(attempt.id).run();
  });

  it("an owner without a GoCardless customer is not charged and nothing is sent: `provider_customer_missing`", async () => {
    await cancelPendingAttempts();
    const attempt = await freshAttempt();
    const link = await env.DB.prepare("select * from provider_customers where userId = ?").bind(hal.id).first<Record<string, string>>();
    await env.DB.prepare("delete from provider_customers where userId = ?").bind(hal.id).run();
    try {
      const { fetch, sent } = stubFetch();
      expect(await run(fetch)).toEqual({ due: 1, done: 0, skipped: 0, failed: 1 });
      expect(sent).toHaveLength(0);
      expect(await attemptRow(attempt.id)).toMatchObject({ status: "pending", failureCode: "provider_customer_missing" });
    } finally {
      await env.DB.prepare("insert into provider_customers (userId, provider, customerId, createdAt) values (?, ?, ?, ?)").bind(link!.userId, link!.provider, link!.customerId, link!.createdAt).run();
      await env.DB.prepare("update payment_attempts set status = 'canceled' where id = ?").bind(attempt.id).run();
    }
  });
});
