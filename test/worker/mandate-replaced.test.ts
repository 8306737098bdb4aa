import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { loadTokenKeyring, openToken, sealToken } from "../../src/billing/token-cipher";
import { fingerprintToken, loadFingerprintKey } from "../../src/billing/token-fingerprint";
import { signedInUser, type TestUser } from "../support/auth-session";
import { api, billingSnapshot, callAppConcurrently, gocardlessCustomerFor, tokenBody } from "../support/billing-api";
import { addActiveToken, seedPlan, startPayment, subscribe } from "../support/billing-setup";
import { createdPaymentBody } from "../support/gocardless/api-fixtures";
import { addFakeMandate, fakeGoCardlessRequests } from "../support/gocardless/fake-gocardless";
import { migrateToLatest } from "../support/migrate-to-latest";
import { mandateEvent, paymentEvent, sendWebhook, signatureHeader, type GoCardlessEvent, deliverEach } from "../support/webhook-signer";

// GoCardless's `mandates.replaced` (issue 11, item 4): "The mandate has been cancelled and
// replaced by a new mandate (for example because the creditor has moved to a new Service User
// Number). The event will include links[new_mandate] with the ID of the new mandate." (its event
// reference; GoCardless's support article on it: store the `new_mandate` ID from the event's links
// instead of the old one). The token is re-pointed at the new mandate, so the user's payments go
// on being collected; through the Worker on a real local D1, GoCardless at the network edge
// (the fake GoCardless, and a stub of POST /payments).

const BASE = env.GOCARDLESS_API_URL.replace(/\/+$/, "");
const TOKENS = "/api/billing/direct-debit-tokens";
let plans = 0;

beforeAll(async () => {
  await migrateToLatest(env.DB);
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** `mandates.replaced` as GoCardless's event reference shows it (the creditor moved to a new scheme identifier). */
function replaced(mandateId: string, newMandateId: string): GoCardlessEvent {
  return {
    ...mandateEvent(mandateId, "replaced", { new_mandate: newMandateId }),
    details: {
      origin: "gocardless",
      cause: "scheme_identifier_changed",
      description: "The creditor has changed to a different scheme identifier so this mandate has been cancelled and replaced by a new one.",
    },
  };
}

/** A user with an active default token and a subscription whose first payment is pending on it. */
async function payingUser(name: string) {
  const user = await signedInUser(`${name}-${crypto.randomUUID().slice(0, 6)}@example.com`);
  const token = await addActiveToken(user);
  const code = `replaced-${++plans}`;
  await seedPlan(code, { amountMinor: 1500, currency: "GBP" });
  const subscriptionId = await subscribe(user, code);
  const attempt = await startPayment(user, subscriptionId);
  // GoCardless creates the new mandate for the same customer, active (the payer's authority carries over).
  const newMandateId = addFakeMandate(await gocardlessCustomerFor(user), "active");
  return { user, token, subscriptionId, attempt, newMandateId };
}

async function tokenRow(id: string) {
  return env.DB.prepare("select status, isDefault, tokenCiphertext, tokenKeyId, tokenFingerprint, mandateEventAt from direct_debit_tokens where id = ?")
    .bind(id)
    .first<{ status: string; isDefault: number; tokenCiphertext: string; tokenKeyId: string; tokenFingerprint: string; mandateEventAt: string | null }>();
}
/** The mandate id a token holds, as the engine reads it (decrypted with the keyring, the row id bound). */
async function mandateOf(id: string) {
  const row = (await tokenRow(id))!;
  return openToken(await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEYS), { ciphertext: row.tokenCiphertext, keyId: row.tokenKeyId }, id);
}
async function fingerprintOf(mandateId: string) {
  return fingerprintToken(await loadFingerprintKey(env.TOKEN_FINGERPRINT_KEY), "gocardless", mandateId);
}
const attemptRow = (id: string) => env.DB.prepare("select status, failureCode, providerPaymentId from payment_attempts where id = ?").bind(id).first();


/** One engine run (the Cron Trigger); GoCardless's POST /payments answered 201 here, what it was sent returned. */
async function runEngine(paymentId: string): Promise<any[]> {
  const underlying = globalThis.fetch;
  const posted: any[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    if (!(request.method === "POST" && request.url === `${BASE}/payments`)) return underlying(input, init);
    const body = await request.json<any>();
    posted.push(body);
    return new Response(JSON.stringify(createdPaymentBody(body.payments.metadata.payment_attempt_id, paymentId)), { status: 201, headers: { "content-type": "application/json" } });
  });
  vi.spyOn(console, "log").mockImplementation(() => {});
  await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "*/15 * * * *" }), env as Env);
  return posted;
}

describe("mandates.replaced re-points the token at links.new_mandate", () => {
  it("the token stays active and the default, now holding the new mandate (encrypted under the current key, its fingerprint the new one's); the engine collects the payment started before on the new mandate", async () => {
    const { user, token, attempt, newMandateId } = await payingUser("rex");
    // Stored before a key rotation: under k1, the keyring's current key being k2.
    const retired = await sealToken(await loadTokenKeyring("k1:u2z+GJPCgygIE1LAYQDO9Dq/++O4Uk8sC0Fi9yCLWwQ="), token.mandateId, token.id);
    await env.DB.prepare("update direct_debit_tokens set tokenCiphertext = ?, tokenKeyId = ? where id = ?").bind(retired.ciphertext, retired.keyId, token.id).run();
    expect(await mandateOf(token.id)).toBe(token.mandateId);

    const event = replaced(token.mandateId, newMandateId);
    expect(await deliverEach(event)).toEqual(["applied"]);

    expect(await tokenRow(token.id)).toMatchObject({ status: "active", isDefault: 1, tokenKeyId: "k2", tokenFingerprint: await fingerprintOf(newMandateId) });
    expect(await mandateOf(token.id)).toBe(newMandateId);
    // Nothing of the user's is released: the payment waits for the engine, as before.
    expect(await attemptRow(attempt.id)).toEqual({ status: "pending", failureCode: null, providerPaymentId: null });
    const listed = await api(TOKENS, { user });
    expect(listed.body.tokens).toEqual([expect.objectContaining({ id: token.id, status: "active", isDefault: true })]);

    // A redelivery is a duplicate and changes nothing.
    const before = await billingSnapshot();
    expect(await deliverEach(event)).toEqual(["duplicate"]);
    expect(await billingSnapshot()).toEqual(before);

    const requestsBefore = fakeGoCardlessRequests.length;
    const posted = await runEngine("PM00REPLACED01");
    // Whose mandate it is was asked about the new one (it is the user's customer's), then the payment sent on it.
    expect(fakeGoCardlessRequests.slice(requestsBefore).map((request) => `${request.method} ${request.path}`)).toEqual([`GET /mandates/${newMandateId}`]);
    expect(posted).toEqual([{ payments: { amount: 1500, currency: "GBP", metadata: { payment_attempt_id: attempt.id }, links: { mandate: newMandateId } } }]);
    expect(await attemptRow(attempt.id)).toEqual({ status: "processing", failureCode: null, providerPaymentId: "PM00REPLACED01" });

    // GoCardless's events about that payment match it by its id.
    expect(await deliverEach(paymentEvent("confirmed", attempt.id, "PM00REPLACED01"))).toEqual(["applied"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "succeeded" });
  });

  it("a payment GoCardless already holds on the old mandate still matches by its payment id after the replacement", async () => {
    const { token, attempt, newMandateId } = await payingUser("rae");
    expect(await deliverEach(paymentEvent("submitted", attempt.id, "PM00OLDMANDATE"))).toEqual(["applied"]);
    expect(await deliverEach(replaced(token.mandateId, newMandateId))).toEqual(["applied"]);
    // GoCardless moved it to the new mandate (or kept it): its events name the payment, not the mandate.
    const confirmed = { ...paymentEvent("confirmed", attempt.id, "PM00OLDMANDATE"), resource_metadata: {} };
    expect(await deliverEach(confirmed)).toEqual(["applied"]);
    expect(await attemptRow(attempt.id)).toEqual({ status: "succeeded", failureCode: null, providerPaymentId: "PM00OLDMANDATE" });
    expect(await tokenRow(token.id)).toMatchObject({ status: "active", isDefault: 1 });
  });

  it("the new mandate's later events reach the token; the old mandate's find nothing (storing the new mandate again is TOKEN_EXISTS)", async () => {
    const { user, token, newMandateId } = await payingUser("ray");
    expect(await deliverEach(replaced(token.mandateId, newMandateId))).toEqual(["applied"]);

    const again = await api(TOKENS, { user, json: tokenBody({ token: newMandateId }) });
    expect([again.status, again.body.error?.code]).toEqual([409, "TOKEN_EXISTS"]);
    expect(await deliverEach(mandateEvent(token.mandateId, "expired"))).toEqual(["ignored"]);
    expect(await tokenRow(token.id)).toMatchObject({ status: "active", isDefault: 1 });

    expect(await deliverEach(mandateEvent(newMandateId, "cancelled"))).toEqual(["applied"]);
    expect(await tokenRow(token.id)).toMatchObject({ status: "revoked", isDefault: 0 });
  });

  it("in one delivery, the replacement then the new mandate's cancel: the cancel waits for the replacement and revokes the token", async () => {
    const { token, newMandateId } = await payingUser("roy");
    const response = await sendWebhook([replaced(token.mandateId, newMandateId), mandateEvent(newMandateId, "cancelled")]);
    expect(((await response.json()) as any).results.map((result: { outcome: string }) => result.outcome)).toEqual(["applied", "applied"]);
    expect(await tokenRow(token.id)).toMatchObject({ status: "revoked", isDefault: 0 });
  });

  it("a delivery replacing many users' mandates (a creditor's new Service User Number) asks GoCardless nothing and re-points every token", async () => {
    const users = [await payingUser("rho-1"), await payingUser("rho-2"), await payingUser("rho-3")];
    const requestsBefore = fakeGoCardlessRequests.length;
    const response = await sendWebhook(users.map(({ token, newMandateId }) => replaced(token.mandateId, newMandateId)));
    expect(((await response.json()) as any).results.map((result: { outcome: string }) => result.outcome)).toEqual(["applied", "applied", "applied"]);
    expect(fakeGoCardlessRequests.length).toBe(requestsBefore);
    for (const { token, newMandateId } of users) expect(await mandateOf(token.id)).toBe(newMandateId);
  });
  it("without TOKEN_ENCRYPTION_KEYS the delivery fails closed (500 TOKEN_ENCRYPTION_UNAVAILABLE, nothing recorded), and GoCardless's redelivery once the keys are back re-points the token", async () => {
    const { token, newMandateId } = await payingUser("rod");
    const body = JSON.stringify({ events: [replaced(token.mandateId, newMandateId)] });
    const headers = { "Webhook-Signature": await signatureHeader(body) };
    const before = await billingSnapshot();
    vi.spyOn(console, "error").mockImplementation(() => {});

    const refused = await callAppConcurrently("/api/billing/webhooks/gocardless", { method: "POST", body, headers }, { ...env, TOKEN_ENCRYPTION_KEYS: undefined } as Env);
    expect([refused.status, ((await refused.json()) as any).error.code]).toEqual([500, "TOKEN_ENCRYPTION_UNAVAILABLE"]);
    expect(await billingSnapshot()).toEqual(before);

    const redelivered = await callAppConcurrently("/api/billing/webhooks/gocardless", { method: "POST", body, headers });
    expect(redelivered.status).toBe(200);
    expect(await mandateOf(token.id)).toBe(newMandateId);
  });
});

describe("mandates.replaced in any arrival order", () => {
  const ago = (event: GoCardlessEvent, ms: number) => ({ ...event, created_at: new Date(Date.now() - ms).toISOString() });

  it("an event of the old mandate arriving after the replacement finds nothing (nothing more happens to a replaced mandate: it happened before)", async () => {
    const { token, newMandateId } = await payingUser("ria");
    expect(await deliverEach(ago(replaced(token.mandateId, newMandateId), 60_000))).toEqual(["applied"]);
    const after = await tokenRow(token.id);
    expect(await deliverEach(ago(mandateEvent(token.mandateId, "failed"), 120_000))).toEqual(["ignored"]);
    expect(await tokenRow(token.id)).toEqual(after);
    expect(after).toMatchObject({ status: "active", isDefault: 1 });
  });

  it("a replacement older than the token's newest recorded event still re-points it (the old id can never be charged again); the token keeps its status and time, so the new mandate's events order against them", async () => {
    const { token, newMandateId } = await payingUser("rob");
    const before = (await tokenRow(token.id))!;
    expect(await deliverEach(ago(replaced(token.mandateId, newMandateId), 3_600_000))).toEqual(["applied"]);
    expect(await tokenRow(token.id)).toMatchObject({ status: "active", isDefault: 1, mandateEventAt: before.mandateEventAt, tokenFingerprint: await fingerprintOf(newMandateId) });
    expect(await mandateOf(token.id)).toBe(newMandateId);
    // An end of the new mandate that happened before the token's newest event is overtaken; a later one applies.
    expect(await deliverEach(ago(mandateEvent(newMandateId, "expired"), 3_600_000))).toEqual(["ignored"]);
    expect(await deliverEach(mandateEvent(newMandateId, "expired"))).toEqual(["applied"]);
    expect(await tokenRow(token.id)).toMatchObject({ status: "expired", isDefault: 0 });
  });

  it("a pending token is re-pointed and stays pending; the new mandate's mandates.active, also one stamped before the replacement and arriving after it, makes it active and the default", async () => {
    const user = await signedInUser(`rio-${crypto.randomUUID().slice(0, 6)}@example.com`);
    const customer = await gocardlessCustomerFor(user);
    const mandateId = addFakeMandate(customer, "pending_submission");
    const stored = await api(TOKENS, { user, json: tokenBody({ token: mandateId }) });
    const newMandateId = addFakeMandate(customer, "active");
    expect(await deliverEach(replaced(mandateId, newMandateId))).toEqual(["applied"]);
    expect(await tokenRow(stored.body.token.id)).toMatchObject({ status: "pending", isDefault: 0 });
    expect(await deliverEach(ago(mandateEvent(newMandateId, "active"), 1_000))).toEqual(["applied"]);
    expect(await tokenRow(stored.body.token.id)).toMatchObject({ status: "active", isDefault: 1 });
  });
});

describe("mandates.replaced that cannot re-point", () => {
  it("on a revoked token: ignored, the token stays revoked and keeps its mandate", async () => {
    const { user, token, newMandateId } = await payingUser("rue");
    expect((await api(`${TOKENS}/${token.id}`, { user, method: "DELETE" })).status).toBe(200);
    const before = await tokenRow(token.id);
    expect(await deliverEach(replaced(token.mandateId, newMandateId))).toEqual(["ignored"]);
    expect(await tokenRow(token.id)).toEqual(before);
    expect(before).toMatchObject({ status: "revoked" });
  });

  it("whose new mandate the user stored already: the old token ends (expired, no longer default, its payment never sent released) and the stored one becomes the default", async () => {
    const { user, token, attempt, newMandateId } = await payingUser("rey");
    const stored = await api(TOKENS, { user, json: tokenBody({ token: newMandateId }) });
    expect(stored.body.token).toMatchObject({ status: "active", isDefault: false });

    expect(await deliverEach(replaced(token.mandateId, newMandateId))).toEqual(["applied"]);

    expect(await tokenRow(token.id)).toMatchObject({ status: "expired", isDefault: 0 });
    expect(await tokenRow(stored.body.token.id)).toMatchObject({ status: "active", isDefault: 1 });
    expect(await attemptRow(attempt.id)).toEqual({ status: "canceled", failureCode: "token_revoked", providerPaymentId: null });
  });

  it("whose new mandate is another user's token: the old token ends (expired), the other user's token is left as it is", async () => {
    const { token } = await payingUser("ron");
    const other = await payingUser("roz");
    const before = await tokenRow(other.token.id);

    expect(await deliverEach(replaced(token.mandateId, other.token.mandateId))).toEqual(["applied"]);

    expect(await tokenRow(token.id)).toMatchObject({ status: "expired", isDefault: 0 });
    expect(await mandateOf(token.id)).toBe(token.mandateId);
    expect(await tokenRow(other.token.id)).toEqual(before);
  });

  it.each([
    ["no links.new_mandate", {}],
    ["a links.new_mandate that is no GoCardless mandate id", { new_mandate: "../payments" }],
  ])("with %s: the token ends expired, as a mandate that can no longer be charged", async (_name, links) => {
    const { token, attempt } = await payingUser("rip");
    const event = { ...replaced(token.mandateId, "MD0"), links: { mandate: token.mandateId, ...links } };
    expect(await deliverEach(event)).toEqual(["applied"]);
    expect(await tokenRow(token.id)).toMatchObject({ status: "expired", isDefault: 0 });
    expect(await mandateOf(token.id)).toBe(token.mandateId);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "canceled", failureCode: "token_revoked" });
  });
});
