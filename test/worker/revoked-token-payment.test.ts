import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { signedInUser } from "../support/auth-session";
import { api } from "../support/billing-api";
import { addActiveToken, seedPlan, startPayment, subscribe } from "../support/billing-setup";
import { installFakeGoCardless } from "../support/gocardless/fake-gocardless";
import { migrateToLatest } from "../support/migrate-to-latest";

// Break-it F2: a payment that was never submitted must not stay stuck on a
// token its owner revoked (409 PAYMENT_IN_PROGRESS for days, then a failure).
// From outside: the HTTP API and the Cron Trigger, GoCardless stubbed at the
// network edge.

const BASE = env.GOCARDLESS_API_URL.replace(/\/+$/, "");

/** POST /payments at GoCardless: every request recorded, each answer lost (the connection drops). */
function goCardlessLosingAnswers(): string[] {
  installFakeGoCardless();
  const payments: string[] = [];
  const next = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    if (!(request.method === "POST" && request.url === `${BASE}/payments`)) return next(input, init);
    payments.push(request.headers.get("idempotency-key")!);
    throw new TypeError("Network connection lost.");
  });
  return payments;
}

async function runEngine() {
  vi.spyOn(console, "log").mockImplementation(() => {});
  vi.spyOn(console, "error").mockImplementation(() => {});
  await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "*/15 * * * *" }), env as Env);
}
const attemptRow = (id: string) => env.DB.prepare("select status, failureCode, providerCancel from payment_attempts where id = ?").bind(id).first();

let users = 0;
async function subscribedUser() {
  const user = await signedInUser(`revoked-token-${++users}-${crypto.randomUUID().slice(0, 6)}@example.com`);
  const token = await addActiveToken(user);
  const code = `revoked-token-${users}`;
  await seedPlan(code, { amountMinor: 1500, currency: "GBP", interval: "month" });
  return { user, token, id: await subscribe(user, code) };
}

beforeAll(async () => {
  await migrateToLatest(env.DB);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("revoking the token of a payment not yet submitted", () => {
  it("releases the payment at once (canceled, token_revoked, not a failure): the engine sends nothing for it, and a payment on a new token starts", async () => {
    const sent = goCardlessLosingAnswers();
    const { user, token, id } = await subscribedUser();
    const stuck = await startPayment(user, id);
    expect((await api(`/api/billing/direct-debit-tokens/${token.id}`, { user, method: "DELETE" })).status).toBe(200);
    expect(await attemptRow(stuck.id)).toEqual({ status: "canceled", failureCode: "token_revoked", providerCancel: null });

    await runEngine();
    expect(sent).not.toContain(stuck.id);
    expect(await attemptRow(stuck.id)).toMatchObject({ status: "canceled", failureCode: "token_revoked" });

    const fresh = await addActiveToken(user);
    const paid = await api(`/api/billing/subscriptions/${id}/payment-attempts`, {
      user,
      method: "POST",
      headers: { "Idempotency-Key": crypto.randomUUID() },
      json: { directDebitTokenId: fresh.id },
    });
    expect(paid.status).toBe(201);
    expect(paid.body.paymentAttempt).toMatchObject({ status: "pending", directDebitTokenId: fresh.id });
  });

  it("one an engine run already tried to send (its answer lost: GoCardless may hold it) is released too, and GoCardless is asked to cancel what it holds", async () => {
    const sent = goCardlessLosingAnswers();
    const { user, token, id } = await subscribedUser();
    const tried = await startPayment(user, id);
    await runEngine();
    expect(sent).toContain(tried.id);
    expect(await attemptRow(tried.id)).toMatchObject({ status: "pending", failureCode: "network_error" });

    expect((await api(`/api/billing/direct-debit-tokens/${token.id}`, { user, method: "DELETE" })).status).toBe(200);
    expect(await attemptRow(tried.id)).toEqual({ status: "canceled", failureCode: "token_revoked", providerCancel: "due" });
  });
});
