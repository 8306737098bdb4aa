import { sql, type Kysely } from "kysely";

/**
 * `payment_attempts.reversal`: what the provider reported about taking the
 * attempt's money back, kept as a fact so that it holds whatever order the
 * events arrive in (docs/gocardless.md, "Out of order"):
 *
 * - `reversed`: a chargeback, a late failure, or their settlement was
 *   reported. A collection reported afterwards (its `confirmed` overtaken)
 *   no longer counts as money received.
 * - `reinstated`: the chargeback was cancelled. A chargeback reported
 *   afterwards (overtaken by its cancellation) changes nothing.
 * - null: no reversal reported.
 *
 * Existing rows stay null: a reversal applied before this column exists is
 * already a `failed` attempt. Frozen copy of the values, as in the billing tables' migration.
 */

const REVERSALS = ["reversed", "reinstated"];

export async function up(db: Kysely<any>): Promise<void> {
  const values = sql.join(REVERSALS.map((value) => sql.lit(value)));
  await db.schema
    .alterTable("payment_attempts")
    .addColumn("reversal", "text", (col) => col.modifyEnd(sql`constraint "payment_attempts_reversal_enum" check ("reversal" in (${values}))`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("payment_attempts").dropColumn("reversal").execute();
}
