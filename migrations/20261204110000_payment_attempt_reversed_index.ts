import { sql, type Kysely } from "kysely";

/**
 * `payment_attempts_reversed_subscriptionId_periodStart_idx`: the subscriptions with an
 * attempt whose money the provider took back (`reversal = 'reversed'`), for
 * the engine's collection sweep (src/billing/engine/due-work.repository.ts):
 * such a subscription may owe an older period whatever its `currentPeriodEnd`,
 * so the sweep finds it here, and every other one by a range of the
 * `(status, currentPeriodEnd)` index, instead of reading every live
 * subscription. Partial: only reversed attempts (chargebacks, late failures).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex("payment_attempts_reversed_subscriptionId_periodStart_idx")
    .on("payment_attempts")
    .columns(["subscriptionId", "periodStart"])
    .where(sql<boolean>`"reversal" = 'reversed'`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("payment_attempts_reversed_subscriptionId_periodStart_idx").execute();
}
