import { sql, type Kysely } from "kysely";

/**
 * The record of processed payment-provider webhook events: one row per
 * (provider, event id). A webhook handler inserts the row in the same D1
 * batch as the event's effects, so an event is applied exactly once however
 * often the provider redelivers it.
 *
 * No foreign keys and no payload: a row names a provider's event, not a
 * user, and keeps no personal data.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("billing_webhook_events")
    .addColumn("id", "text", (col) => col.notNull().primaryKey())
    .addColumn("provider", "text", (col) => col.notNull())
    .addColumn("eventId", "text", (col) => col.notNull())
    .addColumn("eventType", "text", (col) => col.notNull())
    // What the event did: `applied` (changed rows) or `ignored` (nothing to change).
    .addColumn("outcome", "text", (col) => col.notNull())
    .addColumn("processedAt", "text", (col) => col.notNull())
    .addCheckConstraint("billing_webhook_events_id_length", sql`length("id") between 1 and 64`)
    .addCheckConstraint(
      "billing_webhook_events_provider_format",
      sql`length("provider") between 1 and 32 and "provider" glob '[a-z]*' and "provider" not glob '*[^a-z0-9_-]*'`,
    )
    .addCheckConstraint("billing_webhook_events_eventId_length", sql`length("eventId") between 1 and 255`)
    .addCheckConstraint("billing_webhook_events_eventType_length", sql`length("eventType") between 1 and 100`)
    .addCheckConstraint("billing_webhook_events_outcome_enum", sql`"outcome" in ('applied', 'ignored')`)
    .addCheckConstraint(
      "billing_webhook_events_processedAt_iso8601",
      sql`strftime('%Y-%m-%dT%H:%M:%fZ', "processedAt") is "processedAt"`,
    )
    .execute();
  // Each event is processed once per provider: a redelivery's insert collides here.
  await db.schema
    .createIndex("billing_webhook_events_provider_eventId_unique")
    .unique()
    .on("billing_webhook_events")
    .columns(["provider", "eventId"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("billing_webhook_events").execute();
}
