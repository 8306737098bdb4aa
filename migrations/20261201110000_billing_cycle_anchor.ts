import { sql, type Kysely } from "kysely";

/**
 * The billing lifecycle's stored facts (docs/billing-lifecycle.md):
 *
 * - `user_subscriptions.billingCycleAnchor`: where every period boundary is
 *   computed from, so months clamp and come back (Jan 31 → Feb 28 → Mar 31).
 *   Backfilled from the start of the first paid period — the trial's end for
 *   a subscription that had one (its first paid period started there), else
 *   the confirmation of its earliest succeeded attempt, else `createdAt` —
 *   never from `currentPeriodStart`, which had drifted in existing rows.
 *   Nullable only because SQLite cannot add a NOT NULL column without a
 *   constant default; every row is backfilled and the application always
 *   writes it.
 * - `payment_attempts.refundDue`: 1 when money arrived for a subscription
 *   that no longer collects; the operator's query finds these by index.
 * - A `BEFORE DELETE ON "user"` trigger: deleting a user aborts while one of
 *   their payments is open, one is owed back, or a subscription still
 *   collects. The application refuses first with a clear message (Better
 *   Auth's beforeDelete); this makes the refusal atomic with the delete.
 *
 * Frozen copies of the status lists, as in the billing tables' migration.
 */

const OPEN_ATTEMPT_STATUSES = ["pending", "processing"];
const ENDED_SUBSCRIPTION_STATUSES = ["canceled", "incomplete_expired"];

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("user_subscriptions")
    .addColumn("billingCycleAnchor", "text", (col) =>
      col.modifyEnd(
        sql`constraint "user_subscriptions_billingCycleAnchor_iso8601" check (strftime('%Y-%m-%dT%H:%M:%fZ', "billingCycleAnchor") is "billingCycleAnchor")`,
      ),
    )
    .execute();
  // One line per statement: `kysely:migrate sql` prints each statement on its own line.
  await sql`update "user_subscriptions" set "billingCycleAnchor" = coalesce("trialEndsAt", (select min("attempt"."updatedAt") from "payment_attempts" as "attempt" where "attempt"."subscriptionId" = "user_subscriptions"."id" and "attempt"."status" = 'succeeded'), "createdAt")`.execute(db);

  // No SQL defaults elsewhere, but SQLite only adds a NOT NULL column with one.
  await db.schema
    .alterTable("payment_attempts")
    .addColumn("refundDue", "integer", (col) =>
      col.notNull().defaultTo(0).modifyEnd(sql`constraint "payment_attempts_refundDue_boolean" check ("refundDue" in (0, 1))`),
    )
    .execute();
  // The operator's "what do we owe back?" query; only the few flagged rows are indexed.
  await db.schema
    .createIndex("payment_attempts_refundDue_idx")
    .on("payment_attempts")
    .column("createdAt")
    .where(sql<boolean>`"refundDue" = 1`)
    .execute();

  const open = sql.join(OPEN_ATTEMPT_STATUSES.map((status) => sql.lit(status)));
  const ended = sql.join(ENDED_SUBSCRIPTION_STATUSES.map((status) => sql.lit(status)));
  await sql`create trigger "user_delete_keeps_money" before delete on "user" for each row when exists (select 1 from "payment_attempts" where "userId" = old."id" and ("status" in (${open}) or "refundDue" = 1)) or exists (select 1 from "user_subscriptions" where "userId" = old."id" and "status" not in (${ended}) and "cancelAtPeriodEnd" = 0) begin select raise(abort, 'PAYMENT_IN_FLIGHT: this user has a payment in flight or owed back, or a subscription that still collects'); end`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger "user_delete_keeps_money"`.execute(db);
  await db.schema.dropIndex("payment_attempts_refundDue_idx").execute();
  await db.schema.alterTable("payment_attempts").dropColumn("refundDue").execute();
  await db.schema.alterTable("user_subscriptions").dropColumn("billingCycleAnchor").execute();
}
