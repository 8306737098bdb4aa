import { env } from "cloudflare:workers";
import { createAuthClient } from "better-auth/client";
import { beforeAll, describe, expect, it } from "vitest";
import { ORIGIN, signedInUser, type TestUser } from "../support/auth-session";
import { api, tokenBody } from "../support/billing-api";
import { addActiveToken, seedPlan, subscribe } from "../support/billing-setup";
import { cookieJarFetch } from "../support/cookie-jar-fetch";
import { addFakeMandate, installFakeGoCardless } from "../support/gocardless/fake-gocardless";
import { migrateToLatest } from "../support/migrate-to-latest";
import { mandateEvent, paymentConfirmed, sendWebhook } from "../support/webhook-signer";

// A web app's view: Better Auth's own client signs up, its session cookie
// then authorizes the billing API; deleting the user through Better Auth
// takes all their billing rows with it.

const jar = cookieJarFetch();
const client = createAuthClient({ baseURL: ORIGIN, fetchOptions: { customFetchImpl: jar.fetch } });
const email = "grace@example.com";
const password = "correct-horse-battery-staple";
let graceId: string;
let henry: TestUser;
let oldCookie: string;
let paymentId: string;
let subscriptionId: string;

async function billing(path: string, init: { method?: string; json?: unknown; headers?: Record<string, string> } = {}) {
  const response = await jar.fetch(`${ORIGIN}${path}`, {
    method: init.method ?? (init.json === undefined ? "GET" : "POST"),
    headers: { ...(init.json !== undefined && { "content-type": "application/json" }), ...init.headers },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function rowsOf(userId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ["user_subscriptions", "payment_attempts", "direct_debit_tokens"]) {
    counts[table] = (await env.DB.prepare(`select count(*) as n from "${table}" where userId = ?`).bind(userId).first<{ n: number }>())!.n;
  }
  return counts;
}

beforeAll(async () => {
  await migrateToLatest(env.DB);
  await seedPlan("basic");
  henry = await signedInUser("henry@example.com");
  await subscribe(henry, "basic");
  await addActiveToken(henry);
});

describe("Better Auth's client, then the billing API", () => {
  it("signs up with createAuthClient and uses the session cookie for billing", async () => {
    const { data, error } = await client.signUp.email({ email, password, name: "Grace" });
    expect(error).toBeNull();
    graceId = data!.user.id;
    expect(jar.cookies.has("better-auth.session_token")).toBe(true);
    const session = await client.getSession();
    expect(session.data?.user.email).toBe(email);

    const subscribed = await billing("/api/billing/subscriptions", { json: { planCode: "basic" } });
    expect(subscribed.status).toBe(201);
    // The mandate is set up at (the fake) GoCardless for the customer the app creates for Grace.
    installFakeGoCardless();
    const customer = await billing("/api/billing/provider-customers", { json: { provider: "gocardless", givenName: "Grace", familyName: "Hopper" } });
    expect(customer.status).toBe(201);
    const token = tokenBody({ token: addFakeMandate(customer.body.customer.customerId) });
    const stored = await billing("/api/billing/direct-debit-tokens", { json: token });
    expect(stored.status).toBe(201);
    await sendWebhook([mandateEvent(token.token, "active")]);
    const paid = await billing(`/api/billing/subscriptions/${subscribed.body.subscription.id}/payment-attempts`, {
      method: "POST",
      headers: { "Idempotency-Key": "grace-1" },
    });
    expect(paid.status).toBe(201);
    paymentId = paid.body.paymentAttempt.id;
    subscriptionId = subscribed.body.subscription.id;
    const mine = await billing("/api/billing/subscriptions");
    expect(mine.body.subscriptions).toHaveLength(1);
  });

  it("a plan Grace created survives her deletion, with createdBy cleared", async () => {
    await seedPlan("grace-special", { createdBy: graceId });
    expect(await rowsOf(graceId)).toEqual({ user_subscriptions: 1, payment_attempts: 1, direct_debit_tokens: 1 });
    const henryBefore = await rowsOf(henry.id);
    oldCookie = `better-auth.session_token=${jar.cookies.get("better-auth.session_token")}`;

    // Her payment is still in flight and her subscription collects: refused, nothing deleted.
    const refused = await client.deleteUser({ password });
    expect(refused.error).toMatchObject({ status: 409, code: "PAYMENT_IN_FLIGHT" });
    expect(await rowsOf(graceId)).toEqual({ user_subscriptions: 1, payment_attempts: 1, direct_debit_tokens: 1 });
    // As the docs say: let the payment settle and cancel the subscription, then delete.
    await sendWebhook([paymentConfirmed(paymentId)]);
    expect((await billing(`/api/billing/subscriptions/${subscriptionId}/cancel`, { json: { atPeriodEnd: false } })).status).toBe(200);

    const { error } = await client.deleteUser({ password });
    expect(error).toBeNull();

    expect(await env.DB.prepare(`select count(*) as n from "user" where id = ?`).bind(graceId).first()).toEqual({ n: 0 });
    expect(await rowsOf(graceId)).toEqual({ user_subscriptions: 0, payment_attempts: 0, direct_debit_tokens: 0 });
    expect(await env.DB.prepare("select createdBy from subscription_plans where code = 'grace-special'").first()).toEqual({ createdBy: null });
    expect(await rowsOf(henry.id)).toEqual(henryBefore);
    expect(henryBefore.user_subscriptions).toBe(1);
    // Henry's billing still works.
    expect((await api("/api/billing/direct-debit-tokens", { user: henry })).body.tokens).toHaveLength(1);
  });

  it("after deletion the old cookie no longer opens the billing API", async () => {
    expect((await client.getSession()).data).toBeNull();
    const response = await api("/api/billing/subscriptions", { headers: { cookie: oldCookie } });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("UNAUTHENTICATED");
  });
});
