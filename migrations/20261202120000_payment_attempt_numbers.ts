import type { Kysely } from "kysely";

/**
 * Every attempt of a subscription's period by number, canceled ones included
 * (the unique index of 20261202100000 leaves them out): the next attempt's
 * number is 1 + the highest of the period read from this index in one row, so
 * it never takes the number of an attempt we set aside, which the provider may
 * still collect (it would then collide with the unique index on every redelivery).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex("payment_attempts_subscriptionId_periodStart_attemptNumber_idx")
    .on("payment_attempts")
    .columns(["subscriptionId", "periodStart", "attemptNumber"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("payment_attempts_subscriptionId_periodStart_attemptNumber_idx").execute();
}
