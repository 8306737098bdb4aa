import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { EVENTS_PER_BATCH } from "../../src/billing/webhooks/apply-billing-delivery";
import { ORIGIN } from "../support/auth-session";
import { confirmedEvents, countingD1, MAX_EVENTS_PER_DELIVERY, seedPendingAttempts } from "../support/bulk-delivery";
import { migrateToLatest } from "../support/migrate-to-latest";
import { paymentEvent, signatureHeader } from "../support/webhook-signer";

// A full GoCardless delivery (250 events) must stay far inside D1's
// per-invocation query limit (1,000 paid, 50 free): every D1 call the Worker
// makes for it is counted through a wrapped binding.

/** D1's queries per Worker invocation on the free plan. */
const FREE_PLAN_QUERIES = 50;

async function deliver(events: unknown[], d1: D1Database) {
  const rawBody = JSON.stringify({ events });
  const response = await app.fetch(
    new Request(`${ORIGIN}/api/billing/webhooks/gocardless`, {
      method: "POST",
      body: rawBody,
      headers: { "content-type": "application/json", "Webhook-Signature": await signatureHeader(rawBody) },
    }),
    { ...env, DB: d1 },
  );
  expect(response.status).toBe(200);
  return ((await response.json()) as { results: { eventId: string; outcome: string }[] }).results;
}

async function statuses(table: string, ids: readonly string[]): Promise<string[]> {
  const rows = await env.DB.prepare(`select status from ${table} where id in (select value from json_each(?)) order by id`).bind(JSON.stringify(ids)).all<{ status: string }>();
  return rows.results.map((row) => row.status);
}

beforeAll(async () => {
  await migrateToLatest(env.DB);
});

describe("a 250-event delivery", () => {
  it("about 250 payments: all applied in 10 rounds (1 read + 1 batch each) after the duplicate check; the redelivery is that 1 read", async () => {
    const attempts = await seedPendingAttempts(env.DB, MAX_EVENTS_PER_DELIVERY, "a");
    const events = confirmedEvents(attempts, "A");
    const { d1, calls } = countingD1(env.DB);

    const results = await deliver(events, d1);

    expect(results.map((result) => result.outcome)).toEqual(events.map(() => "applied"));
    expect(new Set(await statuses("payment_attempts", attempts.map((a) => a.id)))).toEqual(new Set(["succeeded"]));
    expect(new Set(await statuses("user_subscriptions", attempts.map((a) => a.subscriptionId)))).toEqual(new Set(["active"]));
    // No mandate is named, so no token query; each event writes its record, attempt and subscription (+ 2 checks),
    // and a first payment moves its period's attempts to the period's real start (1).
    const rounds = MAX_EVENTS_PER_DELIVERY / EVENTS_PER_BATCH;
    expect(calls).toEqual({ statements: 1 + rounds, batches: rounds, batchedStatements: 250 * 6 });
    expect(calls.statements + calls.batches).toBeLessThanOrEqual(FREE_PLAN_QUERIES);

    const again = countingD1(env.DB);
    const redelivered = await deliver(events, again.d1);
    expect(redelivered.map((result) => result.outcome)).toEqual(events.map(() => "duplicate"));
    expect(again.calls).toEqual({ statements: 1, batches: 0, batchedStatements: 0 });
  });

  it("mixing redeliveries, repeated ids and events about the same payment: each applied once, in order, still inside the free plan", async () => {
    const attempts = await seedPendingAttempts(env.DB, 100, "b");
    const submitted = attempts.map((attempt, i) => paymentEvent("submitted", attempt.id, `PMB${i}`));
    const confirmed = attempts.map((attempt, i) => paymentEvent("confirmed", attempt.id, `PMB${i}`));
    await deliver(submitted.slice(0, 25), env.DB); // already processed before the big delivery
    // submitted(i) then confirmed(i) for every attempt, plus the first event repeated at the end: 201 events.
    const events = [...attempts.flatMap((_, i) => [submitted[i]!, confirmed[i]!]), submitted[0]!];
    const { d1, calls } = countingD1(env.DB);

    const results = await deliver(events, d1);

    const outcomes = results.map((result) => result.outcome);
    expect(outcomes.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? "duplicate" : "applied")));
    expect(outcomes.slice(50, 200)).toEqual(Array.from({ length: 150 }, () => "applied"));
    expect(outcomes[200]).toBe("duplicate");
    expect(new Set(await statuses("payment_attempts", attempts.map((a) => a.id)))).toEqual(new Set(["succeeded"]));
    const ledger = await env.DB.prepare("select count(*) as n from billing_webhook_events where eventId in (select value from json_each(?))")
      .bind(JSON.stringify(events.map((event) => event.id)))
      .first<{ n: number }>();
    expect(ledger!.n).toBe(200);
    // A confirmed waits for its payment's submitted: one round more than the 175 events need alone.
    expect(calls.statements + calls.batches).toBeLessThanOrEqual(FREE_PLAN_QUERIES);
  });

  it("the same 250 events delivered twice at once (GoCardless redelivering a slow delivery): each applied once, both deliveries inside the free plan", async () => {
    const attempts = await seedPendingAttempts(env.DB, MAX_EVENTS_PER_DELIVERY, "c");
    const events = confirmedEvents(attempts, "C");
    const first = countingD1(env.DB);
    const second = countingD1(env.DB);

    const [a, b] = await Promise.all([deliver(events, first.d1), deliver(events, second.d1)]);

    for (let i = 0; i < events.length; i++) expect([a[i]!.outcome, b[i]!.outcome].sort()).toEqual(["applied", "duplicate"]);
    expect(new Set(await statuses("payment_attempts", attempts.map((attempt) => attempt.id)))).toEqual(new Set(["succeeded"]));
    expect(first.calls.statements + first.calls.batches).toBeLessThanOrEqual(FREE_PLAN_QUERIES);
    expect(second.calls.statements + second.calls.batches).toBeLessThanOrEqual(FREE_PLAN_QUERIES);
  });
});
