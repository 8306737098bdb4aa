import { sql, type Kysely } from "kysely";

/**
 * `direct_debit_tokens.mandateEventAt`: when the newest mandate event recorded
 * on the token happened (the provider's `created_at`, never later than its
 * arrival), or when the provider was asked and answered that the mandate is
 * active (storing it). A mandate event older than it was overtaken and changes
 * nothing (docs/gocardless.md, "Mandates out of order"): an `expired` that
 * arrives after the `reinstated` that followed it no longer expires the token
 * for good. Null: nothing recorded yet (existing rows keep the status the
 * events in arrival order left them; the next event applies as before).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("direct_debit_tokens")
    .addColumn("mandateEventAt", "text", (col) =>
      col.modifyEnd(sql`constraint "direct_debit_tokens_mandateEventAt_iso8601" check (strftime('%Y-%m-%dT%H:%M:%fZ', "mandateEventAt") is "mandateEventAt")`),
    )
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("direct_debit_tokens").dropColumn("mandateEventAt").execute();
}
