import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { callWorker, ORIGIN, signedInUser, type TestUser } from "../support/auth-session";
import { migrateToLatest } from "../support/migrate-to-latest";

// Everything under /api is private or per-user: no cache may keep it
// (Cache-Control: no-store) and no browser may sniff it into HTML (nosniff),
// whatever the status, Better Auth's routes included. Better Auth's bodies are
// size-limited like billing's, so a megabyte `name` is never stored.

let dana: TestUser;

beforeAll(async () => {
  await migrateToLatest(env.DB);
  dana = await signedInUser("dana-headers@example.com");
});

describe("headers on every /api response", () => {
  it.each<[string, string, { user?: boolean }]>([
    ["a public billing read", "/api/billing/plans", {}],
    ["an authenticated billing read", "/api/billing/subscriptions", { user: true }],
    ["a billing 401", "/api/billing/subscriptions", {}],
    ["an unknown /api route (404)", "/api/nope", {}],
    ["Better Auth's session read", "/api/auth/get-session", { user: true }],
  ])("%s: Cache-Control no-store and X-Content-Type-Options nosniff", async (_name, path, options) => {
    const response = await callWorker(path, options.user ? { cookie: dana.cookie, ip: dana.ip } : {});
    await response.arrayBuffer();

    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("the health check outside /api is left alone", async () => {
    const response = await callWorker("/health");
    expect(response.headers.get("cache-control")).toBeNull();
  });
});

describe("Better Auth's request bodies are limited", () => {
  const email = "huge-name@example.com";
  const signUpBody = (name: string) => JSON.stringify({ email, password: "correct-horse-battery-staple", name });

  it("a 1 MiB sign-up is 413 PAYLOAD_TOO_LARGE in the API's error shape, and no user is created", async () => {
    const response = await callWorker("/api/auth/sign-up/email", {
      method: "POST",
      headers: { "content-type": "application/json", origin: ORIGIN },
      body: signUpBody("x".repeat(1024 * 1024)),
    });

    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: { code: "PAYLOAD_TOO_LARGE", message: expect.any(String) } });
    expect(await env.DB.prepare(`select count(*) as n from "user" where email = ?`).bind(email).first("n")).toBe(0);
  });

  it("the same body streamed without Content-Length is refused as well", async () => {
    const bytes = new TextEncoder().encode(signUpBody("y".repeat(1024 * 1024)));
    const body = new ReadableStream({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.slice(i, i + 64 * 1024));
        controller.close();
      },
    });
    const response = await callWorker("/api/auth/sign-up/email", {
      method: "POST",
      headers: { "content-type": "application/json", origin: ORIGIN },
      body,
      // @ts-expect-error: workerd's RequestInit takes duplex like the spec's
      duplex: "half",
    });

    expect(response.status).toBe(413);
    expect(await env.DB.prepare(`select count(*) as n from "user" where email = ?`).bind(email).first("n")).toBe(0);
  });
});
