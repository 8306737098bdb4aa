import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import type { Env } from "../../src/env";
import { freshClientIp, ORIGIN } from "../support/auth-session";
import { migrateToLatest } from "../support/migrate-to-latest";
import { planRow, subscriptionRow } from "../support/billing-seed";
import { recordingD1 } from "../support/recording-d1";

// What a signed-in request costs in D1 round trips, counted on the real
// binding (wrapped, not mocked): with Better Auth's session cookie cache a
// billing read is one D1 call, its own query; and no auth read touches the
// rateLimit table.

const { database, calls } = recordingD1(env.DB);
// Bindings of their own, so this file's Worker has its own Better Auth (and Kysely) over the recording binding.
const bindings: Env = { ...env, DB: database };
let cookies: Map<string, string>;
const ip = freshClientIp();

async function call(path: string, init: { method?: string; body?: unknown; cookies?: Map<string, string> } = {}): Promise<Response> {
  const headers = new Headers({ origin: ORIGIN, "cf-connecting-ip": ip });
  if (init.cookies) headers.set("cookie", [...init.cookies].map(([name, value]) => `${name}=${value}`).join("; "));
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  return app.fetch(new Request(`${ORIGIN}${path}`, { method: init.method, body, headers }), bindings);
}

/** The cookies a response sets, by name. */
function setCookies(response: Response): Map<string, string> {
  const set = new Map<string, string>();
  for (const cookie of response.headers.getSetCookie()) {
    const pair = cookie.split(";")[0]!;
    const separator = pair.indexOf("=");
    set.set(pair.slice(0, separator), pair.slice(separator + 1));
  }
  return set;
}

/** A new user, signed in: their cookies (session and its cache) and id. */
async function signUp(): Promise<{ cookies: Map<string, string>; userId: string }> {
  const email = `cache-${crypto.randomUUID()}@example.com`;
  const response = await call("/api/auth/sign-up/email", { method: "POST", body: { email, password: "correct-horse-battery-staple", name: "c" } });
  expect(response.status).toBe(200);
  return { cookies: setCookies(response), userId: ((await response.json()) as { user: { id: string } }).user.id };
}

beforeAll(async () => {
  await migrateToLatest(env.DB);
  ({ cookies } = await signUp());
});

const DAY_MS = 24 * 60 * 60 * 1000;
const at = (offsetDays: number) => new Date(Date.now() + offsetDays * DAY_MS).toISOString();

/** Subscriptions, each to a plan of its own, straight into D1 (not through the recording binding). */
async function insertSubscriptions(rows: ReturnType<typeof subscriptionRow>[]): Promise<void> {
  const insert = (table: string, row: Record<string, unknown>) =>
    env.DB.prepare(`insert into ${table} (${Object.keys(row).map((c) => `"${c}"`).join(", ")}) values (${Object.keys(row).map(() => "?").join(", ")})`).bind(...Object.values(row));
  await env.DB.batch(rows.flatMap((row) => [insert("subscription_plans", planRow({ id: row.planId })), insert("user_subscriptions", row)]));
}

describe("D1 calls per signed-in request", () => {
  it("a billing read with a fresh session cookie cache is one D1 call: its own query", async () => {
    calls.length = 0;
    const response = await call("/api/billing/subscriptions", { cookies });

    expect(response.status).toBe(200);
    expect(calls.map((one) => one.sql)).toEqual([expect.stringMatching(/from "user_subscriptions"/)]);
  });

  it("listing subscriptions none of which can have a time event due by now is one D1 call too", async () => {
    const { cookies, userId } = await signUp();
    const planId = () => `plan_${crypto.randomUUID()}`;
    await insertSubscriptions([
      subscriptionRow(userId, planId(), { status: "active", currentPeriodStart: at(-3), currentPeriodEnd: at(27), createdAt: at(-3) }),
      subscriptionRow(userId, planId(), { status: "trialing", currentPeriodStart: at(-1), currentPeriodEnd: at(13), trialEndsAt: at(13), createdAt: at(-1) }),
      subscriptionRow(userId, planId(), { status: "incomplete", currentPeriodStart: at(0), currentPeriodEnd: at(30), createdAt: at(0) }),
      subscriptionRow(userId, planId(), { status: "canceled", currentPeriodStart: at(-60), currentPeriodEnd: at(-30), canceledAt: at(-30), endedAt: at(-30), createdAt: at(-60) }),
      subscriptionRow(userId, planId(), { status: "paused", currentPeriodStart: at(-20), currentPeriodEnd: at(-6), createdAt: at(-20) }),
    ]);
    calls.length = 0;
    const response = await call("/api/billing/subscriptions", { cookies });

    expect(response.status).toBe(200);
    const { subscriptions } = (await response.json()) as { subscriptions: { id: string }[] };
    expect(subscriptions).toHaveLength(5);
    expect(calls.map((one) => one.sql)).toEqual([expect.stringMatching(/from "user_subscriptions"/)]);

    // And so is reading each of them.
    for (const { id } of subscriptions) {
      calls.length = 0;
      const one = await call(`/api/billing/subscriptions/${id}`, { cookies });
      expect(one.status).toBe(200);
      expect(calls.map((call) => call.sql)).toEqual([expect.stringMatching(/from "user_subscriptions"/)]);
    }
  });

  it("a listed subscription whose period is over is still settled before it is shown", async () => {
    const { cookies, userId } = await signUp();
    const ended = subscriptionRow(userId, `plan_${crypto.randomUUID()}`, { status: "active", currentPeriodStart: at(-31), currentPeriodEnd: at(-1), createdAt: at(-31) });
    await insertSubscriptions([ended]);
    const response = await call("/api/billing/subscriptions", { cookies });

    expect(response.status).toBe(200);
    const { subscriptions } = (await response.json()) as { subscriptions: { id: string; status: string }[] };
    expect(subscriptions.find((one) => one.id === ended.id)?.status).toBe("past_due");
    const one = await call(`/api/billing/subscriptions/${ended.id}`, { cookies });
    expect(((await one.json()) as { subscription: { status: string } }).subscription.status).toBe("past_due");
  });

  it("without the cache cookie the session is read from D1 and the refreshed cache cookie comes back", async () => {
    const withoutCache = new Map([...cookies].filter(([name]) => !name.endsWith("session_data")));
    calls.length = 0;
    const response = await call("/api/billing/subscriptions", { cookies: withoutCache });

    expect(response.status).toBe(200);
    // Session and user in one query (advanced.database.joins), then the billing query.
    expect(calls.map((one) => one.sql)).toEqual([expect.stringMatching(/from "session".*join "user"/s), expect.stringMatching(/from "user_subscriptions"/)]);
    const refreshed = setCookies(response);
    expect([...refreshed.keys()]).toContainEqual(expect.stringMatching(/session_data$/));

    // With the refreshed cookie, the next read is back to one call.
    calls.length = 0;
    const next = await call("/api/billing/subscriptions", { cookies: new Map([...withoutCache, ...refreshed]) });
    expect(next.status).toBe(200);
    expect(calls).toHaveLength(1);
  });

  it.each(["/api/auth/get-session", "/api/auth/list-sessions"])("GET %s touches no rateLimit row", async (path) => {
    calls.length = 0;
    const response = await call(path, { cookies });

    expect(response.status).toBe(200);
    expect(calls.filter((one) => /rateLimit/.test(one.sql))).toEqual([]);
  });
});
