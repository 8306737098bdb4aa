import { sql, type Kysely } from "kysely";

/**
 * `payment_attempts.moneyEventAt`: when the provider says the newest money
 * event it reported about the attempt's payment happened (GoCardless's event
 * `created_at`: collected, failed, resubmitted, charged back, chargeback
 * cancelled). An event older than it was overtaken by a later one and changes
 * nothing (docs/gocardless.md, "Out of order"): a `confirmed` that arrives
 * after its own late `failed`, or a `failed` after the resubmission's
 * `confirmed`. Null: no money event recorded yet (existing rows keep their
 * status as the events in arrival order left it).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("payment_attempts")
    .addColumn("moneyEventAt", "text", (col) =>
      col.modifyEnd(sql`constraint "payment_attempts_moneyEventAt_iso8601" check (strftime('%Y-%m-%dT%H:%M:%fZ', "moneyEventAt") is "moneyEventAt")`),
    )
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("payment_attempts").dropColumn("moneyEventAt").execute();
}
