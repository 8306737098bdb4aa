import { sql, type Kysely } from "kysely";

/**
 * Exactly-once collection under an at-least-once scheduler
 * (docs/billing-engine.md): the database, not a check in code, refuses a
 * second attempt for the same subscription period and attempt number, and a
 * second open attempt for one subscription.
 *
 * - `payment_attempts.periodStart`: where the period the attempt pays for
 *   starts, as known when it was created — the subscription's
 *   `currentPeriodEnd` (the stored period is always the last one paid), or
 *   for a never-paid (`incomplete`) one the placeholder's `currentPeriodStart`.
 *   Backfilled the same way for open attempts; a settled attempt's period was never stored, so its
 *   `createdAt` stands in, which keeps every existing row distinct. Null only
 *   for an attempt without a subscription.
 * - unique (subscriptionId, periodStart, attemptNumber) except canceled attempts:
 *   two engine runs that both decide to renew (or retry) the same period insert
 *   one row; an attempt canceled before it collected anything (by the provider
 *   or the user) does not use up its number, so the period can be collected again.
 * - unique (subscriptionId) where the status is open (pending, processing):
 *   at most one collection in flight per subscription.
 * - (status, currentPeriodEnd) on user_subscriptions: the engine's sweeps of
 *   due periods read it in order, oldest first.
 *
 * `up` fails (the partial unique index cannot be created) while a
 * subscription has two open attempts: settle one at the provider first; no
 * row is ever changed here except the backfill.
 *
 * Frozen copy of the open statuses, as in the billing tables' migration.
 */

const OPEN_ATTEMPT_STATUSES = ["pending", "processing"];

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("payment_attempts")
    .addColumn("periodStart", "text", (col) =>
      col.modifyEnd(sql`constraint "payment_attempts_periodStart_iso8601" check (strftime('%Y-%m-%dT%H:%M:%fZ', "periodStart") is "periodStart")`),
    )
    .execute();
  const open = sql.join(OPEN_ATTEMPT_STATUSES.map((status) => sql.lit(status)));
  // One line per statement: `kysely:migrate sql` prints each statement on its own line.
  await sql`update "payment_attempts" set "periodStart" = case when "status" in (${open}) then (select case when "subscription"."status" = 'incomplete' then "subscription"."currentPeriodStart" else "subscription"."currentPeriodEnd" end from "user_subscriptions" as "subscription" where "subscription"."id" = "payment_attempts"."subscriptionId") else "createdAt" end where "subscriptionId" is not null`.execute(db);
  await db.schema
    .createIndex("payment_attempts_subscriptionId_periodStart_attemptNumber_unique")
    .unique()
    .on("payment_attempts")
    .columns(["subscriptionId", "periodStart", "attemptNumber"])
    .where(sql<boolean>`"status" <> 'canceled'`)
    .execute();
  await db.schema
    .createIndex("payment_attempts_open_subscriptionId_unique")
    .unique()
    .on("payment_attempts")
    .column("subscriptionId")
    .where(sql<boolean>`"status" in (${open})`)
    .execute();
  await db.schema.createIndex("user_subscriptions_status_currentPeriodEnd_idx").on("user_subscriptions").columns(["status", "currentPeriodEnd"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("user_subscriptions_status_currentPeriodEnd_idx").execute();
  await db.schema.dropIndex("payment_attempts_open_subscriptionId_unique").execute();
  await db.schema.dropIndex("payment_attempts_subscriptionId_periodStart_attemptNumber_unique").execute();
  await db.schema.alterTable("payment_attempts").dropColumn("periodStart").execute();
}
