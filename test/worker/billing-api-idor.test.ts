import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { signedInUser, type TestUser } from "../support/auth-session";
import { api, billingSnapshot } from "../support/billing-api";
import { addActiveToken, seedPlan, startPayment, subscribe } from "../support/billing-setup";
import { migrateToLatest } from "../support/migrate-to-latest";

// Insecure direct object references: Bob calls every route that takes an id
// with Alice's ids. Each must answer exactly what a missing id answers (404,
// same body), and change nothing.

let alice: TestUser;
let bob: TestUser;
const ids = { subscription: "", attempt: "", token: "" };
let bobSubscription: string;

beforeAll(async () => {
  await migrateToLatest(env.DB);
  await seedPlan("basic");
  alice = await signedInUser("alice-idor@example.com");
  bob = await signedInUser("bob-idor@example.com");
  ids.subscription = await subscribe(alice, "basic");
  ids.token = (await addActiveToken(alice)).id;
  ids.attempt = (await startPayment(alice, ids.subscription)).id;
  bobSubscription = await subscribe(bob, "basic");
  await addActiveToken(bob);
});

type Call = { method: string; path: (id: string) => string; json?: unknown; headers?: Record<string, string> };
const routes: [string, keyof typeof ids, Call][] = [
  ["GET /subscriptions/:id", "subscription", { method: "GET", path: (id) => `/api/billing/subscriptions/${id}` }],
  ["POST /subscriptions/:id/cancel", "subscription", { method: "POST", path: (id) => `/api/billing/subscriptions/${id}/cancel`, json: { atPeriodEnd: false } }],
  [
    "POST /subscriptions/:id/payment-attempts",
    "subscription",
    { method: "POST", path: (id) => `/api/billing/subscriptions/${id}/payment-attempts`, headers: { "Idempotency-Key": "bob-idor-1" } },
  ],
  ["GET /payment-attempts/:id", "attempt", { method: "GET", path: (id) => `/api/billing/payment-attempts/${id}` }],
  ["GET /direct-debit-tokens/:id", "token", { method: "GET", path: (id) => `/api/billing/direct-debit-tokens/${id}` }],
  ["POST /direct-debit-tokens/:id/default", "token", { method: "POST", path: (id) => `/api/billing/direct-debit-tokens/${id}/default` }],
  ["DELETE /direct-debit-tokens/:id", "token", { method: "DELETE", path: (id) => `/api/billing/direct-debit-tokens/${id}` }],
];

describe("IDOR: Bob with Alice's ids", () => {
  it.each(routes)("%s → 404 exactly like a missing id, nothing changes", async (_name, kind, call) => {
    const before = await billingSnapshot();
    const request = (id: string) => api(call.path(id), { user: bob, method: call.method, json: call.json, headers: call.headers });

    const foreign = await request(ids[kind]);
    const missing = await request(crypto.randomUUID());

    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toMatch(/_NOT_FOUND$/);
    expect(foreign.text).toBe(missing.text);
    expect(await billingSnapshot()).toEqual(before);

    // Alice herself still reaches the same id (the 404 was about ownership, not a bad id).
    if (call.method === "GET") expect((await api(call.path(ids[kind]), { user: alice })).status).toBe(200);
  });

  it("paying his own subscription with Alice's token is 404 TOKEN_NOT_FOUND, nothing changes", async () => {
    const before = await billingSnapshot();
    const response = await api(`/api/billing/subscriptions/${bobSubscription}/payment-attempts`, {
      user: bob,
      json: { directDebitTokenId: ids.token },
      headers: { "Idempotency-Key": "bob-idor-2" },
    });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe("TOKEN_NOT_FOUND");
    expect(await billingSnapshot()).toEqual(before);
  });

  it("his lists hold none of Alice's rows", async () => {
    const lists = await Promise.all([
      api("/api/billing/subscriptions", { user: bob }),
      api("/api/billing/payment-attempts", { user: bob }),
      api("/api/billing/direct-debit-tokens", { user: bob }),
    ]);
    for (const list of lists) {
      expect(list.status).toBe(200);
      for (const id of Object.values(ids)) expect(list.text).not.toContain(id);
    }
    expect(lists[0]!.body.subscriptions).toHaveLength(1);
    expect(lists[2]!.body.tokens).toHaveLength(1);
  });

  it("without a session every billing route but the plan list and webhooks is 401", async () => {
    const paths: [string, string][] = [
      ["GET", "/api/billing/subscriptions"],
      ["POST", "/api/billing/subscriptions"],
      ["GET", `/api/billing/subscriptions/${ids.subscription}`],
      ["POST", `/api/billing/subscriptions/${ids.subscription}/cancel`],
      ["POST", `/api/billing/subscriptions/${ids.subscription}/payment-attempts`],
      ["GET", "/api/billing/payment-attempts"],
      ["GET", `/api/billing/payment-attempts/${ids.attempt}`],
      ["GET", "/api/billing/direct-debit-tokens"],
      ["POST", "/api/billing/direct-debit-tokens"],
      ["GET", "/api/billing/provider-customers"],
      ["POST", "/api/billing/provider-customers"],
      ["POST", `/api/billing/direct-debit-tokens/${ids.token}/default`],
      ["DELETE", `/api/billing/direct-debit-tokens/${ids.token}`],
      ["POST", "/api/billing/plans"],
      ["PATCH", "/api/billing/plans/basic"],
      ["POST", "/api/billing/plans/basic/deactivate"],
    ];
    const before = await billingSnapshot();
    for (const [method, path] of paths) {
      const forged = await api(path, { method, json: method === "GET" ? undefined : {}, headers: { cookie: "better-auth.session_token=forged.value" } });
      expect([method, path, forged.status, forged.body.error?.code]).toEqual([method, path, 401, "UNAUTHENTICATED"]);
    }
    expect(await billingSnapshot()).toEqual(before);
    expect((await api("/api/billing/plans")).status).toBe(200);
  });
});
