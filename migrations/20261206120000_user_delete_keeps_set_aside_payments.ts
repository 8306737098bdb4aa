import { sql, type Kysely } from "kysely";

/**
 * The `user_delete_keeps_money` trigger (migration
 * `20261201110000_billing_cycle_anchor`) also aborts deleting a user while a
 * payment we set aside may still be collected at the provider: `canceled` with
 * `providerCancel` `due` (not cancelled there yet) or `cancellation_failed`
 * (already submitted to the banks). Deleting would cascade the attempt away and
 * leave its collection unmatched (docs/billing-lifecycle.md, "Deleting an
 * account"). SQLite cannot alter a trigger: it is dropped and created again.
 *
 * Frozen copies of the status lists, as in the migrations before.
 */

const OPEN_ATTEMPT_STATUSES = ["pending", "processing"];
const ENDED_SUBSCRIPTION_STATUSES = ["canceled", "incomplete_expired"];

async function createTrigger(db: Kysely<any>, setAside: boolean): Promise<void> {
  const open = sql.join(OPEN_ATTEMPT_STATUSES.map((status) => sql.lit(status)));
  const ended = sql.join(ENDED_SUBSCRIPTION_STATUSES.map((status) => sql.lit(status)));
  const maySetAside = setAside ? sql` or ("status" = 'canceled' and "providerCancel" in ('due', 'cancellation_failed'))` : sql``;
  await sql`create trigger "user_delete_keeps_money" before delete on "user" for each row when exists (select 1 from "payment_attempts" where "userId" = old."id" and ("status" in (${open}) or "refundDue" = 1${maySetAside})) or exists (select 1 from "user_subscriptions" where "userId" = old."id" and "status" not in (${ended}) and "cancelAtPeriodEnd" = 0) begin select raise(abort, 'PAYMENT_IN_FLIGHT: this user has a payment in flight or owed back, or a subscription that still collects'); end`.execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop trigger "user_delete_keeps_money"`.execute(db);
  await createTrigger(db, true);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger "user_delete_keeps_money"`.execute(db);
  await createTrigger(db, false);
}
