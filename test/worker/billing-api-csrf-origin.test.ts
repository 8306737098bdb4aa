import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { ORIGIN, signedInUser, type TestUser } from "../support/auth-session";
import { api, billingSnapshot, signUpOperator } from "../support/billing-api";
import { addActiveToken, seedPlan } from "../support/billing-setup";
import { migrateToLatest } from "../support/migrate-to-latest";
import { mandateEvent, signatureHeader } from "../support/webhook-signer";

// CSRF: billing writes authenticated by Better Auth's cookie must come from
// one of Better Auth's trusted origins (BETTER_AUTH_URL's origin, plus
// trustedOrigins), the same rule Better Auth applies to its own routes.
// SameSite=Lax alone lets any same-site page (a sibling subdomain) post a
// form with the cookie, and two routes need neither a JSON body nor a custom
// header: POST /direct-debit-tokens/:id/default and POST /plans/:code/deactivate.

let operator: TestUser;
let jane: TestUser;
let janeTokens: string[];

/** A request as `user`, with exactly the headers given (no Origin unless listed). */
async function raw(path: string, user: TestUser, init: { method: string; headers?: Record<string, string>; bindings?: object }): Promise<Response> {
  return app.fetch(
    new Request(`${ORIGIN}${path}`, {
      method: init.method,
      headers: { cookie: user.cookie, "cf-connecting-ip": user.ip, ...init.headers },
    }),
    { ...env, ...init.bindings },
  );
}

async function defaultTokenId(): Promise<unknown> {
  return env.DB.prepare("select id from direct_debit_tokens where userId = ? and isDefault = 1").bind(jane.id).first("id");
}

beforeAll(async () => {
  await migrateToLatest(env.DB);
  await seedPlan("csrf-plan");
  operator = await signUpOperator("operator@example.com");
  jane = await signedInUser("jane-csrf@example.com");
  janeTokens = [(await addActiveToken(jane)).id, (await addActiveToken(jane)).id];
});

describe("cookie-authenticated billing writes need a trusted Origin", () => {
  it.each([
    ["another site", { origin: "https://evil.example" }],
    ["a sibling origin on the same site (other port)", { origin: "http://localhost:9999" }],
    ["the opaque origin null", { origin: "null" }],
    ["no Origin and no Referer", {}],
    ["a Referer from another site", { referer: "https://evil.example/page" }],
  ])("from %s: 403 UNTRUSTED_ORIGIN and nothing changes", async (_name, headers) => {
    const before = await billingSnapshot();
    const responses = [
      await raw("/api/billing/plans/csrf-plan/deactivate", operator, { method: "POST", headers }),
      await raw(`/api/billing/direct-debit-tokens/${janeTokens[1]}/default`, jane, { method: "POST", headers }),
      await raw(`/api/billing/direct-debit-tokens/${janeTokens[1]}`, jane, { method: "DELETE", headers }),
    ];
    for (const response of responses) {
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({ error: { code: "UNTRUSTED_ORIGIN", message: expect.any(String) } });
    }
    expect(await billingSnapshot()).toEqual(before);
  });

  it("a Referer from the app's own origin is enough when a client sends no Origin (as Better Auth allows)", async () => {
    const response = await raw(`/api/billing/direct-debit-tokens/${janeTokens[1]}/default`, jane, {
      method: "POST",
      headers: { referer: `${ORIGIN}/settings/billing` },
    });
    expect(response.status).toBe(200);
    expect(await defaultTokenId()).toBe(janeTokens[1]);
  });

  it("the trusted origin is Better Auth's: it follows BETTER_AUTH_URL", async () => {
    const bindings = { BETTER_AUTH_URL: "http://127.0.0.1:8787" };
    const path = `/api/billing/direct-debit-tokens/${janeTokens[0]}/default`;
    const old = await raw(path, jane, { method: "POST", headers: { origin: ORIGIN }, bindings });
    expect(old.status).toBe(403);
    expect(await defaultTokenId()).toBe(janeTokens[1]);
    const current = await raw(path, jane, { method: "POST", headers: { origin: "http://127.0.0.1:8787" }, bindings });
    expect(current.status).toBe(200);
    expect(await defaultTokenId()).toBe(janeTokens[0]);
  });

  it("reads, cookie-less calls and the signed webhook are not affected", async () => {
    const read = await raw("/api/billing/direct-debit-tokens", jane, { method: "GET", headers: { origin: "https://evil.example" } });
    expect(read.status).toBe(200);
    const anonymous = await app.fetch(new Request(`${ORIGIN}/api/billing/subscriptions`, { method: "POST" }), env);
    expect(anonymous.status).toBe(401);
    // A provider sends neither an Origin nor a cookie: its signature is the authentication.
    const rawBody = JSON.stringify({ events: [mandateEvent("MD-UNKNOWN-CSRF", "active")] });
    const webhook = await app.fetch(
      new Request(`${ORIGIN}/api/billing/webhooks/gocardless`, {
        method: "POST",
        body: rawBody,
        headers: { "content-type": "application/json", "Webhook-Signature": await signatureHeader(rawBody) },
      }),
      env,
    );
    expect(webhook.status).toBe(200);
    // The app's own origin still works for every write (the rest of the suite relies on it).
    const own = await api("/api/billing/plans/csrf-plan/deactivate", { user: operator, method: "POST" });
    expect(own.status).toBe(200);
  });
});
