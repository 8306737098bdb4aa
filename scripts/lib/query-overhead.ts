import { desc, eq, getTableColumns, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Kysely } from "kysely";
import { findSubscription, listSubscriptions } from "../../src/billing/subscriptions.repository";
import { createDb } from "../../src/db/create-db";
import type { DB } from "../../src/db/generated";
import * as schema from "../../src/db/schema";

/** One variant's microseconds per call: median and the 10th–90th percentile spread of the rounds. */
export interface OverheadRow {
  name: string;
  median: number;
  p10: number;
  p90: number;
}

const SUBSCRIPTION = {
  id: "00000000-0000-4000-8000-000000000000",
  userId: "user-1",
  planId: "plan-1",
  status: "active",
  currentPeriodStart: "2026-11-01T00:00:00.000Z",
  currentPeriodEnd: "2026-12-01T00:00:00.000Z",
  cancelAtPeriodEnd: 0,
  canceledAt: null,
  trialEndsAt: null,
  provider: null,
  providerSubscriptionId: null,
  billingCycleAnchor: "2026-11-01T00:00:00.000Z",
  createdAt: "2026-11-01T00:00:00.000Z",
  updatedAt: "2026-11-01T00:00:00.000Z",
  planCode: "starter-monthly",
};

/**
 * A D1 binding that answers every statement at once with `rows` (no I/O):
 * what is left to time is the JavaScript each caller runs around D1.
 */
function stubD1(rows: Record<string, unknown>[]): D1Database {
  const meta = { changes: 0, last_row_id: 0, rows_read: rows.length, rows_written: 0, duration: 0 };
  const statement = {
    bind: () => statement,
    all: async () => ({ results: rows, success: true, meta }),
    raw: async () => rows.map((row) => Object.values(row)),
    first: async () => rows[0] ?? null,
    run: async () => ({ results: [], success: true, meta }),
  };
  return { prepare: () => statement } as unknown as D1Database;
}

/**
 * The JavaScript cost per call of listSubscriptions (20 rows) and
 * findSubscription (1 row) on top of D1 itself, in Node over a stub binding:
 * the raw prepared statement, the repository function (precompiled), the same
 * Kysely query built per call, and a Drizzle prepared statement. Interleaved
 * rounds in a rotating order; `callsPerSample` calls per sample.
 */
export async function measureQueryOverhead(rounds: number, callsPerSample = 2000): Promise<{ query: string; rows: OverheadRow[] }[]> {
  const report = [];
  for (const [query, rows] of [["listSubscriptions", Array.from({ length: 20 }, () => SUBSCRIPTION)], ["findSubscription", [SUBSCRIPTION]]] as const) {
    const d1 = stubD1([...rows]);
    const db = createDb(d1);
    const raw = d1.prepare("select …");
    const s = schema.userSubscriptions;
    const p = schema.subscriptionPlans;
    const orm = drizzle(d1, { schema });
    const drizzleQuery = orm
      .select({ ...getTableColumns(s), planCode: p.code })
      .from(s)
      .innerJoin(p, eq(p.id, s.planId))
      .where(eq(s.userId, sql.placeholder("userId")))
      .orderBy(desc(s.createdAt), desc(s.id))
      .prepare();
    const list = query === "listSubscriptions";
    const variants: [string, (i: number) => Promise<unknown>][] = [
      ["raw D1 prepared statement", (i) => raw.bind(`user-${i}`).all()],
      ["Kysely, precompiled (repository)", (i) => (list ? listSubscriptions(db, `user-${i}`) : findSubscription(db, `user-${i}`, "id"))],
      ["Kysely, built per call", (i) => builtPerCall(db, list, `user-${i}`)],
      ["Drizzle prepared statement", (i) => drizzleQuery.all({ userId: `user-${i}` })],
    ];
    const samples = variants.map(() => [] as number[]);
    for (let round = -3; round < rounds; round++) {
      for (let k = 0; k < variants.length; k++) {
        const v = (Math.max(round, 0) + k) % variants.length;
        const run = variants[v]![1];
        const started = performance.now();
        for (let i = 0; i < callsPerSample; i++) await run(i);
        // The first rounds warm the JIT up and are not counted.
        if (round >= 0) samples[v]!.push(((performance.now() - started) * 1000) / callsPerSample);
      }
    }
    report.push({ query, rows: variants.map(([name], v) => ({ name, ...spread(samples[v]!) })) });
  }
  return report;
}

function builtPerCall(db: Kysely<DB>, list: boolean, userId: string) {
  const query = db
    .selectFrom("user_subscriptions")
    .innerJoin("subscription_plans", "subscription_plans.id", "user_subscriptions.planId")
    .selectAll("user_subscriptions")
    .select("subscription_plans.code as planCode")
    .where("user_subscriptions.userId", "=", userId);
  return list ? query.orderBy("user_subscriptions.createdAt", "desc").orderBy("user_subscriptions.id", "desc").execute() : query.where("user_subscriptions.id", "=", "id").executeTakeFirst();
}

function spread(values: number[]): { median: number; p10: number; p90: number } {
  const sorted = [...values].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p10: at(0.1), p90: at(0.9) };
}
