import { env } from "cloudflare:workers";
import document from "../../public/api/billing/openapi.json";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { signedInUser, type TestUser } from "../support/auth-session";
import { api, billingSnapshot, callAppConcurrently, gocardlessCustomerFor, tokenBody, tokenBodyFor } from "../support/billing-api";
import { expectDocumentedSuccess } from "../support/documented-answer";
import { addFakeMandate, fakeGoCardlessRequests, installFakeGoCardless } from "../support/gocardless/fake-gocardless";
import { migrateToLatest } from "../support/migrate-to-latest";
import { GOCARDLESS_TIMEOUT_MS } from "../../src/billing/gocardless/gocardless-client";

// Mandates belong to a provider customer: the app creates one GoCardless
// customer per user, and a mandate is stored only when GoCardless says its
// links.customer is that user's customer. GoCardless is the in-memory fake at
// the network edge (test/support/gocardless/fake-gocardless.ts).

const BASE = env.GOCARDLESS_API_URL;
const TOKENS = "/api/billing/direct-debit-tokens";
const CUSTOMERS = "/api/billing/provider-customers";
let ann: TestUser;
let ben: TestUser;

beforeAll(async () => {
  await migrateToLatest(env.DB);
  installFakeGoCardless();
  ann = await signedInUser("ann-mandates@example.com");
  ben = await signedInUser("ben-mandates@example.com");
});
afterEach(() => vi.restoreAllMocks());

/** The fake GoCardless's requests from now on. */
function recordRequests() {
  const from = fakeGoCardlessRequests.length;
  return () => fakeGoCardlessRequests.slice(from);
}

describe("a mandate id someone else holds", () => {
  it("user B storing user A's mandate id is refused (403 MANDATE_NOT_YOURS) and writes nothing; A then stores it", async () => {
    const annsMandate = addFakeMandate(await gocardlessCustomerFor(ann));
    await gocardlessCustomerFor(ben);
    const before = await billingSnapshot();
    const requests = recordRequests();

    const stolen = await api(TOKENS, { user: ben, json: tokenBody({ token: annsMandate }) });

    expect(stolen.status).toBe(403);
    expect(stolen.body.error.code).toBe("MANDATE_NOT_YOURS");
    expect(await billingSnapshot()).toEqual(before);
    // Exactly one request: GoCardless's "Get a single mandate", authenticated and versioned.
    expect(requests().map((r) => ({ method: r.method, path: r.path, auth: r.headers.get("authorization"), version: r.headers.get("gocardless-version"), body: r.body }))).toEqual([
      { method: "GET", path: `/mandates/${annsMandate}`, auth: "Bearer sandbox_test_token", version: "2015-07-06", body: undefined },
    ]);

    const owned = await api(TOKENS, { user: ann, json: tokenBody({ token: annsMandate }) });
    expect(owned.status).toBe(201);
    // And once A holds it, B is still refused for the same reason (not TOKEN_EXISTS: nothing about A leaks).
    expect((await api(TOKENS, { user: ben, json: tokenBody({ token: annsMandate }) })).body.error.code).toBe("MANDATE_NOT_YOURS");
  });

  it("a mandate GoCardless does not know is refused the same way", async () => {
    await gocardlessCustomerFor(ben);
    const before = await billingSnapshot();
    const refused = await api(TOKENS, { user: ben, json: tokenBody({ token: "MD0000NOSUCH" }) });
    expect([refused.status, refused.body.error.code]).toEqual([403, "MANDATE_NOT_YOURS"]);
    expect(await billingSnapshot()).toEqual(before);
  });

  it.each([".", "..", "../customers", "MD1?x=1", "md000lowercase", "MD0001#frag"])(
    "a mandate id that is not GoCardless's shape (%j) is refused the same way without asking GoCardless (no path games on its API)",
    async (token) => {
      await gocardlessCustomerFor(ben);
      const before = await billingSnapshot();
      const requests = recordRequests();
      const refused = await api(TOKENS, { user: ben, json: tokenBody({ token }) });
      expect([refused.status, refused.body.error.code]).toEqual([403, "MANDATE_NOT_YOURS"]);
      expect(requests()).toEqual([]);
      expect(await billingSnapshot()).toEqual(before);
    },
  );

  it("a user without a GoCardless customer is told to create one (409 PROVIDER_CUSTOMER_REQUIRED); nothing is asked or stored", async () => {
    const cy = await signedInUser("cy-mandates@example.com");
    const before = await billingSnapshot();
    const requests = recordRequests();
    const refused = await api(TOKENS, { user: cy, json: tokenBody({ token: addFakeMandate("CU0000SOMEONE") }) });
    expect([refused.status, refused.body.error.code]).toEqual([409, "PROVIDER_CUSTOMER_REQUIRED"]);
    expect(requests()).toEqual([]);
    expect(await billingSnapshot()).toEqual(before);
  });

  it("GoCardless unreachable → 502 PROVIDER_UNAVAILABLE, nothing stored; no access token → 503 PROVIDER_NOT_CONFIGURED, nothing sent", async () => {
    const body = await tokenBodyFor(ann);
    const before = await billingSnapshot();
    const fetch = vi.spyOn(globalThis, "fetch").mockRejectedValueOnce(new TypeError("Network connection lost."));
    const down = await api(TOKENS, { user: ann, json: body });
    expect([down.status, down.body.error]).toEqual([502, expect.objectContaining({ code: "PROVIDER_UNAVAILABLE", details: { provider: "gocardless", providerCode: "network_error" } })]);
    expect(fetch).toHaveBeenCalledTimes(1);

    const requests = recordRequests();
    const unconfigured = await callAppConcurrently(TOKENS, { method: "POST", cookie: ann.cookie, body: JSON.stringify(body) }, { ...env, GOCARDLESS_ACCESS_TOKEN: undefined });
    expect(unconfigured.status).toBe(503);
    expect(((await unconfigured.json()) as any).error.code).toBe("PROVIDER_NOT_CONFIGURED");
    expect(requests()).toEqual([]);
    expect(await billingSnapshot()).toEqual(before);
  });
});

describe("a GoCardless that accepts the connection and never answers", () => {
  /** fetch to GoCardless hangs until the request's own signal aborts it (as a real fetch does); the client's timeout is shortened. */
  function hangingGoCardless() {
    const original = globalThis.fetch;
    const timeout = AbortSignal.timeout.bind(AbortSignal);
    const timeouts = vi.spyOn(AbortSignal, "timeout").mockImplementation(() => timeout(50));
    const fetch = vi.spyOn(globalThis, "fetch").mockImplementation((input, init) =>
      new Request(input, init).url.startsWith(BASE) ? new Promise<Response>((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason))) : original(input, init),
    );
    return { fetch, timeouts };
  }

  it("creating the customer answers 502 PROVIDER_UNAVAILABLE (network_error) after the documented timeout; nothing stored", async () => {
    const fay = await signedInUser("fay-mandates@example.com");
    const before = await billingSnapshot();
    const { fetch, timeouts } = hangingGoCardless();
    const answer = await api(CUSTOMERS, { user: fay, json: { provider: "gocardless", givenName: "Fay", familyName: "Wu" } });
    expect([answer.status, answer.body.error]).toEqual([502, expect.objectContaining({ code: "PROVIDER_UNAVAILABLE", details: { provider: "gocardless", providerCode: "network_error" } })]);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(timeouts).toHaveBeenCalledWith(GOCARDLESS_TIMEOUT_MS);
    expect(await billingSnapshot()).toEqual(before);
  });

  it("the mandate check on token store answers 502 PROVIDER_UNAVAILABLE; nothing stored", async () => {
    const body = await tokenBodyFor(ann);
    const before = await billingSnapshot();
    hangingGoCardless();
    const answer = await api(TOKENS, { user: ann, json: body });
    expect([answer.status, answer.body.error.code]).toEqual([502, "PROVIDER_UNAVAILABLE"]);
    expect(await billingSnapshot()).toEqual(before);
  });
});

describe("POST /api/billing/provider-customers", () => {
  it("creates the user's GoCardless customer once (exact request), records it, and answers the same customer again without a second call", async () => {
    const dee = await signedInUser("dee-mandates@example.com");
    const requests = recordRequests();
    const created = await api(CUSTOMERS, { user: dee, json: { provider: "gocardless", givenName: "Dee", familyName: "O'Neill" } });

    expect(created.status).toBe(201);
    expectDocumentedSuccess("POST", CUSTOMERS, created.status, JSON.stringify(created.body));
    expect(created.body.customer).toEqual({ provider: "gocardless", customerId: expect.stringMatching(/^CU/), createdAt: expect.any(String) });
    expect(requests().map((r) => ({ method: r.method, path: r.path, key: r.headers.get("idempotency-key"), type: r.headers.get("content-type"), body: r.body }))).toEqual([
      {
        method: "POST",
        path: "/customers",
        key: `customer-${dee.id}`,
        type: "application/json",
        body: { customers: { email: "dee-mandates@example.com", given_name: "Dee", family_name: "O'Neill", metadata: { user_id: dee.id } } },
      },
    ]);
    const row = await env.DB.prepare("select userId, provider, customerId from provider_customers where userId = ?").bind(dee.id).first();
    expect(row).toEqual({ userId: dee.id, provider: "gocardless", customerId: created.body.customer.customerId });

    const again = await api(CUSTOMERS, { user: dee, json: { provider: "gocardless", givenName: "Other", familyName: "Name" } });
    expect([again.status, again.body.customer]).toEqual([200, created.body.customer]);
    expectDocumentedSuccess("POST", CUSTOMERS, again.status, JSON.stringify(again.body));
    // The served document lists both answers.
    expect(Object.keys(document.paths["/api/billing/provider-customers"].post.responses)).toEqual(expect.arrayContaining(["200", "201"]));
    expect(requests()).toHaveLength(1);
    expect((await api(CUSTOMERS, { user: dee })).body).toEqual({ customers: [created.body.customer] });
  });

  it("two calls at once make one customer at GoCardless (one Idempotency-Key) and one row", async () => {
    const eve = await signedInUser("eve-mandates@example.com");
    const call = () => api(CUSTOMERS, { user: eve, json: { provider: "gocardless", givenName: "Eve", familyName: "Park" }, concurrent: true });
    const answers = await Promise.all([call(), call(), call()]);
    const ids = new Set(answers.map((answer) => answer.body.customer.customerId));
    expect(ids.size).toBe(1);
    expect(answers.map((answer) => answer.status).sort()).toContain(201);
    const { n } = (await env.DB.prepare("select count(*) as n from provider_customers where userId = ?").bind(eve.id).first<{ n: number }>())!;
    expect(n).toBe(1);
  });

  it.each([
    ["no session", 401, "UNAUTHENTICATED", undefined, { provider: "gocardless", givenName: "A", familyName: "B" }],
    ["another provider", 400, "VALIDATION_FAILED", "user", { provider: "stripe", givenName: "A", familyName: "B" }],
    ["a blank name", 400, "VALIDATION_FAILED", "user", { provider: "gocardless", givenName: "  ", familyName: "B" }],
    ["a control character", 400, "VALIDATION_FAILED", "user", { provider: "gocardless", givenName: "A\u0000", familyName: "B" }],
    ["a lone UTF-16 surrogate", 400, "VALIDATION_FAILED", "user", { provider: "gocardless", givenName: "A\ud800", familyName: "B" }],
    ["a lone low surrogate", 400, "VALIDATION_FAILED", "user", { provider: "gocardless", givenName: "Ada", familyName: "\udc00B" }],
    ["an unknown field", 400, "VALIDATION_FAILED", "user", { provider: "gocardless", givenName: "A", familyName: "B", customerId: "CU1" }],
  ])("%s → %i %s; nothing sent or stored", async (_name, status, code, as, json) => {
    const fay = await signedInUser(`fay-${crypto.randomUUID().slice(0, 8)}@example.com`);
    const requests = recordRequests();
    const answer = await api(CUSTOMERS, { user: as ? fay : undefined, json });
    expect([answer.status, answer.body.error.code]).toEqual([status, code]);
    if (_name === "a blank name") {
      expect(JSON.stringify(answer.body.error)).toContain("must not be blank");
      expect(JSON.stringify(answer.body.error)).not.toContain("control characters");
    }
    expect(requests()).toEqual([]);
    expect(await env.DB.prepare("select count(*) as n from provider_customers where userId = ?").bind(fay.id).first("n")).toBe(0);
  });
});
