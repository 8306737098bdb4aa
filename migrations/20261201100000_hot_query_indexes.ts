import { sql, type Kysely } from "kysely";

/**
 * Indexes that serve each hot query exactly: a search in index order, no
 * sort, no scan, and no row read that the query does not return. Three
 * indexes become wider versions of themselves (every query the narrow one
 * served, its foreign-key lookup included, the wide one serves too); the
 * plan catalog gets its first; a partial index holds only live subscriptions.
 *
 * Only indexes change: no row is written or lost, and `down` restores the
 * previous set exactly.
 */

/** Replaced by a wider index that leads with the same columns. */
const REPLACED = [
  { table: "user_subscriptions", name: "user_subscriptions_userId_createdAt_idx", columns: ["userId", "createdAt"] },
  { table: "direct_debit_tokens", name: "direct_debit_tokens_userId_idx", columns: ["userId"] },
  {
    table: "payment_attempts",
    name: "payment_attempts_subscriptionId_attemptNumber_idx",
    columns: ["subscriptionId", "attemptNumber"],
  },
];

const ADDED = [
  // A user's subscriptions, newest first (listSubscriptions orders by createdAt, id);
  // also the CASCADE lookup when a user is deleted.
  { table: "user_subscriptions", name: "user_subscriptions_userId_createdAt_id_idx", columns: ["userId", "createdAt", "id"] },
  // The public catalog: active plans, cheapest first, in index order.
  {
    table: "subscription_plans",
    name: "subscription_plans_active_amountMinor_code_idx",
    columns: ["active", "amountMinor", "code"],
  },
  // A user's mandates, newest first (listTokens orders by createdAt, id);
  // also the CASCADE lookup when a user is deleted.
  { table: "direct_debit_tokens", name: "direct_debit_tokens_userId_createdAt_id_idx", columns: ["userId", "createdAt", "id"] },
  // A subscription's attempts by status: the open-attempt check, the last
  // success and the failures since (attempt numbering) read only the rows they
  // need, however long the history; also the CASCADE lookup when a
  // subscription is deleted.
  {
    table: "payment_attempts",
    name: "payment_attempts_subscriptionId_status_createdAt_idx",
    columns: ["subscriptionId", "status", "createdAt"],
  },
];

const LIVE_PLAN_INDEX = "user_subscriptions_live_planId_idx";

export async function up(db: Kysely<any>): Promise<void> {
  // New indexes first, so no foreign-key lookup is ever left without one.
  for (const index of ADDED) {
    await db.schema.createIndex(index.name).on(index.table).columns(index.columns).execute();
  }
  // "Does this plan have a live subscription?" (the price lock): one entry
  // per live subscription, so the answer is one index probe however many
  // ended subscriptions the plan has. The condition is spelled exactly as the
  // query spells it (plans.repository.ts): SQLite uses a partial index only
  // for a query whose WHERE contains the index's.
  await db.schema
    .createIndex(LIVE_PLAN_INDEX)
    .on("user_subscriptions")
    .column("planId")
    .where(sql<boolean>`"status" not in ('canceled', 'incomplete_expired')`)
    .execute();
  for (const index of REPLACED) {
    await db.schema.dropIndex(index.name).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of REPLACED) {
    await db.schema.createIndex(index.name).on(index.table).columns(index.columns).execute();
  }
  await db.schema.dropIndex(LIVE_PLAN_INDEX).execute();
  for (const index of [...ADDED].reverse()) {
    await db.schema.dropIndex(index.name).execute();
  }
}
