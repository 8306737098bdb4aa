import { createDb } from "../../src/db/create-db";
import { attemptRow, planRow, SEED_NOW, subscriptionRow } from "./billing-seed";

/**
 * A full-size GoCardless delivery and what it is about, for the bulk-delivery
 * test and `pnpm bench:webhooks` (no `cloudflare:workers` import, so both a
 * workerd test and a Node script can use it).
 */

/** GoCardless's maximum number of events in one webhook request. */
export const MAX_EVENTS_PER_DELIVERY = 250;

/**
 * Writes `count` users, each with an `incomplete` subscription to one plan and
 * a pending GoCardless attempt on it (no payment id yet); returns the attempts.
 *
 * @example
 * ```ts
 * const attempts = await seedPendingAttempts(env.DB, 250, "bulk-1")
 * ```
 */
export async function seedPendingAttempts(d1: D1Database, count: number, tag: string): Promise<{ id: string; subscriptionId: string }[]> {
  const db = createDb(d1);
  const plan = planRow({ code: `bulk-${tag}` });
  const statements = [db.insertInto("subscription_plans").values(plan).compile()];
  const attempts: { id: string; subscriptionId: string }[] = [];
  for (let i = 0; i < count; i++) {
    const userId = `bulk-${tag}-user-${i}`;
    statements.push(
      db
        .insertInto("user")
        .values({ id: userId, name: userId, email: `${userId}@example.com`, emailVerified: 0, createdAt: SEED_NOW, updatedAt: SEED_NOW })
        .compile(),
    );
    const subscription = subscriptionRow(userId, plan.id, { status: "incomplete", provider: "gocardless", providerSubscriptionId: null });
    const attempt = attemptRow(userId, { subscriptionId: subscription.id, providerPaymentId: null, amountMinor: plan.amountMinor, currency: plan.currency });
    statements.push(db.insertInto("user_subscriptions").values(subscription).compile(), db.insertInto("payment_attempts").values(attempt).compile());
    attempts.push({ id: attempt.id, subscriptionId: subscription.id });
  }
  // In slices, in order: one huge batch is too much for wrangler's platform proxy (the bench).
  for (let i = 0; i < statements.length; i += 90) {
    await d1.batch(statements.slice(i, i + 90).map(({ sql, parameters }) => d1.prepare(sql).bind(...parameters)));
  }
  return attempts;
}

/** `payments.confirmed` for each attempt, as GoCardless sends it (our attempt id in the metadata). */
export function confirmedEvents(attempts: readonly { id: string }[], tag: string): Record<string, unknown>[] {
  return attempts.map((attempt, i) => ({
    id: `EV${tag}${String(i).padStart(6, "0")}`,
    created_at: SEED_NOW,
    resource_type: "payments",
    action: "confirmed",
    links: { payment: `PM${tag}${String(i).padStart(6, "0")}` },
    details: { origin: "gocardless", cause: "payment_confirmed", description: "Payment was confirmed as collected" },
    resource_metadata: { payment_attempt_id: attempt.id },
  }));
}

/** Where a counting statement keeps the D1 statement it wraps. */
const TARGET = Symbol("target");

/** How many D1 calls a Worker invocation made: each counts against D1's per-invocation query limit. */
export interface D1Calls {
  /** Single statements run (`first`, `all`, `run`, `raw`). */
  statements: number;
  /** `batch()` calls (each one atomic round trip). */
  batches: number;
  /** Statements inside those batches. */
  batchedStatements: number;
}

/**
 * Wraps a D1 binding to count the calls made through it.
 *
 * @example
 * ```ts
 * const { d1, calls } = countingD1(env.DB)
 * await app.fetch(request, { ...env, DB: d1 })
 * console.log(calls.statements + calls.batches)
 * ```
 */
export function countingD1(target: D1Database): { d1: D1Database; calls: D1Calls } {
  const calls: D1Calls = { statements: 0, batches: 0, batchedStatements: 0 };
  const countStatement = (statement: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(statement, {
      get(inner, property) {
        if (property === TARGET) return inner;
        const value = Reflect.get(inner, property);
        if (typeof value !== "function") return value;
        if (property === "bind") return (...args: unknown[]) => countStatement(value.apply(inner, args));
        if (["first", "all", "run", "raw"].includes(String(property))) {
          return (...args: unknown[]) => {
            calls.statements++;
            return value.apply(inner, args);
          };
        }
        return value.bind(inner);
      },
    });
  const d1 = new Proxy(target, {
    get(inner, property) {
      const value = Reflect.get(inner, property);
      if (property === "prepare") return (sql: string) => countStatement(value.call(inner, sql));
      if (property === "batch") {
        return (statements: D1PreparedStatement[]) => {
          calls.batches++;
          calls.batchedStatements += statements.length;
          // D1 wants its own statement objects, not the counting wrappers.
          return value.call(inner, statements.map(unwrap));
        };
      }
      return typeof value === "function" ? value.bind(inner) : value;
    },
  });
  return { d1, calls };
}

function unwrap(statement: D1PreparedStatement): D1PreparedStatement {
  return (statement as unknown as Record<symbol, D1PreparedStatement>)[TARGET] ?? statement;
}
