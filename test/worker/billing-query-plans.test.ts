import { env } from "cloudflare:workers";
import { Kysely, type CompiledQuery } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { findTokensByFingerprints } from "../../src/billing/direct-debit-tokens.repository";
import { findAttemptsForEvents, listAttempts } from "../../src/billing/payment-attempts.repository";
import { findProcessedEventIds } from "../../src/billing/webhook-events.repository";
import { ProjectD1Dialect } from "../../src/db/d1-dialect";
import type { DB } from "../../src/db/generated";
import { migrateToLatest } from "../support/migrate-to-latest";

// The billing list queries, exactly as the repository builds them, under
// SQLite's EXPLAIN QUERY PLAN on the migrated local D1: each must be served
// by its index, in index order (no full scan, no sort of the user's rows).

beforeAll(async () => {
  await migrateToLatest(env.DB);
});

/** Runs `query(db)` on a Kysely that records the SQL it sends; returns that SQL's plan lines. */
async function planOf(query: (db: Kysely<DB>) => Promise<unknown>): Promise<string[]> {
  const sent: CompiledQuery[] = [];
  const db = new Kysely<DB>({
    dialect: new ProjectD1Dialect({ database: env.DB }),
    log: (event) => void sent.push(event.query),
  });
  await query(db);
  expect(sent).toHaveLength(1);
  const { sql, parameters } = sent[0]!;
  const plan = await env.DB.prepare(`explain query plan ${sql}`).bind(...parameters).all<{ detail: string }>();
  return plan.results.map((row) => row.detail);
}

describe("GET /api/billing/payment-attempts (listAttempts)", () => {
  it.each([
    ["the first page", undefined, "(userId=?)"],
    ["a page after a cursor", { createdAt: "2026-11-24T08:00:00.000Z", id: "a1" }, "(userId=? AND (createdAt,id)<(?,?))"],
  ])("%s reads payment_attempts_userId_createdAt_idx in order", async (_name, after, searchTerms) => {
    const plan = await planOf((db) => listAttempts(db, "some-user", { after, limit: 21 }));

    expect(plan).toEqual([`SEARCH payment_attempts USING INDEX payment_attempts_userId_createdAt_idx ${searchTerms}`]);
    expect(plan.join("\n")).not.toMatch(/TEMP B-TREE|SCAN/);
  });
});

describe("a webhook delivery's bulk reads (ids as one json_each parameter)", () => {
  const ids = Array.from({ length: 250 }, (_, i) => `id-${i}`);
  it.each([
    ["findProcessedEventIds", (db: Kysely<DB>) => findProcessedEventIds(db, "gocardless", ids), "billing_webhook_events_provider_eventId_unique"],
    [
      "findAttemptsForEvents",
      (db: Kysely<DB>) => findAttemptsForEvents(db, "gocardless", ids.map((id) => ({ providerPaymentId: `PM-${id}`, paymentAttemptId: id }))),
      "payment_attempts_providerPaymentId_unique",
    ],
    ["findTokensByFingerprints", (db: Kysely<DB>) => findTokensByFingerprints(db, "gocardless", ids), "direct_debit_tokens_tokenFingerprint_live_unique"],
  ] as const)("%s searches %s, never scans its table", async (_name, query, index) => {
    const plan = (await planOf(query)).join("\n");
    expect(plan).toContain(index);
    expect(plan).not.toMatch(/SCAN (billing_webhook_events|payment_attempts|direct_debit_tokens|attempt)\b/);
  });
});
