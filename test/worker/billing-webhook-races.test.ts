import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { runBatch } from "../../src/billing/d1-batch";
import { loadFingerprintKey } from "../../src/billing/token-fingerprint";
import { recordAgainIfUnchangedQuery, recordEventQuery } from "../../src/billing/webhook-events.repository";
import { APPLY_TRIES, applyBillingEvent, type ApplyContext } from "../../src/billing/webhooks/apply-billing-event";
import type { BillingEvent } from "../../src/billing/webhooks/billing-event";
import { gocardlessAdapter } from "../../src/billing/webhooks/gocardless-adapter";
import { createDb } from "../../src/db/create-db";
import { ORIGIN, signedInUser, type TestUser } from "../support/auth-session";
import { addActiveToken, seedPlan, setSubscriptionState, startPayment, subscribe } from "../support/billing-setup";
import { migrateToLatest } from "../support/migrate-to-latest";
import { type GoCardlessEvent, happenedInOrder, paymentConfirmed, paymentEvent, paymentFailed, signatureHeader } from "../support/webhook-signer";

// Two events about the same rows, each read before the other commits. The
// order is made explicit, never left to luck: the event under test gets a D1
// binding (the real local D1) that runs another event to completion just
// before the test event's own batch, i.e. after the test event has read.
// Tests in this file share one database and run in order.

const DAY_MS = 24 * 60 * 60 * 1000;
const PERIOD_DAYS = 30;
const db = createDb(env.DB);
let dana: TestUser;
let plans = 0;

beforeAll(async () => {
  await migrateToLatest(env.DB);
  dana = await signedInUser("dana@example.com");
  await addActiveToken(dana);
});

function contextFor(d1: D1Database = env.DB, now = new Date()): ApplyContext {
  return { db, d1, provider: "gocardless", fingerprintKey: () => loadFingerprintKey(env.TOKEN_FINGERPRINT_KEY), now };
}

/** The provider-neutral event the GoCardless adapter makes of `event`. */
function parsed(event: GoCardlessEvent): BillingEvent {
  return gocardlessAdapter.parseEvents(JSON.stringify({ events: [event] }))[0]!;
}

/**
 * The local D1, except that `beforeBatch(n)` runs (to completion) before the
 * n-th batch sent through it is passed on. Reads go straight through.
 */
function d1WithHook(beforeBatch: (batchNumber: number) => Promise<unknown>): { d1: D1Database; batches: () => number } {
  let batches = 0;
  const d1 = new Proxy(env.DB, {
    get(target, property) {
      if (property === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          await beforeBatch(++batches);
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { d1, batches: () => batches };
}

/**
 * A fresh subscription of dana's on its own 30-day plan: `incomplete`, or
 * `active` after a first paid period that ends tomorrow (so its renewal is due).
 */
async function newSubscription(status: "incomplete" | "active"): Promise<string> {
  const code = `race-${++plans}`;
  await seedPlan(code, { amountMinor: 900, interval: "day", intervalCount: PERIOD_DAYS });
  const subscriptionId = await subscribe(dana, code);
  if (status === "active") {
    const first = await startPayment(dana, subscriptionId);
    expect(await applyBillingEvent(contextFor(), parsed(paymentConfirmed(first.id)))).toBe("applied");
    await setSubscriptionState(subscriptionId, { periodEndsInDays: 1 });
  }
  expect(await subscriptionRow(subscriptionId)).toMatchObject({ status });
  return subscriptionId;
}

async function subscriptionRow(id: string) {
  return (await env.DB.prepare("select status, currentPeriodStart, currentPeriodEnd from user_subscriptions where id = ?").bind(id).first<Record<string, any>>())!;
}
async function attemptRow(id: string) {
  return (await env.DB.prepare("select status, providerPaymentId, failureCode, nextRetryAt from payment_attempts where id = ?").bind(id).first<Record<string, any>>())!;
}
async function recordedOutcome(eventId: string): Promise<string | null> {
  return env.DB.prepare("select outcome from billing_webhook_events where provider = 'gocardless' and eventId = ?").bind(eventId).first<string>("outcome");
}
const plusDays = (iso: string, days: number) => new Date(Date.parse(iso) + days * DAY_MS).toISOString();

describe("the in-batch check that a guarded write changed a row", () => {
  const record = (eventId: string) => ({
    id: crypto.randomUUID(),
    provider: "gocardless",
    eventId,
    eventType: "test.changes",
    outcome: "applied" as const,
    processedAt: new Date().toISOString(),
  });
  const touchUser = (id: string) => db.updateTable("user").set({ updatedAt: new Date().toISOString() }).where("id", "=", id);

  it("lets the batch commit when the write before it changed a row", async () => {
    const first = record("EV-CHANGES-1");
    await runBatch(env.DB, [recordEventQuery(db, first), touchUser(dana.id), recordAgainIfUnchangedQuery(db, first)]);
    expect(await env.DB.prepare("select count(*) as n from billing_webhook_events where eventId = 'EV-CHANGES-1'").first("n")).toBe(1);
  });

  it("fails the whole batch, record included, when the write before it changed nothing", async () => {
    const second = record("EV-CHANGES-2");
    const before = await env.DB.prepare(`select "updatedAt" from "user" where id = ?`).bind(dana.id).first("updatedAt");
    await expect(
      runBatch(env.DB, [
        recordEventQuery(db, second),
        touchUser(dana.id),
        touchUser("no-such-user"),
        recordAgainIfUnchangedQuery(db, second),
      ]),
    ).rejects.toThrow(/UNIQUE constraint failed/);
    expect(await recordedOutcome("EV-CHANGES-2")).toBeNull();
    expect(await env.DB.prepare(`select "updatedAt" from "user" where id = ?`).bind(dana.id).first("updatedAt")).toBe(before);
  });
});

describe("two events about one payment, each read before the other commits", () => {
  it.each(["incomplete", "active"] as const)(
    "two confirmations (distinct event ids) of one payment for an %s subscription: one applied, the other ignored after a retry",
    async (startStatus) => {
      const subscriptionId = await newSubscription(startStatus);
      const before = await subscriptionRow(subscriptionId);
      const attempt = await startPayment(dana, subscriptionId);
      const first = paymentConfirmed(attempt.id);
      const second = paymentConfirmed(attempt.id);
      const firstAt = new Date();
      let firstOutcome: string | undefined;
      // `second` reads, then `first` reads and commits, then `second` commits.
      const { d1, batches } = d1WithHook(async (batchNumber) => {
        if (batchNumber === 1) firstOutcome = await applyBillingEvent(contextFor(env.DB, firstAt), parsed(first));
      });

      const secondOutcome = await applyBillingEvent(contextFor(d1, new Date(firstAt.getTime() + 60_000)), parsed(second));

      expect([firstOutcome, secondOutcome]).toEqual(["applied", "ignored"]);
      expect(batches()).toBe(2); // the stale batch failed, the re-read one recorded "ignored"
      expect(await recordedOutcome(first.id)).toBe("applied");
      expect(await recordedOutcome(second.id)).toBe("ignored");
      expect(await attemptRow(attempt.id)).toMatchObject({ status: "succeeded", providerPaymentId: (first.links as any).payment });
      // The period advanced once, as the first event computed it.
      const start = startStatus === "incomplete" ? firstAt.toISOString() : before.currentPeriodEnd;
      expect(await subscriptionRow(subscriptionId)).toEqual({
        status: "active",
        currentPeriodStart: start,
        currentPeriodEnd: plusDays(start, PERIOD_DAYS),
      });
    },
  );

  it.each([
    { winner: "succeeded", loser: "failed" },
    { winner: "failed", loser: "succeeded" },
  ] as const)("a $loser payment event overtaken by a $winner one for the same renewal is ignored; rows stay consistent", async ({ winner }) => {
    const subscriptionId = await newSubscription("active");
    const before = await subscriptionRow(subscriptionId);
    const attempt = await startPayment(dana, subscriptionId);
    const success = paymentConfirmed(attempt.id);
    const failure = paymentFailed(attempt.id, "insufficient_funds");
    const [winning, losing] = winner === "succeeded" ? [success, failure] : [failure, success];
    let winningOutcome: string | undefined;
    const { d1, batches } = d1WithHook(async (batchNumber) => {
      if (batchNumber === 1) winningOutcome = await applyBillingEvent(contextFor(), parsed(winning));
    });

    const losingOutcome = await applyBillingEvent(contextFor(d1), parsed(losing));

    if (winner === "succeeded") {
      expect(await attemptRow(attempt.id)).toMatchObject({ status: "succeeded", failureCode: null, nextRetryAt: null });
      expect(await subscriptionRow(subscriptionId)).toEqual({
        status: "active",
        currentPeriodStart: before.currentPeriodEnd,
        currentPeriodEnd: plusDays(before.currentPeriodEnd, PERIOD_DAYS),
      });
    } else {
      expect(await attemptRow(attempt.id)).toMatchObject({ status: "failed", failureCode: "insufficient_funds", nextRetryAt: expect.any(String) });
      // A renewal failing while the paid period runs changes nothing on the subscription.
      expect(await subscriptionRow(subscriptionId)).toEqual(before);
    }
    expect([winningOutcome, losingOutcome]).toEqual(["applied", "ignored"]);
    expect(batches()).toBe(2);
    expect(await recordedOutcome(winning.id)).toBe("applied");
    expect(await recordedOutcome(losing.id)).toBe("ignored");
  });
});

describe("a chargeback and the confirmation it overtook, each read before the other commits", () => {
  it.each([
    ["confirmed", "charged_back"],
    ["charged_back", "confirmed"],
  ] as const)("%s commits first, then %s re-reads: the chargeback sticks either way", async (winner, loser) => {
    const subscriptionId = await newSubscription("incomplete");
    const attempt = await startPayment(dana, subscriptionId);
    const paymentId = `PMRACE${attempt.id.slice(0, 8)}`;
    const [confirmed, chargedBack] = happenedInOrder([paymentEvent("confirmed", attempt.id, paymentId), paymentEvent("charged_back", attempt.id, paymentId, "authorisation_disputed")]);
    const events = { confirmed: confirmed!, charged_back: chargedBack! };
    let winningOutcome: string | undefined;
    const { d1 } = d1WithHook(async (batchNumber) => {
      if (batchNumber === 1) winningOutcome = await applyBillingEvent(contextFor(), parsed(events[winner]));
    });
    // The loser is applied a minute after the winner (each event's time is its own context's clock).
    const losingOutcome = await applyBillingEvent(contextFor(d1, new Date(Date.now() + 60_000)), parsed(events[loser]));
    expect([winningOutcome, losingOutcome]).toEqual(winner === "confirmed" ? ["applied", "applied"] : ["applied", "ignored"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "failed", failureCode: "authorisation_disputed", providerPaymentId: paymentId });
    expect(await env.DB.prepare("select reversal from payment_attempts where id = ?").bind(attempt.id).first("reversal")).toBe("reversed");
    // Collected and taken back, in either order: the period it paid is owed again.
    expect((await subscriptionRow(subscriptionId)).status).toBe("past_due");
  });
});

describe("an event overtaken on every try", () => {
  it(`gives up after ${APPLY_TRIES} tries: 500, nothing recorded or changed; the provider's redelivery then applies it`, async () => {
    const subscriptionId = await newSubscription("active");
    const attempt = await startPayment(dana, subscriptionId);
    const event = paymentConfirmed(attempt.id);
    const rawBody = JSON.stringify({ events: [event] });
    // Another writer moves the subscription between every read and batch.
    const flipStatus = env.DB.prepare(
      "update user_subscriptions set status = case status when 'active' then 'past_due' else 'active' end where id = ?",
    ).bind(subscriptionId);
    const { d1, batches } = d1WithHook(() => flipStatus.run());
    const deliver = (database: D1Database) =>
      signatureHeader(rawBody).then((signature) =>
        app.fetch(
          new Request(`${ORIGIN}/api/billing/webhooks/gocardless`, {
            method: "POST",
            body: rawBody,
            headers: { "content-type": "application/json", "Webhook-Signature": signature },
          }),
          { ...env, DB: database },
        ),
      );

    const refused = await deliver(d1);

    expect(refused.status).toBe(500);
    expect(((await refused.json()) as any).error.code).toBe("INTERNAL_ERROR");
    expect(batches()).toBe(APPLY_TRIES);
    expect(await recordedOutcome(event.id)).toBeNull();
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "pending", providerPaymentId: null });

    const redelivered = await deliver(env.DB);

    expect(redelivered.status).toBe(200);
    expect(((await redelivered.json()) as any).results).toEqual([{ eventId: event.id, outcome: "applied" }]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "succeeded" });
    expect(await subscriptionRow(subscriptionId)).toMatchObject({ status: "active" });
  });
});
