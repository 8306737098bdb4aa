import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { callWorker, freshClientIp, sessionCookie, signUp, type TestUser } from "../support/auth-session";
import { migrateToLatest } from "../support/migrate-to-latest";

// Storage is shared by the tests of this file (isolated per file only), so
// the tests below run in order and build on each other: one user, signed up
// once (scrypt makes every sign-up and sign-in cost about a second).

interface SessionBody {
  session: { id: string; userId: string; token: string };
  user: { id: string; email: string; name: string; emailVerified: boolean };
}

async function countRows(table: "user" | "session" | "account", userId: string): Promise<number> {
  const column = table === "user" ? "id" : "userId";
  const row = await env.DB.prepare(`select count(*) as n from "${table}" where "${column}" = ?`).bind(userId).first<{ n: number }>();
  return row!.n;
}

function signIn(email: string, password: string, ip = freshClientIp()): Promise<Response> {
  return callWorker("/api/auth/sign-in/email", { method: "POST", ip, body: JSON.stringify({ email, password }) });
}

function getSession(cookie?: string): Promise<Response> {
  return callWorker("/api/auth/get-session", { cookie, ip: freshClientIp() });
}

describe("Better Auth through the Worker's HTTP endpoints", () => {
  let ada: TestUser;

  beforeAll(async () => {
    await migrateToLatest(env.DB);
  });

  it("signs a user up: one user, one credential account with a hashed password, one session", async () => {
    ada = await signUp("ada@example.com");

    const user = await env.DB.prepare(`select * from "user" where id = ?`).bind(ada.id).first<Record<string, unknown>>();
    expect(user).toMatchObject({ email: "ada@example.com", name: "ada", emailVerified: 0 });
    const accounts = await env.DB.prepare(`select providerId, accountId, password from account where userId = ?`)
      .bind(ada.id)
      .all<{ providerId: string; accountId: string; password: string }>();
    expect(accounts.results).toHaveLength(1);
    expect(accounts.results[0]).toMatchObject({ providerId: "credential", accountId: ada.id });
    expect(accounts.results[0]!.password).not.toContain(ada.password);
    expect(await countRows("session", ada.id)).toBe(1);
  });

  it("rejects a second sign-up with the same e-mail and creates nothing", async () => {
    const response = await callWorker("/api/auth/sign-up/email", {
      method: "POST",
      ip: freshClientIp(),
      body: JSON.stringify({ email: "ada@example.com", password: "another-long-password", name: "Impostor" }),
    });

    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ code: "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL" });
    const users = await env.DB.prepare(`select name from "user" where email = ?`).bind("ada@example.com").all();
    expect(users.results).toEqual([{ name: "ada" }]);
  });

  it("signs in with the right password and opens a second session", async () => {
    const response = await signIn(ada.email, ada.password);

    expect(response.status).toBe(200);
    const body = await response.json<{ user: { id: string; email: string } }>();
    expect(body.user).toMatchObject({ id: ada.id, email: ada.email });
    expect(sessionCookie(response)).not.toBe(ada.cookie);
    expect(await countRows("session", ada.id)).toBe(2);
  });

  it("rejects a wrong password without opening a session", async () => {
    const response = await signIn(ada.email, "not-the-password");

    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "INVALID_EMAIL_OR_PASSWORD" });
    expect(response.headers.getSetCookie().some((c) => c.startsWith("better-auth.session_token="))).toBe(false);
    expect(await countRows("session", ada.id)).toBe(2);
  });

  it("returns the session for the cookie, and null without one", async () => {
    const response = await getSession(ada.cookie);

    expect(response.status).toBe(200);
    const body = await response.json<SessionBody>();
    expect(body.user).toMatchObject({ id: ada.id, email: ada.email, emailVerified: false });
    expect(body.session.userId).toBe(ada.id);
    expect(await (await getSession()).json()).toBeNull();
  });

  it("signs out: the session row is gone and the cookie no longer opens a session", async () => {
    const token = decodeURIComponent(ada.cookie.split("=")[1]!).split(".")[0]!;
    const before = await env.DB.prepare(`select count(*) as n from session where token = ?`).bind(token).first<{ n: number }>();
    expect(before!.n).toBe(1);

    const response = await callWorker("/api/auth/sign-out", { method: "POST", cookie: ada.cookie, ip: ada.ip, body: "{}" });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true });
    const after = await env.DB.prepare(`select count(*) as n from session where token = ?`).bind(token).first<{ n: number }>();
    expect(after!.n).toBe(0);
    expect(await (await getSession(ada.cookie)).json()).toBeNull();
    // Only the signed-out session ended; the one from sign-in remains.
    expect(await countRows("session", ada.id)).toBe(1);
  });

  it("refuses delete-user with a wrong password and keeps the user", async () => {
    const cookie = sessionCookie(await signIn(ada.email, ada.password));

    const response = await callWorker("/api/auth/delete-user", {
      method: "POST",
      cookie,
      ip: ada.ip,
      body: JSON.stringify({ password: "not-the-password" }),
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "INVALID_PASSWORD" });
    expect(await countRows("user", ada.id)).toBe(1);
  });

  it("deletes the user with its sessions and accounts", async () => {
    const cookie = sessionCookie(await signIn(ada.email, ada.password));
    expect(await countRows("session", ada.id)).toBeGreaterThan(0);
    expect(await countRows("account", ada.id)).toBe(1);

    const response = await callWorker("/api/auth/delete-user", {
      method: "POST",
      cookie,
      ip: ada.ip,
      body: JSON.stringify({ password: ada.password }),
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true, message: "User deleted" });
    expect(await countRows("user", ada.id)).toBe(0);
    expect(await countRows("session", ada.id)).toBe(0);
    expect(await countRows("account", ada.id)).toBe(0);
    expect(await (await getSession(cookie)).json()).toBeNull();
    expect((await signIn(ada.email, ada.password)).status).toBe(401);
  });
});

describe("Better Auth's rate limiter", () => {
  it("keeps its counters in D1 and answers 429 to the 4th sign-in from one IP within 10 s", async () => {
    const ip = freshClientIp();
    const startedAt = Date.now();
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) statuses.push((await signIn("nobody@example.com", "whatever-password", ip)).status);
    expect(statuses).toEqual([401, 401, 401]);

    const counter = await env.DB.prepare(`select "count", lastRequest from "rateLimit" where "key" = ?`)
      .bind(`${ip}|/sign-in/email`)
      .first<{ count: number; lastRequest: number }>();
    expect(counter?.count).toBe(3);
    expect(counter!.lastRequest).toBeGreaterThanOrEqual(startedAt);

    const throttled = await signIn("nobody@example.com", "whatever-password", ip);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get("x-retry-after"))).toBeGreaterThan(0);
    // Another IP is not throttled by this one's counter.
    expect((await signIn("nobody@example.com", "whatever-password")).status).toBe(401);
  });
});

describe("the Worker's own routes", () => {
  it("answers /health with 200 {status: ok}", async () => {
    const response = await callWorker("/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("answers an unknown path with 404 in the API's error shape", async () => {
    const response = await callWorker("/no/such/route");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      error: { code: "NOT_FOUND", message: "No route for GET /no/such/route." },
    });
  });
});
