import { sql, type Kysely } from "kysely";

/**
 * `payment_attempts.firstTriedAt`: when the engine first tried to send the
 * attempt to the provider (the run's scheduledTime, never later than the wall
 * clock). A submission that keeps failing is given up
 * `submissionGiveUpDays` after this, not after `createdAt`: an attempt first
 * tried by a run fired days ahead of the clock, or by the first run after days
 * without runs, still gets those days of sends (docs/billing-engine.md). Null:
 * not tried yet (existing rows: their next send sets it).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("payment_attempts")
    .addColumn("firstTriedAt", "text", (col) =>
      col.modifyEnd(sql`constraint "payment_attempts_firstTriedAt_iso8601" check (strftime('%Y-%m-%dT%H:%M:%fZ', "firstTriedAt") is "firstTriedAt")`),
    )
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("payment_attempts").dropColumn("firstTriedAt").execute();
}
