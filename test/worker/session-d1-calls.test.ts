import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import type { Env } from "../../src/env";
import { freshClientIp, ORIGIN } from "../support/auth-session";
import { migrateToLatest } from "../support/migrate-to-latest";
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

beforeAll(async () => {
  await migrateToLatest(env.DB);
  const email = `cache-${crypto.randomUUID()}@example.com`;
  const signUp = await call("/api/auth/sign-up/email", { method: "POST", body: { email, password: "correct-horse-battery-staple", name: "c" } });
  expect(signUp.status).toBe(200);
  cookies = setCookies(signUp);
});

describe("D1 calls per signed-in request", () => {
  it("a billing read with a fresh session cookie cache is one D1 call: its own query", async () => {
    calls.length = 0;
    const response = await call("/api/billing/subscriptions", { cookies });

    expect(response.status).toBe(200);
    expect(calls.map((one) => one.sql)).toEqual([expect.stringMatching(/from "user_subscriptions"/)]);
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
