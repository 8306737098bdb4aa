import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { signedInUser } from "../support/auth-session";
import { api, callAppConcurrently } from "../support/billing-api";
import { addActiveToken, seedPlan, startPayment, subscribe } from "../support/billing-setup";
import { mandateIsInactiveBody } from "../support/gocardless/api-fixtures";
import { installFakeGoCardless } from "../support/gocardless/fake-gocardless";
import { migrateToLatest } from "../support/migrate-to-latest";
import { mandateEvent, paymentEvent, sendWebhook } from "../support/webhook-signer";

// Break-it F2: a payment that was never submitted must not stay stuck on a
// token its owner revoked (409 PAYMENT_IN_PROGRESS for days, then a failure).
// From outside: the HTTP API and the Cron Trigger, GoCardless stubbed at the
// network edge.

const BASE = env.GOCARDLESS_API_URL.replace(/\/+$/, "");

/** POST /payments at GoCardless: every request recorded, each answer lost (the connection drops), or `answer`. */
function goCardlessLosingAnswers(answer?: () => Response): string[] {
  installFakeGoCardless();
  const payments: string[] = [];
  const next = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    if (!(request.method === "POST" && request.url === `${BASE}/payments`)) return next(input, init);
    payments.push(request.headers.get("idempotency-key")!);
    if (answer) return answer();
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

/** A payment on a new token of the user's starts at once (nothing of theirs is in flight any more). */
async function paysOnANewToken(user: Awaited<ReturnType<typeof subscribedUser>>["user"], id: string) {
  const fresh = await addActiveToken(user);
  const paid = await api(`/api/billing/subscriptions/${id}/payment-attempts`, {
    user,
    method: "POST",
    headers: { "Idempotency-Key": crypto.randomUUID() },
    json: { directDebitTokenId: fresh.id },
  });
  expect(paid.status).toBe(201);
  expect(paid.body.paymentAttempt).toMatchObject({ status: "pending", directDebitTokenId: fresh.id });
}

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
    await paysOnANewToken(user, id);
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

describe("a payment whose send GoCardless refused (422: its answer says no payment was created)", () => {
  // GoCardless's 422 to POST /payments: the mandate was cancelled there before its webhook arrived (break-it 2, B).
  const refused = () => goCardlessLosingAnswers(() => Response.json(mandateIsInactiveBody, { status: 422 }));

  it("is released at once by the mandate's mandates.cancelled, not held for the send's backoff: a payment on a new token starts", async () => {
    const sent = refused();
    const { user, token, id } = await subscribedUser();
    const stuck = await startPayment(user, id);
    await runEngine();
    expect(sent).toContain(stuck.id);
    expect(await attemptRow(stuck.id)).toEqual({ status: "pending", failureCode: "mandate_is_inactive", providerCancel: null });

    expect((await sendWebhook([mandateEvent(token.mandateId, "cancelled")])).status).toBe(200);
    expect(await attemptRow(stuck.id)).toEqual({ status: "canceled", failureCode: "token_revoked", providerCancel: null });
    await paysOnANewToken(user, id);
  });

  it("revoked by its owner, it is released with nothing to cancel at GoCardless (no lookup of a payment it cannot hold)", async () => {
    const sent = refused();
    const { user, token, id } = await subscribedUser();
    const stuck = await startPayment(user, id);
    await runEngine();
    expect(sent).toContain(stuck.id);
    expect((await api(`/api/billing/direct-debit-tokens/${token.id}`, { user, method: "DELETE" })).status).toBe(200);
    expect(await attemptRow(stuck.id)).toEqual({ status: "canceled", failureCode: "token_revoked", providerCancel: null });
  });
});

describe("a mandate that ends at GoCardless (cancelled, failed, expired): not by its owner", () => {
  it.each(["cancelled", "failed", "expired"])("mandates.%s releases its payments never sent in the same delivery (canceled, token_revoked, not a failure): nothing waits out the give-up, and a payment on a new token starts", async (action) => {
    const sent = goCardlessLosingAnswers();
    const { user, token, id } = await subscribedUser();
    const stuck = await startPayment(user, id);
    expect((await sendWebhook([mandateEvent(token.mandateId, action)])).status).toBe(200);
    expect(await attemptRow(stuck.id)).toEqual({ status: "canceled", failureCode: "token_revoked", providerCancel: null });
    await runEngine();
    expect(sent).not.toContain(stuck.id);
    await paysOnANewToken(user, id);
  });

  it("payments the engine already tried to send (answers lost) are GoCardless's to report: it cancels what it holds with the mandate and says so (a failure, as when the payment id was known); one it holds none of is released by the next run", async () => {
    const sent = goCardlessLosingAnswers();
    const { user, token, id } = await subscribedUser();
    await seedPlan(`revoked-token-${users}-b`, { amountMinor: 1500, currency: "GBP", interval: "month" });
    const other = await subscribe(user, `revoked-token-${users}-b`);
    const [held, unheld] = [await startPayment(user, id), await startPayment(user, other)];
    await runEngine();
    expect(sent).toEqual(expect.arrayContaining([held.id, unheld.id]));
    expect((await sendWebhook([mandateEvent(token.mandateId, "cancelled")])).status).toBe(200);
    for (const tried of [held, unheld]) expect(await attemptRow(tried.id)).toEqual({ status: "pending", failureCode: "network_error", providerCancel: null });
    // GoCardless held one (the POST reached it; its answer was lost) and cancelled it with the mandate.
    expect((await sendWebhook([paymentEvent("cancelled", held.id, "PM00HELDREVOKE", "mandate_cancelled")])).status).toBe(200);
    expect(await attemptRow(held.id)).toEqual({ status: "failed", failureCode: "mandate_cancelled", providerCancel: null });
    // The other is never sent again: the next run (its backoff over) releases it, GoCardless asked whether it holds it.
    await env.DB.prepare("update payment_attempts set nextRetryAt = ? where id = ?").bind(new Date(Date.now() - 1000).toISOString(), unheld.id).run();
    await runEngine();
    expect(sent.filter((key) => key === unheld.id)).toHaveLength(1);
    expect(await attemptRow(unheld.id)).toEqual({ status: "canceled", failureCode: "token_revoked", providerCancel: "due" });
  });
});

describe("a payment started at the instant its token is revoked (read active, inserted after the revoke's batch)", () => {
  it("is released by the next engine run (canceled, token_revoked), never sent, instead of waiting out submissionGiveUpDays; a payment on a new token then starts", async () => {
    const sent = goCardlessLosingAnswers();
    const { user, token, id } = await subscribedUser();
    let revoked = false;
    // The local D1, except that the owner's revoke commits right before the route's insert of the attempt.
    const d1 = new Proxy(env.DB, {
      get(target, property) {
        if (property === "prepare") {
          return (sql: string) => {
            const statement = target.prepare(sql);
            if (!/^insert into "payment_attempts"/i.test(sql)) return statement;
            const revokeFirst = (bound: D1PreparedStatement): D1PreparedStatement =>
              new Proxy(bound, {
                get(inner, name) {
                  if (name === "bind") return (...values: unknown[]) => revokeFirst(inner.bind(...values));
                  if (name === "run" || name === "all") {
                    return async () => {
                      if (!revoked) {
                        revoked = true;
                        expect((await callAppConcurrently(`/api/billing/direct-debit-tokens/${token.id}`, { method: "DELETE", cookie: user.cookie, ip: user.ip })).status).toBe(200);
                      }
                      return inner[name]();
                    };
                  }
                  const value = Reflect.get(inner, name);
                  return typeof value === "function" ? value.bind(inner) : value;
                },
              });
            return revokeFirst(statement);
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const started = await callAppConcurrently(`/api/billing/subscriptions/${id}/payment-attempts`, { method: "POST", cookie: user.cookie, ip: user.ip, headers: { "Idempotency-Key": crypto.randomUUID() } }, { ...env, DB: d1 });
    expect(revoked).toBe(true);
    expect(started.status).toBe(201);
    const late = ((await started.json()) as { paymentAttempt: { id: string } }).paymentAttempt;
    expect(await attemptRow(late.id)).toEqual({ status: "pending", failureCode: null, providerCancel: null });

    await runEngine();
    expect(sent).not.toContain(late.id);
    expect(await attemptRow(late.id)).toEqual({ status: "canceled", failureCode: "token_revoked", providerCancel: null });
    await paysOnANewToken(user, id);
  });
});
