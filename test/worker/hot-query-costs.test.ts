import { env } from "cloudflare:workers";
import type { Kysely } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { runBatch } from "../../src/billing/d1-batch";
import {
  findDefaultToken,
  findToken,
  findTokensByFingerprints,
  listTokens,
  revokeTokenQueries,
  setDefaultTokenQueries,
} from "../../src/billing/direct-debit-tokens.repository";
import {
  findAttempt,
  findAttemptByIdempotencyKey,
  findAttemptsForEvents,
  insertAttemptIfIdle,
  listAttempts,
  nextAttemptNumber,
} from "../../src/billing/payment-attempts.repository";
import { findCollectionCandidates } from "../../src/billing/engine/due-work.repository";
import { findPlanByCode, findPlanById, hasLiveSubscribers, listActivePlans, updatePlan } from "../../src/billing/plans.repository";
import { findSubscription, listSubscriptions, updateSubscriptionIfStatus } from "../../src/billing/subscriptions.repository";
import { isEventProcessed } from "../../src/billing/webhook-events.repository";
import { createDb } from "../../src/db/create-db";
import type { DB } from "../../src/db/generated";
import { attemptRow } from "../support/billing-seed";
import { LONG_HISTORY, seedLongHistory } from "../support/long-history-seed";
import { migrateToLatest } from "../support/migrate-to-latest";
import { recordingD1, type D1Call } from "../support/recording-d1";

// Every query the billing repositories send, on a database with a long
// history (a subscription with 2,000 attempts, a plan with 10,000
// subscribers): SQLite must answer each by an index search (no SCAN of a
// billing table, no temporary B-tree to sort), and D1 must read no more rows
// than the query returns, plus one (the probe that ends a range). D1 bills
// rows read, so this is also what each request costs.

const BILLING_TABLE = /\b(SCAN) (subscription_plans|user_subscriptions|direct_debit_tokens|payment_attempts|billing_webhook_events)\b/;
const { aliceId, proSubscriptionId, crowdPlanId, endedPlanId, failuresSinceSuccess } = LONG_HISTORY;

beforeAll(async () => {
  await migrateToLatest(env.DB);
  await seedLongHistory(env.DB);
}, 60_000);

/** Runs `query` on a Kysely over a recording binding; returns D1's report of the one call it made. */
async function costOf<T>(query: (db: Kysely<DB>) => Promise<T>): Promise<{ result: T; call: D1Call; plan: string[] }> {
  const { database, calls } = recordingD1(env.DB);
  const result = await query(createDb(database));
  expect(calls).toHaveLength(1);
  const call = calls[0]!;
  const explained = await env.DB.prepare(`explain query plan ${call.sql}`).bind(...call.params).all<{ detail: string }>();
  return { result, call, plan: explained.results.map((row) => row.detail) };
}

function expectIndexedPlan(plan: string[]): void {
  expect(plan.filter((line) => BILLING_TABLE.test(line) || line.includes("TEMP B-TREE"))).toEqual([]);
}

/** name, query, rows it returns, tables each returned row is read from (a join reads one row per table). */
type Reads = [name: string, query: (db: Kysely<DB>) => Promise<unknown>, returned: number, tables?: number][];

const reads: Reads = [
  ["listSubscriptions", (db) => listSubscriptions(db, aliceId), 3, 2],
  ["findSubscription", (db) => findSubscription(db, aliceId, proSubscriptionId), 1, 2],
  ["listActivePlans", (db) => listActivePlans(db), 13],
  ["findPlanByCode", (db) => findPlanByCode(db, "crowd"), 1],
  ["findPlanById", (db) => findPlanById(db, crowdPlanId), 1],
  ["hasLiveSubscribers (10,000 subscribers, the live one last)", (db) => hasLiveSubscribers(db, crowdPlanId), 1],
  ["hasLiveSubscribers (none live)", (db) => hasLiveSubscribers(db, endedPlanId), 0],
  ["listTokens", (db) => listTokens(db, aliceId, { after: undefined, limit: 21 }), 3],
  ["findToken", (db) => findToken(db, aliceId, "token-2"), 1],
  ["findDefaultToken", (db) => findDefaultToken(db, aliceId), 1],
  // Webhooks look tokens and attempts up in bulk: the ids travel as a JSON array, and each id
  // also reads its json_each rows (a constant per id, measured: 2 for a token, 3 for an attempt).
  ["findTokensByFingerprints (one mandate)", (db) => findTokensByFingerprints(db, "gocardless", ["1".padStart(64, "0")]), 1, 2],
  ["findAttemptByIdempotencyKey", (db) => findAttemptByIdempotencyKey(db, aliceId, "key-1500"), 1],
  ["listAttempts, first page (2,000 attempts)", (db) => listAttempts(db, aliceId, { after: undefined, limit: 21 }), 21],
  [
    "listAttempts, after a cursor",
    (db) => listAttempts(db, aliceId, { after: { createdAt: "2026-01-01T00:16:40.000Z", id: "attempt-1000" }, limit: 21 }),
    21,
  ],
  ["findAttempt", (db) => findAttempt(db, aliceId, "attempt-7"), 1],
  // The attempt, its subscription and plan, its period's success, the subscription's open attempt and
  // an older period owed again (`owesOther`, a seek on the partial index of reversed attempts): 6,
  // and the id's json_each rows: 3.
  ["findAttemptsForEvents by payment id", (db) => findAttemptsForEvents(db, "gocardless", [{ providerPaymentId: "PM42", paymentAttemptId: undefined }]), 1, 9],
  ["isEventProcessed", (db) => isEventProcessed(db, "gocardless", "EV1"), 1],
];

describe("reads on a long history: an index search, rows read ≤ rows returned (per joined table) + 1", () => {
  it.each(reads)("%s", async (_name, query, returned, tables = 1) => {
    const { call, plan } = await costOf(query);

    expect(call.rowsReturned).toBe(returned);
    expectIndexedPlan(plan);
    expect(call.rowsRead).toBeLessThanOrEqual(call.rowsReturned * tables + 1);
  });
});

describe("attempt numbering and the open-attempt check do not grow with the history", () => {
  it("nextAttemptNumber reads the failures since the last success, one more and the period's highest number, not the 2,000 attempts", async () => {
    const { result, call, plan } = await costOf((db) => nextAttemptNumber(db, proSubscriptionId, "2026-01-02T00:00:00.000Z"));

    expect(result).toBe(failuresSinceSuccess + 1);
    expectIndexedPlan(plan);
    // The last success (one entry), each failure after it, and the period's last attempt (one index entry).
    expect(call.rowsRead).toBeLessThanOrEqual(failuresSinceSuccess + 3);
  });

  it("insertAttemptIfIdle reads a constant handful of rows, not the history", async () => {
    const subscription = (await findSubscription(createDb(env.DB), aliceId, proSubscriptionId))!;
    const row = { ...attemptRow(aliceId, { subscriptionId: proSubscriptionId, providerPaymentId: null }), subscriptionId: proSubscriptionId, periodStart: subscription.currentPeriodEnd };

    const { call, plan } = await costOf((db) => insertAttemptIfIdle(db, row, subscription));

    expectIndexedPlan(plan);
    expect(await findAttempt(createDb(env.DB), aliceId, row.id)).toBeDefined();
    expect(call.rowsRead).toBeLessThanOrEqual(10);
  });
});

describe("writes find their rows by index", () => {
  it.each([
    ["updatePlan with the price lock (10,000 subscribers)", (db: Kysely<DB>) => updatePlan(db, "crowd", { amountMinor: 1000 }, { guardPricing: true })],
    ["updateSubscriptionIfStatus", (db: Kysely<DB>) => updateSubscriptionIfStatus(db, aliceId, "sub-alice-ended", "active", { updatedAt: "2026-02-01T00:00:00.000Z" })],
  ] as const)("%s", async (_name, query) => {
    const { call, plan } = await costOf(query);

    expectIndexedPlan(plan);
    expect(call.rowsRead).toBeLessThanOrEqual(10);
  });

  it.each([
    ["setDefaultTokenQueries", "token-2", setDefaultTokenQueries],
    ["revokeTokenQueries (its payments never submitted released with it)", "token-3", revokeTokenQueries],
  ] as const)("%s", async (_name, tokenId, queries) => {
    const { database, calls } = recordingD1(env.DB);
    const db = createDb(database);
    await runBatch(database, queries(db, aliceId, tokenId, "2026-02-01T00:00:00.000Z"));

    for (const query of queries(db, aliceId, tokenId, "2026-02-01T00:00:00.000Z")) {
      const { sql, parameters } = query.compile();
      const plan = await env.DB.prepare(`explain query plan ${sql}`).bind(...parameters).all<{ detail: string }>();
      expectIndexedPlan(plan.results.map((line) => line.detail));
    }
    expect(calls[0]!.rowsRead).toBeLessThanOrEqual(10);
  });
});

describe("the engine's collection sweep follows due work, not the number of subscriptions", () => {
  it("with 5,000 live subscriptions whose renewal window has not opened, it reads a handful of rows, not each of them", async () => {
    // Live and paying, each renewing after the run's window (3 days): nothing to collect. And one
    // that renews in the window, with an active default mandate: due.
    const at = "2026-05-15T00:00:00.000Z";
    await env.DB.batch([
      env.DB.prepare(
        `with recursive n(i) as (select 1 union all select i + 1 from n where i < 5000)
         insert into user_subscriptions (id, userId, planId, status, currentPeriodStart, currentPeriodEnd, cancelAtPeriodEnd, createdAt, updatedAt)
         select 'renewing-' || i, 'crowd-' || i, 'plan-pro', case i % 2 when 0 then 'active' else 'trialing' end, '${at}', '2026-06-15T00:00:00.000Z', 0, '${at}', '${at}' from n`,
      ),
      env.DB.prepare(`insert into "user" (id, name, email, emailVerified, createdAt, updatedAt) values ('renewer', 'Renewer', 'renewer@example.com', 1, '${at}', '${at}')`),
      env.DB.prepare(
        `insert into direct_debit_tokens (id, userId, provider, tokenCiphertext, tokenKeyId, tokenFingerprint, status, isDefault, createdAt, updatedAt)
         values ('token-renewer', 'renewer', 'gocardless', 'sealed', 'k1', printf('%064x', 99999), 'active', 1, '${at}', '${at}')`,
      ),
      env.DB.prepare(
        `insert into user_subscriptions (id, userId, planId, status, currentPeriodStart, currentPeriodEnd, cancelAtPeriodEnd, createdAt, updatedAt)
         values ('renewing-due', 'renewer', 'plan-pro', 'active', '${at}', '2026-06-02T00:00:00.000Z', 0, '${at}', '${at}')`,
      ),
    ]);
    const { result, call, plan } = await costOf((db) => findCollectionCandidates(db, new Date("2026-06-01T00:00:00.000Z"), 8));

    expect(result.map((row) => row.id)).toContain("renewing-due");
    expect(plan.filter((line) => /\bSCAN (subscription|user_subscriptions)\b/.test(line))).toEqual([]);
    // Measured: 17 (the due subscription, its plan, token and attempts' index entries); 13,015 when the sweep read every live subscription.
    expect(call.rowsRead).toBeLessThanOrEqual(40);
  });
});
