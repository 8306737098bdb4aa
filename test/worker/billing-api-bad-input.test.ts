import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { signedInUser, type TestUser } from "../support/auth-session";
import { api, billingCounts, planBody, signUpOperator, tokenBody, tokenBodyFor } from "../support/billing-api";
import { addActiveToken, seedPlan, subscribe } from "../support/billing-setup";
import { migrateToLatest } from "../support/migrate-to-latest";

// Bad input of every kind is refused with a 4xx in the one error shape, and
// not one row is written to any billing table.

let operator: TestUser;
let erin: TestUser;
let subscriptionId: string;
let pendingTokenId: string;

interface Case {
  name: string;
  as: "operator" | "erin";
  method: string;
  path: () => string;
  json?: unknown;
  body?: string | Uint8Array<ArrayBuffer>;
  headers?: Record<string, string>;
  status: number;
  code: string;
}

const key = { "Idempotency-Key": "bad-input-key" };
const pay = () => `/api/billing/subscriptions/${subscriptionId}/payment-attempts`;
const plans = () => "/api/billing/plans";
const tokens = () => "/api/billing/direct-debit-tokens";
const resume = () => `/api/billing/subscriptions/${subscriptionId}/resume`;
const deactivate = () => "/api/billing/plans/pro/deactivate";
const makeDefault = () => `/api/billing/direct-debit-tokens/${pendingTokenId}/default`;
/** A body of UTF-8 text around raw bytes: [0xc3, 0x28] is a lead byte without its continuation, not UTF-8. */
const bytes = (...parts: (string | number[])[]) => new Uint8Array(parts.flatMap((part) => (typeof part === "string" ? [...new TextEncoder().encode(part)] : part)));
const NOT_UTF8 = [0xc3, 0x28];
const invalid = (name: string, as: Case["as"], method: string, path: () => string, json: unknown, extra: Partial<Case> = {}): Case => ({
  name,
  as,
  method,
  path,
  json,
  status: 400,
  code: "VALIDATION_FAILED",
  ...extra,
});

const CASES: Case[] = [
  // Plan administration
  invalid("plan: negative amount", "operator", "POST", plans, planBody("neg", { amountMinor: -1 })),
  invalid("plan: huge amount (1e20)", "operator", "POST", plans, planBody("huge", { amountMinor: 1e20 })),
  invalid("plan: amount just above MAX_SAFE_INTEGER", "operator", "POST", plans, planBody("unsafe", { amountMinor: 9007199254740992 })),
  invalid("plan: amount as a string", "operator", "POST", plans, planBody("str", { amountMinor: "1500" })),
  invalid("plan: fractional amount", "operator", "POST", plans, planBody("frac", { amountMinor: 15.5 })),
  invalid("plan: lower-case currency", "operator", "POST", plans, planBody("cur1", { currency: "eur" })),
  invalid("plan: four-letter currency", "operator", "POST", plans, planBody("cur2", { currency: "EURO" })),
  invalid("plan: unknown interval", "operator", "POST", plans, planBody("int", { interval: "fortnight" })),
  invalid("plan: intervalCount 0", "operator", "POST", plans, planBody("cnt", { intervalCount: 0 })),
  invalid("plan: negative trialDays", "operator", "POST", plans, planBody("trial", { trialDays: -1 })),
  invalid("plan: code with spaces and capitals", "operator", "POST", plans, planBody("Bad Code!")),
  invalid("plan: empty name", "operator", "POST", plans, planBody("empty", { name: "" })),
  invalid("plan: missing name", "operator", "POST", plans, { code: "noname", amountMinor: 1, currency: "EUR", interval: "month" }),
  invalid("plan: unknown field createdBy", "operator", "POST", plans, planBody("owner", { createdBy: "someone" })),
  invalid("plan: a JSON array body", "operator", "POST", plans, []),
  // Not UTF-8: a name of U+FFFD would be stored.
  { name: "plan: a name that is not UTF-8", as: "operator", method: "POST", path: plans, body: bytes('{"code":"bytes","name":"Caf', NOT_UTF8, '","amountMinor":1500,"currency":"EUR","interval":"month"}'), status: 400, code: "INVALID_JSON" },
  invalid("plan update: empty patch", "operator", "PATCH", () => "/api/billing/plans/pro", {}),
  invalid("plan update: the code cannot change", "operator", "PATCH", () => "/api/billing/plans/pro", { code: "pro-2" }),
  invalid("plan update: negative amount", "operator", "PATCH", () => "/api/billing/plans/pro", { amountMinor: -5 }),
  { name: "plan update: unknown plan", as: "operator", method: "PATCH", path: () => "/api/billing/plans/nope", json: { name: "x" }, status: 404, code: "PLAN_NOT_FOUND" },
  { name: "plan: malformed JSON", as: "operator", method: "POST", path: plans, body: '{"code": "x",', status: 400, code: "INVALID_JSON" },
  {
    name: "plan: a text/plain body",
    as: "operator",
    method: "POST",
    path: plans,
    body: JSON.stringify(planBody("text")),
    headers: { "content-type": "text/plain" },
    status: 415,
    code: "UNSUPPORTED_MEDIA_TYPE",
  },
  ...["application/json; charset=utf-16", "application/json;charset=UTF-16LE", 'application/json; charset="latin1"', "application/json; charset=", "application/json; charset", 'application/json; charset="utf-8'].map((contentType) => ({
    name: `plan: a body declared as ${contentType} (JSON is UTF-8 only)`,
    as: "operator" as const,
    method: "POST",
    path: plans,
    body: JSON.stringify(planBody("utf16")),
    headers: { "content-type": contentType },
    status: 415,
    code: "UNSUPPORTED_MEDIA_TYPE",
  })),
  { name: "plan: not an operator", as: "erin", method: "POST", path: plans, json: planBody("mine"), status: 403, code: "FORBIDDEN" },
  // Subscriptions
  invalid("subscribe: no planCode", "erin", "POST", () => "/api/billing/subscriptions", {}),
  invalid("subscribe: planCode is a number", "erin", "POST", () => "/api/billing/subscriptions", { planCode: 42 }),
  invalid("subscribe: unknown field", "erin", "POST", () => "/api/billing/subscriptions", { planCode: "basic", status: "active" }),
  invalid("subscribe: a null body", "erin", "POST", () => "/api/billing/subscriptions", null),
  { name: "subscribe: unknown plan", as: "erin", method: "POST", path: () => "/api/billing/subscriptions", json: { planCode: "no-such-plan" }, status: 404, code: "PLAN_NOT_FOUND" },
  invalid("cancel: atPeriodEnd is a string", "erin", "POST", () => `/api/billing/subscriptions/${subscriptionId}/cancel`, { atPeriodEnd: "yes" }),
  // A repeated key: JSON.parse keeps the last one, so this cancelled now a subscription meant to run to its period's end.
  { name: "cancel: a repeated key", as: "erin", method: "POST", path: () => `/api/billing/subscriptions/${subscriptionId}/cancel`, body: '{"atPeriodEnd":true,"atPeriodEnd":false}', status: 400, code: "INVALID_JSON" },
  { name: "subscribe: a repeated key, spaced", as: "erin", method: "POST", path: () => "/api/billing/subscriptions", body: '{ "planCode" : "basic" ,\n "planCode" : "pro" }', status: 400, code: "INVALID_JSON" },
  // Colons, quotes and backslashes inside strings are no keys: an unknown field, not a repeated one.
  invalid("cancel: a key and a value holding quotes and colons", "erin", "POST", () => `/api/billing/subscriptions/${subscriptionId}/cancel`, { atPeriodEnd: true, 'a\\":"atPeriodEnd': '":"\\' }),
  { name: "cancel: no body", as: "erin", method: "POST", path: () => `/api/billing/subscriptions/${subscriptionId}/cancel`, status: 400, code: "INVALID_JSON" },
  // The POST routes that take no fields read their body all the same: none, or `{}`; anything else is refused like any body.
  { name: "resume: malformed JSON", as: "erin", method: "POST", path: resume, body: "{", status: 400, code: "INVALID_JSON" },
  { name: "resume: a repeated key", as: "erin", method: "POST", path: resume, body: '{"atPeriodEnd":true,"atPeriodEnd":false}', status: 400, code: "INVALID_JSON" },
  invalid("resume: a field (it takes none)", "erin", "POST", resume, { atPeriodEnd: false }),
  { name: "resume: a text/plain body", as: "erin", method: "POST", path: resume, body: "resume", headers: { "content-type": "text/plain" }, status: 415, code: "UNSUPPORTED_MEDIA_TYPE" },
  { name: "plan deactivate: a repeated key", as: "operator", method: "POST", path: deactivate, body: '{"active":false,"active":true}', status: 400, code: "INVALID_JSON" },
  invalid("plan deactivate: a field (it takes none)", "operator", "POST", deactivate, { active: false }),
  { name: "plan deactivate: a form post", as: "operator", method: "POST", path: deactivate, body: "active=false", headers: { "content-type": "application/x-www-form-urlencoded" }, status: 415, code: "UNSUPPORTED_MEDIA_TYPE" },
  { name: "token default: malformed JSON", as: "erin", method: "POST", path: makeDefault, body: "{", status: 400, code: "INVALID_JSON" },
  // Bytes that are not UTF-8 are refused, not read as U+FFFD (which would be stored, or read as another key).
  { name: "subscribe: a value that is not UTF-8", as: "erin", method: "POST", path: () => "/api/billing/subscriptions", body: bytes('{"planCode":"basic', NOT_UTF8, '"}'), status: 400, code: "INVALID_JSON" },
  { name: "cancel: a key that is not UTF-8", as: "erin", method: "POST", path: () => `/api/billing/subscriptions/${subscriptionId}/cancel`, body: bytes('{"atPeriodEnd":true,"', NOT_UTF8, '":1}'), status: 400, code: "INVALID_JSON" },
  { name: "resume: a body that is not UTF-8", as: "erin", method: "POST", path: resume, body: bytes("{", NOT_UTF8, "}"), status: 400, code: "INVALID_JSON" },
  // A repeated key deeper down is refused as at the top.
  { name: "cancel: a repeated key in a nested object", as: "erin", method: "POST", path: () => `/api/billing/subscriptions/${subscriptionId}/cancel`, body: '{"atPeriodEnd":true,"x":{"a":1,"a":2}}', status: 400, code: "INVALID_JSON" },
  { name: "subscription: unknown id", as: "erin", method: "GET", path: () => "/api/billing/subscriptions/does-not-exist", status: 404, code: "SUBSCRIPTION_NOT_FOUND" },
  // Payment attempts
  { name: "pay: missing Idempotency-Key", as: "erin", method: "POST", path: pay, json: {}, status: 400, code: "IDEMPOTENCY_KEY_REQUIRED" },
  { name: "pay: oversize key (256 chars)", as: "erin", method: "POST", path: pay, json: {}, headers: { "Idempotency-Key": "k".repeat(256) }, status: 400, code: "IDEMPOTENCY_KEY_INVALID" },
  { name: "pay: key with a space", as: "erin", method: "POST", path: pay, json: {}, headers: { "Idempotency-Key": "two words" }, status: 400, code: "IDEMPOTENCY_KEY_INVALID" },
  { name: "pay: key with a control character (tab)", as: "erin", method: "POST", path: pay, json: {}, headers: { "Idempotency-Key": "tab\there" }, status: 400, code: "IDEMPOTENCY_KEY_INVALID" },
  // The engine's own keys (engine:<subscription>:<period>:<n>): one a user took would make the engine skip that collection.
  { name: "pay: key in the engine's namespace", as: "erin", method: "POST", path: pay, json: {}, headers: { "Idempotency-Key": "engine:sub_1:2026-12-01T00:00:00.000Z:1" }, status: 400, code: "IDEMPOTENCY_KEY_INVALID" },
  invalid("pay: amountMinor in the body", "erin", "POST", pay, { amountMinor: 1 }, { headers: key }),
  invalid("pay: a negative amountMinor in the body", "erin", "POST", pay, { amountMinor: -100 }, { headers: key }),
  invalid("pay: directDebitTokenId is a number", "erin", "POST", pay, { directDebitTokenId: 5 }, { headers: key }),
  { name: "pay: malformed JSON", as: "erin", method: "POST", path: pay, body: "{", headers: key, status: 400, code: "INVALID_JSON" },
  invalid("pay: empty directDebitTokenId", "erin", "POST", pay, { directDebitTokenId: "" }, { headers: key }),
  { name: "pay: named token not active", as: "erin", method: "POST", path: pay, json: {}, headers: key, status: 409, code: "TOKEN_NOT_ACTIVE" },
  invalid("list attempts: limit 0", "erin", "GET", () => "/api/billing/payment-attempts?limit=0", undefined),
  invalid("list attempts: limit 101", "erin", "GET", () => "/api/billing/payment-attempts?limit=101", undefined),
  invalid("list attempts: limit abc", "erin", "GET", () => "/api/billing/payment-attempts?limit=abc", undefined),
  invalid("list attempts: a forged cursor", "erin", "GET", () => "/api/billing/payment-attempts?cursor=bm90LWEtY3Vyc29y", undefined),
  invalid("list attempts: unknown query parameter", "erin", "GET", () => "/api/billing/payment-attempts?userId=someone", undefined),
  // Direct-debit tokens
  invalid("token: unknown provider", "erin", "POST", tokens, tokenBody({ provider: "stripe" })),
  invalid("token: last4 with a letter", "erin", "POST", tokens, tokenBody({ accountLast4: "12a4" })),
  invalid("token: last4 with five digits", "erin", "POST", tokens, tokenBody({ accountLast4: "12345" })),
  invalid("token: empty token", "erin", "POST", tokens, tokenBody({ token: "" })),
  invalid("token: token with spaces", "erin", "POST", tokens, tokenBody({ token: "MD 0001" })),
  invalid("token: oversize token", "erin", "POST", tokens, tokenBody({ token: "M".repeat(256) })),
  invalid("token: oversize bank name", "erin", "POST", tokens, tokenBody({ bankName: "B".repeat(201) })),
  invalid("token: unknown field isDefault", "erin", "POST", tokens, { ...tokenBody(), isDefault: true }),
  invalid("token: missing mandateReference", "erin", "POST", tokens, { ...tokenBody(), mandateReference: undefined }),
  { name: "token: default for a pending token", as: "erin", method: "POST", path: () => `/api/billing/direct-debit-tokens/${pendingTokenId}/default`, status: 409, code: "TOKEN_NOT_ACTIVE" },
  { name: "token: a repeated key", as: "erin", method: "POST", path: tokens, body: JSON.stringify(tokenBody()).replace("{", '{"token":"MD0001",'), status: 400, code: "INVALID_JSON" },
  { name: "token: body over 64 KiB", as: "erin", method: "POST", path: tokens, json: { ...tokenBody(), bankName: "x".repeat(70_000) }, status: 413, code: "PAYLOAD_TOO_LARGE" },
];

/** The newest updatedAt of any billing row: an UPDATE that slipped through would move it. */
async function latestUpdate(): Promise<unknown> {
  return env.DB.prepare(
    `select max(updatedAt) as latest from (
       select updatedAt from subscription_plans union all select updatedAt from user_subscriptions
       union all select updatedAt from direct_debit_tokens union all select updatedAt from payment_attempts)`,
  ).first();
}

beforeAll(async () => {
  await migrateToLatest(env.DB);
  await seedPlan("pro");
  await seedPlan("basic", { amountMinor: 500 });
  operator = await signUpOperator();
  erin = await signedInUser("erin@example.com");
  subscriptionId = await subscribe(erin, "basic");
  await addActiveToken(erin);
  // One stored but still pending token, for the "not active" cases.
  pendingTokenId = (await api(tokens(), { user: erin, json: await tokenBodyFor(erin) })).body.token.id;
  const namedPending = CASES.find((c) => c.name === "pay: named token not active")!;
  namedPending.json = { directDebitTokenId: pendingTokenId };
});

describe(`${CASES.length} table-driven invalid requests → 4xx in the error shape, and no billing row changes`, () => {
  it("has at least 30 cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const before = await billingCounts();
    const lastWrite = await latestUpdate();

    const response = await api(c.path(), {
      user: c.as === "operator" ? operator : erin,
      method: c.method,
      json: c.json,
      body: c.body,
      headers: c.headers,
    });

    expect({ status: response.status, code: response.body?.error?.code }).toEqual({ status: c.status, code: c.code });
    expect(Object.keys(response.body).sort()).toEqual(["error"]);
    expect(response.body.error).toEqual({ code: c.code, message: expect.any(String), ...(response.body.error.details && { details: expect.any(Object) }) });
    if (c.code === "VALIDATION_FAILED") {
      expect(response.body.error.details.fields.length).toBeGreaterThan(0);
      for (const field of response.body.error.details.fields) expect(field).toEqual({ path: expect.any(String), message: expect.any(String) });
    }
    expect(await billingCounts()).toEqual(before);
    expect(await latestUpdate()).toEqual(lastWrite);
  });
});

describe("the JSON media type", () => {
  it.each(["application/json", "application/json; charset=utf-8", 'Application/JSON;Charset="UTF-8"', 'application/json ; profile=x; charset = "utf-8" '])("%s is read as JSON", async (contentType) => {
    const response = await api(plans(), { user: operator, method: "POST", body: JSON.stringify(planBody(`media-${crypto.randomUUID().slice(0, 8)}`)), headers: { "content-type": contentType } });
    expect(response.status).toBe(201);
  });
});

describe("bodies the API reads", () => {
  it("a POST that takes no fields takes no body or {} alike", async () => {
    await seedPlan("deactivate-me");
    const token = await addActiveToken(erin);
    for (const body of [undefined, "{}", " { } "]) {
      expect((await api("/api/billing/plans/deactivate-me/deactivate", { user: operator, method: "POST", body })).status).toBe(200);
      expect((await api(`/api/billing/direct-debit-tokens/${token.id}/default`, { user: erin, method: "POST", body })).status).toBe(200);
      // Read, then refused by the lifecycle: an incomplete subscription has no cancel to undo.
      expect((await api(resume(), { user: erin, method: "POST", body })).body.error.code).toBe("INVALID_TRANSITION");
    }
  });

  it("UTF-8 text beyond ASCII is read as sent", async () => {
    const name = "Café ☕ 𝄞";
    const response = await api(plans(), { user: operator, method: "POST", body: bytes(JSON.stringify(planBody("utf8", { name }))) });
    expect([response.status, response.body.plan?.name]).toEqual([201, name]);
  });

  it.each([
    ["3,000 nested objects", '{"atPeriodEnd":true,"a":' + '{"a":'.repeat(2999) + "1" + "}".repeat(3000), [{ path: "a", message: "unknown field" }]],
    ["30,000 nested arrays (the 64 KiB limit is the only bound on depth)", "[".repeat(30_000) + "]".repeat(30_000), [{ path: "", message: expect.any(String) }]],
  ])("%s: parsed, then refused by the schema (VALIDATION_FAILED), nothing written", async (_name, body, fields) => {
    const before = await billingCounts();
    const response = await api(`/api/billing/subscriptions/${subscriptionId}/cancel`, { user: erin, method: "POST", body });
    expect([response.status, response.body.error]).toEqual([400, { code: "VALIDATION_FAILED", message: expect.any(String), details: { fields, fieldCount: 1 } }]);
    expect(await billingCounts()).toEqual(before);
  });

  it("5,000 unknown fields: the first 20 are listed and fieldCount says how many failed, in a small answer", async () => {
    const body = JSON.stringify({ atPeriodEnd: true, ...Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 0])) });
    const response = await api(`/api/billing/subscriptions/${subscriptionId}/cancel`, { user: erin, method: "POST", body });
    expect([response.status, response.body.error.code, response.body.error.details.fieldCount]).toEqual([400, "VALIDATION_FAILED", 5000]);
    expect(response.body.error.details.fields).toEqual(Array.from({ length: 20 }, (_, i) => ({ path: `k${i}`, message: "unknown field" })));
    expect(response.text.length).toBeLessThan(2048);
  });
});
