import { sql, type Kysely } from "kysely";

/**
 * `payment_attempts.providerCancel`: whether the provider was asked to cancel
 * a payment we set aside (docs/gocardless.md, "Set-aside payments"). `due`
 * when a webhook sets aside an attempt whose payment the provider holds; the
 * scheduled engine then asks once and records GoCardless's answer:
 * `cancelled`, or `cancellation_failed` (already submitted to the banks: it
 * may still be collected, and is then recorded as owed back). Null: nothing
 * to ask. The partial index holds only the few rows still `due`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("payment_attempts")
    .addColumn("providerCancel", "text", (col) =>
      col.modifyEnd(sql`constraint "payment_attempts_providerCancel_enum" check ("providerCancel" in ('due', 'cancelled', 'cancellation_failed'))`),
    )
    .execute();
  await db.schema
    .createIndex("payment_attempts_providerCancel_due_idx")
    .on("payment_attempts")
    .column("updatedAt")
    .where(sql<boolean>`"providerCancel" = 'due'`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("payment_attempts_providerCancel_due_idx").execute();
  await db.schema.alterTable("payment_attempts").dropColumn("providerCancel").execute();
}
