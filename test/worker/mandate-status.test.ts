import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { signedInUser, type TestUser } from "../support/auth-session";
import { api, billingSnapshot, gocardlessCustomerFor, tokenBody } from "../support/billing-api";
import { addFakeMandate } from "../support/gocardless/fake-gocardless";
import { migrateToLatest } from "../support/migrate-to-latest";
import { happenedInOrder, mandateEvent, sendWebhook, type GoCardlessEvent, deliverEach } from "../support/webhook-signer";

// A stored mandate's status follows GoCardless: storing one takes the status GoCardless
// answers (GET /mandates/:id, the ownership check), and its mandate events apply in the
// order they happened (created_at), whatever order they arrive in. Through the Worker on
// a real local D1; GoCardless is the fake at the network edge, answering with the API
// reference's mandate body in the status each test sets.

const TOKENS = "/api/billing/direct-debit-tokens";
let hal: TestUser;

beforeAll(async () => {
  await migrateToLatest(env.DB);
  hal = await signedInUser("hal-mandate-status@example.com");
});

/** Stores, for `user`, a new mandate of their customer that GoCardless reports in `status`. */
async function store(user: TestUser, status: string) {
  const body = tokenBody({ token: addFakeMandate(await gocardlessCustomerFor(user), status) });
  return { answer: await api(TOKENS, { user, json: body }), body, mandateId: body.token };
}

async function token(id: string) {
  return env.DB.prepare("select status, isDefault from direct_debit_tokens where id = ?").bind(id).first<{ status: string; isDefault: number }>();
}


/** Every order of `items`. */
function orders<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => orders([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe("storing a mandate takes the status GoCardless reports", () => {
  it("active: stored active and the default at once (its mandates.active, delivered before it was stored, was ignored)", async () => {
    const ivy = await signedInUser("ivy-mandate-status@example.com");
    const mandateId = addFakeMandate(await gocardlessCustomerFor(ivy), "active");
    expect(await deliverEach(mandateEvent(mandateId, "active"))).toEqual(["ignored"]);

    const stored = await api(TOKENS, { user: ivy, json: tokenBody({ token: mandateId }) });

    expect(stored.status).toBe(201);
    expect(stored.body.token).toMatchObject({ status: "active", isDefault: true });
  });

  it("active, beside an active default: stored active, the default stays", async () => {
    const first = await store(hal, "active");
    const second = await store(hal, "active");
    expect(second.answer.body.token).toMatchObject({ status: "active", isDefault: false });
    expect(await token(first.answer.body.token.id)).toEqual({ status: "active", isDefault: 1 });
  });

  it("active again after its owner revoked it: stored again active (GoCardless sends no second mandates.active)", async () => {
    const kit = await signedInUser("kit-mandate-status@example.com");
    const first = await store(kit, "active");
    expect((await api(`${TOKENS}/${first.answer.body.token.id}`, { user: kit, method: "DELETE" })).status).toBe(200);
    const again = await api(TOKENS, { user: kit, json: first.body });
    expect([again.status, again.body.token]).toEqual([201, expect.objectContaining({ status: "active", isDefault: true })]);
  });

  it.each(["pending_customer_approval", "pending_submission", "submitted", "suspended_by_payer"])(
    "%s: stored pending, not the default; its mandates.active makes it active",
    async (status) => {
      const kim = await signedInUser(`kim-${status}@example.com`);
      const stored = await store(kim, status);
      expect([stored.answer.status, stored.answer.body.token]).toEqual([201, expect.objectContaining({ status: "pending", isDefault: false })]);
      expect(await deliverEach(mandateEvent(stored.mandateId, "active"))).toEqual(["applied"]);
      expect(await token(stored.answer.body.token.id)).toEqual({ status: "active", isDefault: 1 });
    },
  );

  it.each(["failed", "cancelled", "expired", "consumed", "blocked"])(
    "%s (it can never be charged): 409 MANDATE_UNUSABLE with GoCardless's status, nothing stored",
    async (status) => {
      await gocardlessCustomerFor(hal);
      const before = await billingSnapshot();
      const { answer } = await store(hal, status);
      expect([answer.status, answer.body.error]).toEqual([409, { code: "MANDATE_UNUSABLE", message: expect.any(String), details: { status } }]);
      expect(await billingSnapshot()).toEqual(before);
    },
  );

  it("another customer's cancelled mandate is MANDATE_NOT_YOURS, as any other: its status is not told", async () => {
    const before = await billingSnapshot();
    const refused = await api(TOKENS, { user: hal, json: tokenBody({ token: addFakeMandate("CU0000SOMEONE", "cancelled") }) });
    expect([refused.status, refused.body.error.code]).toEqual([403, "MANDATE_NOT_YOURS"]);
    expect(await billingSnapshot()).toEqual(before);
  });
});

describe("mandate events apply in the order they happened (created_at), not the order they arrive", () => {
  const happenedAgo = (event: GoCardlessEvent, ms: number) => ({ ...event, created_at: new Date(Date.now() - ms).toISOString() });

  it("reinstated (now), then an expired that happened 60 s before it: the expired is overtaken, the token stays active", async () => {
    // Pending when stored, active by its mandates.active an hour ago, as GoCardless reports a new mandate.
    const stored = await store(hal, "pending_submission");
    const { id } = stored.answer.body.token;
    const mandateId = stored.mandateId;
    expect(await deliverEach(happenedAgo(mandateEvent(mandateId, "active"), 3_600_000))).toEqual(["applied"]);
    const before = await token(id);

    expect(await deliverEach(happenedAgo(mandateEvent(mandateId, "reinstated"), 0), happenedAgo(mandateEvent(mandateId, "expired"), 60_000))).toEqual(["applied", "ignored"]);

    expect(await token(id)).toEqual(before);
    // Storing it again is still refused as stored (it is live), not because it expired.
    expect((await api(TOKENS, { user: hal, json: tokenBody({ token: mandateId }) })).body.error.code).toBe("TOKEN_EXISTS");
  });

  it.each(orders([0, 1, 2]).map((order) => [order.join(", "), order] as const))(
    "active, expired, reinstated arriving as %s leave the token active (the newest says so)",
    async (_name, order) => {
      const stored = await store(hal, "pending_submission");
      const happened = happenedInOrder(["active", "expired", "reinstated"].map((action) => mandateEvent(stored.mandateId, action)));
      await deliverEach(...order.map((i) => happened[i]!));
      expect((await token(stored.answer.body.token.id))!.status).toBe("active");
    },
  );

  it.each(orders([0, 1, 2]).map((order) => [order.join(", "), order] as const))(
    "active, reinstated, expired arriving as %s leave the token expired, not the default",
    async (_name, order) => {
      const stored = await store(hal, "pending_submission");
      const happened = happenedInOrder(["active", "reinstated", "expired"].map((action) => mandateEvent(stored.mandateId, action)));
      await deliverEach(...order.map((i) => happened[i]!));
      expect(await token(stored.answer.body.token.id)).toEqual({ status: "expired", isDefault: 0 });
    },
  );

  it("in one delivery, newest first (reinstated, expired, active): the token ends active", async () => {
    const stored = await store(hal, "pending_submission");
    const happened = happenedInOrder(["active", "expired", "reinstated"].map((action) => mandateEvent(stored.mandateId, action)));
    const response = await sendWebhook(happened.reverse());
    expect(((await response.json()) as any).results.map((result: { outcome: string }) => result.outcome)).toEqual(["applied", "ignored", "ignored"]);
    expect((await token(stored.answer.body.token.id))!.status).toBe("active");
  });

  it("an event that happened before GoCardless's answer when the mandate was stored is overtaken by that answer", async () => {
    const kai = await signedInUser("kai-mandate-status@example.com");
    const stored = await store(kai, "active");
    expect(await deliverEach(happenedAgo(mandateEvent(stored.mandateId, "expired"), 3_600_000))).toEqual(["ignored"]);
    expect(await token(stored.answer.body.token.id)).toEqual({ status: "active", isDefault: 1 });
    // One that happened after it applies.
    expect(await deliverEach(mandateEvent(stored.mandateId, "expired"))).toEqual(["applied"]);
    expect(await token(stored.answer.body.token.id)).toEqual({ status: "expired", isDefault: 0 });
  });
});
