import { env } from "cloudflare:workers";
import { app } from "../../src/app";
import type { Env } from "../../src/env";
import { callWorker, ORIGIN, signedInUser, type TestUser } from "./auth-session";
import { addFakeMandate, installFakeGoCardless } from "./gocardless/fake-gocardless";

/** Every billing response body the current test file saw (for the secrets check). */
export const seenResponseBodies: string[] = [];

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  text: string;
}

/**
 * Calls the billing API as `user` (or anonymously) and parses the JSON answer;
 * every body is kept in {@link seenResponseBodies}.
 *
 * @example
 * ```ts
 * const { status, body } = await api("/api/billing/subscriptions", { user: alice, method: "POST", json: { planCode: "pro" } })
 * ```
 */
export async function api<T = any>(
  path: string,
  init: { user?: TestUser; method?: string; json?: unknown; body?: string | Uint8Array<ArrayBuffer>; headers?: Record<string, string>; concurrent?: boolean } = {},
): Promise<ApiResponse<T>> {
  const request = {
    method: init.method ?? (init.json === undefined && init.body === undefined ? "GET" : "POST"),
    cookie: init.user?.cookie,
    ip: init.user?.ip,
    headers: init.headers,
    body: init.json === undefined ? init.body : JSON.stringify(init.json),
  };
  const response = init.concurrent ? await callAppConcurrently(path, request) : await callWorker(path, request);
  const text = await response.text();
  seenResponseBodies.push(text);
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body: body as T, text };
}

/**
 * Calls the Worker's Hono app (the module `src/index.ts` exports) in this
 * isolate with the same bindings (or `bindings`, e.g. a D1 that runs a hook
 * before one statement). Calls through `exports.default.fetch` are handled
 * one at a time by the test runtime, so races (one idempotency key sent 50
 * times at once, one webhook delivered twice at once) need this path to
 * really overlap: their D1 queries interleave.
 */
export function callAppConcurrently(path: string, init: Parameters<typeof callWorker>[1] = {}, bindings: Env = env): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("origin", ORIGIN);
  if (init.ip) headers.set("cf-connecting-ip", init.ip);
  if (init.cookie) headers.set("cookie", init.cookie);
  if (init.body && !headers.has("content-type")) headers.set("content-type", "application/json");
  return Promise.resolve(app.fetch(new Request(`${ORIGIN}${path}`, { ...init, headers }), bindings));
}

/**
 * An operator (an e-mail in BILLING_OPERATOR_EMAILS) with a session, the
 * e-mail marked verified as the verification link would.
 */
export async function signUpOperator(email = "operator@example.com"): Promise<TestUser> {
  const operator = await signedInUser(email);
  await env.DB.prepare(`update "user" set "emailVerified" = 1 where id = ?`).bind(operator.id).run();
  return operator;
}

export const BILLING_TABLES = [
  "subscription_plans",
  "user_subscriptions",
  "payment_attempts",
  "direct_debit_tokens",
  "billing_webhook_events",
  "provider_customers",
] as const;

/** Every row of every billing table, in rowid order: compare two snapshots to prove nothing changed. */
export async function billingSnapshot(): Promise<Record<string, unknown[]>> {
  // One batch (one round trip to D1, one read transaction) instead of a call per table.
  const results = await env.DB.batch(BILLING_TABLES.map((table) => env.DB.prepare(`select * from "${table}" order by rowid`)));
  return Object.fromEntries(BILLING_TABLES.map((table, i) => [table, results[i]!.results]));
}

/** Row counts of every billing table. */
export async function billingCounts(): Promise<Record<string, number>> {
  // One statement (one round trip to D1) for every table's count.
  const counts = await env.DB.prepare(`select ${BILLING_TABLES.map((table) => `(select count(*) from "${table}") as "${table}"`).join(", ")}`).first<Record<string, number>>();
  return { ...counts! };
}

/** A plan body for the operator API, with overrides. */
export function planBody(code: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { code, name: `Plan ${code}`, amountMinor: 1500, currency: "EUR", interval: "month", ...overrides };
}

/** A direct-debit token body with a fresh mandate id (the plain token). */
export function tokenBody(overrides: Record<string, unknown> = {}): { provider: string; token: string; mandateReference: string; accountLast4: string; bankName: string } {
  const suffix = crypto.randomUUID().replace(/-/g, "").slice(0, 12).toUpperCase();
  return {
    provider: "gocardless",
    token: `MD${suffix}`,
    mandateReference: `REF-${suffix.slice(0, 6)}`,
    accountLast4: "4321",
    bankName: "Monzo",
    ...overrides,
  } as ReturnType<typeof tokenBody>;
}

/**
 * The user's GoCardless customer id, created through the API on first use
 * (`POST /api/billing/provider-customers`, answered by the fake GoCardless).
 */
export async function gocardlessCustomerFor(user: TestUser): Promise<string> {
  installFakeGoCardless();
  const response = await api("/api/billing/provider-customers", { user, json: { provider: "gocardless", givenName: "Test", familyName: "Payer" } });
  if (response.status !== 201 && response.status !== 200) throw new Error(`creating the customer answered ${response.status}: ${response.text}`);
  return response.body.customer.customerId;
}

/**
 * A direct-debit token body whose mandate GoCardless (the fake) says belongs
 * to `user`'s customer: what the user can really store.
 */
export async function tokenBodyFor(user: TestUser, overrides: Record<string, unknown> = {}): Promise<ReturnType<typeof tokenBody>> {
  const mandateId = addFakeMandate(await gocardlessCustomerFor(user));
  return tokenBody({ token: mandateId, ...overrides });
}
