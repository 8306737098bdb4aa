import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { freshClientIp, ORIGIN } from "../support/auth-session";
import { migrateToLatest } from "../support/migrate-to-latest";
import { seedPlan } from "../support/billing-setup";

// Found from outside: Better Auth's session cookie cache (a signed copy of the
// session in a second cookie) must never turn a client's cookie into a 500,
// and never let a write through for a user or session that no longer exists.

async function call(path: string, init: { method?: string; body?: unknown; cookie?: string } = {}): Promise<Response> {
  // A client address per call: sign-up is rate-limited per address.
  const headers = new Headers({ origin: ORIGIN, "cf-connecting-ip": freshClientIp() });
  if (init.cookie) headers.set("cookie", init.cookie);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  return app.fetch(new Request(`${ORIGIN}${path}`, { method: init.method ?? "GET", body, headers }), env);
}

/** Sign up a fresh user; its cookies (session token and cache) as one `cookie` header, and their parts. */
async function signUp(): Promise<{ cookie: string; token: string; cache: string }> {
  const email = `cache-abuse-${crypto.randomUUID()}@example.com`;
  const response = await call("/api/auth/sign-up/email", { method: "POST", body: { email, password: "correct-horse-battery-staple", name: "m" } });
  expect(response.status).toBe(200);
  const pairs = response.headers.getSetCookie().map((cookie) => cookie.split(";")[0]!);
  const token = pairs.find((pair) => pair.startsWith("better-auth.session_token="))!;
  const cache = pairs.find((pair) => pair.startsWith("better-auth.session_data="))!;
  expect(token && cache).toBeTruthy();
  return { cookie: `${token}; ${cache}`, token, cache };
}

beforeAll(async () => {
  await migrateToLatest(env.DB);
});

describe("a malformed session cache cookie is ignored, not a 500", () => {
  it.each(["%", "xx!!%%", "%00", "%E0%A4%A"])("better-auth.session_data=%s next to a valid token", async (garbage) => {
    const { token } = await signUp();
    const cookie = `${token}; better-auth.session_data=${garbage}`;

    const read = await call("/api/billing/subscriptions", { cookie });
    expect(read.status).toBe(200);
    const session = await call("/api/auth/get-session", { cookie });
    expect(session.status).toBe(200);
    expect(((await session.json()) as { session: unknown } | null)?.session).toBeTruthy();
  });
});

describe("writes are checked against D1, not the cache", () => {
  it("after the user deleted the account, an old cookie (cache still fresh) cannot write: 401, nothing written", async () => {
    const { cookie } = await signUp();
    const planCode = `cache-abuse-${crypto.randomUUID().slice(0, 8)}`;
    await seedPlan(planCode);
    const deleted = await call("/api/auth/delete-user", { method: "POST", body: { password: "correct-horse-battery-staple" }, cookie });
    expect(deleted.status).toBe(200);

    const write = await call("/api/billing/subscriptions", { method: "POST", body: { planCode }, cookie });
    expect(write.status).toBe(401);
    expect(((await write.json()) as { error: { code: string } }).error.code).toBe("UNAUTHENTICATED");
  });

  it("after sign-out, an old cookie (cache still fresh) cannot write: 401", async () => {
    const { cookie } = await signUp();
    const planCode = `cache-abuse-${crypto.randomUUID().slice(0, 8)}`;
    await seedPlan(planCode);
    expect((await call("/api/auth/sign-out", { method: "POST", body: {}, cookie })).status).toBe(200);

    const write = await call("/api/billing/subscriptions", { method: "POST", body: { planCode }, cookie });
    expect(write.status).toBe(401);
  });
});
