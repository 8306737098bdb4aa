import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { signedInUser, type TestUser } from "../support/auth-session";
import { api, billingCounts, tokenBody } from "../support/billing-api";
import { migrateToLatest } from "../support/migrate-to-latest";

// Input handling: bad input must be a 4xx in the one
// error shape (never a 500), and an error must not echo what was sent.

let ivy: TestUser;

beforeAll(async () => {
  await migrateToLatest(env.DB);
  ivy = await signedInUser("ivy-review@example.com");
});

describe("a malformed body is refused without echoing it", () => {
  it("INVALID_JSON for a broken token body does not contain the token", async () => {
    const token = "MDSECRETREVIEW0001";
    const before = await billingCounts();
    // Unquoted, so the JSON parser stops right at the token.
    const body = `{"provider":"gocardless","token":${token},"mandateReference":"REF-1","accountLast4":"1234"}`;

    const response = await api("/api/billing/direct-debit-tokens", { user: ivy, body });

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("INVALID_JSON");
    expect(response.text).not.toContain(token);
    expect(response.text).not.toContain("SECRET");
    expect(await billingCounts()).toEqual(before);
  });
});

describe("text the database would refuse is a 400, not a 500", () => {
  // SQLite's length() stops at the first NUL, so "\u0000…" has length 0 for
  // the CHECKs: a value zod accepted would fail in D1 as a 500.
  it.each([
    ["bankName", { bankName: "\u0000Monzo" }],
    ["mandateReference", { mandateReference: "\u0000REF" }],
  ])("a token whose %s starts with NUL → 400 VALIDATION_FAILED on that field, nothing stored", async (field, override) => {
    const before = await billingCounts();

    const response = await api("/api/billing/direct-debit-tokens", { user: ivy, json: tokenBody(override) });

    expect({ status: response.status, code: response.body.error?.code }).toEqual({ status: 400, code: "VALIDATION_FAILED" });
    expect(response.body.error.details.fields).toEqual([{ path: field, message: expect.any(String) }]);
    expect(await billingCounts()).toEqual(before);
  });
});
