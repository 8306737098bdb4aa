import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { signedInUser, type TestUser } from "../support/auth-session";
import { api, tokenBodyFor } from "../support/billing-api";
import { migrateToLatest } from "../support/migrate-to-latest";
import { mandateEvent, sendWebhook } from "../support/webhook-signer";

// A user's mandates: one they revoked can be stored again (it no longer
// blocks its owner), and the list comes in pages like payment attempts.

let joy: TestUser;

beforeAll(async () => {
  await migrateToLatest(env.DB);
  joy = await signedInUser("joy-tokens@example.com");
});

describe("a revoked mandate", () => {
  it("no longer blocks its owner from storing it again; webhooks then find the live token, not the revoked one", async () => {
    const body = await tokenBodyFor(joy);
    const first = await api("/api/billing/direct-debit-tokens", { user: joy, json: body });
    expect(first.status).toBe(201);
    expect((await api("/api/billing/direct-debit-tokens", { user: joy, json: body })).body.error.code).toBe("TOKEN_EXISTS");
    expect((await api(`/api/billing/direct-debit-tokens/${first.body.token.id}`, { user: joy, method: "DELETE" })).status).toBe(200);

    const again = await api("/api/billing/direct-debit-tokens", { user: joy, json: body });

    expect(again.status).toBe(201);
    expect(again.body.token).toMatchObject({ status: "pending" });
    expect(again.body.token.id).not.toBe(first.body.token.id);
    // While the new one is live, a third copy is refused again.
    expect((await api("/api/billing/direct-debit-tokens", { user: joy, json: body })).body.error.code).toBe("TOKEN_EXISTS");
    await sendWebhook([mandateEvent(body.token, "active")]);
    const statuses = await env.DB.prepare("select id, status from direct_debit_tokens where id in (?, ?)").bind(first.body.token.id, again.body.token.id).all();
    expect(Object.fromEntries(statuses.results.map((row: any) => [row.id, row.status]))).toEqual({
      [first.body.token.id]: "revoked",
      [again.body.token.id]: "active",
    });
  });
});

describe("GET /api/billing/direct-debit-tokens", () => {
  it("pages newest first with limit and an opaque cursor, like payment attempts", async () => {
    const kit = await signedInUser("kit-tokens@example.com");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.unshift((await api("/api/billing/direct-debit-tokens", { user: kit, json: await tokenBodyFor(kit) })).body.token.id);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await api(`/api/billing/direct-debit-tokens?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { user: kit });
      expect(page.status).toBe(200);
      expect(page.body.tokens.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.tokens.map((token: { id: string }) => token.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);

    expect(seen).toEqual(ids);
    const whole = await api("/api/billing/direct-debit-tokens", { user: kit });
    expect(whole.body).toEqual({ tokens: expect.any(Array), nextCursor: null });
    expect(whole.body.tokens).toHaveLength(5);
  });

  it.each(["limit=0", "limit=101", "limit=x", "cursor=not-a-cursor", "other=1"])("?%s is 400 VALIDATION_FAILED", async (query) => {
    const response = await api(`/api/billing/direct-debit-tokens?${query}`, { user: joy });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("VALIDATION_FAILED");
  });
});
