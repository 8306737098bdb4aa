import type { Kysely } from "kysely";
import type { DB } from "../../db/generated";
import { BILLING_LIMITS as L } from "../../db/billing-limits";
import { storableText } from "../../db/storable-text";
import { GoCardlessApiError } from "./gocardless-api-error";
import type { GoCardlessClient } from "./gocardless-client";
import type { WorkCounts } from "../engine/engine-summary";

/**
 * Asks GoCardless to cancel up to `limit` payments we set aside (an attempt
 * `canceled` by a webhook — `superseded_by_resubmission` and the other
 * set-aside reasons — whose payment GoCardless holds: `providerCancel = 'due'`),
 * oldest first, once each: `POST /payments/:id/actions/cancel`, and the answer
 * is recorded so it is never asked twice — `cancelled`, or
 * `cancellation_failed` when GoCardless says it is past `pending_submission`
 * (it may still be collected; its `confirmed` is then recorded on the attempt
 * and owed back, docs/billing-lifecycle.md ⁹). A 422 `cancellation_failed` is
 * also what a second cancel of a cancelled payment gets (our first request's
 * answer lost), so the payment is read (`GET /payments/:id`) to tell the two
 * apart. A 404 (GoCardless holds no such payment) ends it as
 * `cancellation_failed` with the error in `failureMessage`, never asked again;
 * any other error leaves it `due` at the back of the queue for a later run. One D1 read, then one write and at most two provider calls each.
 *
 * @example
 * ```ts
 * const summary = await cancelSetAsidePayments({ db, client, now, limit: 8 })
 * ```
 */
export async function cancelSetAsidePayments(deps: {
  db: Kysely<DB>;
  client: Pick<GoCardlessClient, "cancelPayment" | "getPayment">;
  now: Date;
  limit: number;
  outOfTime?: () => boolean;
}): Promise<WorkCounts> {
  const { db, client } = deps;
  const at = deps.now.toISOString();
  const due = await db
    .selectFrom("payment_attempts")
    .select(["id", "providerPaymentId"])
    .where("providerCancel", "=", "due")
    .where("provider", "=", "gocardless")
    .where("providerPaymentId", "is not", null)
    .orderBy("updatedAt")
    .limit(deps.limit)
    .execute();
  const summary = { due: due.length, done: 0, skipped: 0, failed: 0 };
  for (const { id, providerPaymentId } of due) {
    if (deps.outOfTime?.()) {
      summary.skipped++;
      continue;
    }
    const write = db.updateTable("payment_attempts").where("id", "=", id).where("providerCancel", "=", "due");
    try {
      let answer: "cancelled" | "cancellation_failed" = "cancelled";
      try {
        await client.cancelPayment(providerPaymentId!);
      } catch (error) {
        if (!(error instanceof GoCardlessApiError) || error.code !== "cancellation_failed") throw error;
        if ((await client.getPayment(providerPaymentId!)).status !== "cancelled") answer = "cancellation_failed";
      }
      // Guarded: an overlapping run that recorded the answer first keeps it.
      const result = await write.set({ providerCancel: answer, updatedAt: at }).executeTakeFirst();
      if ((result.numUpdatedRows ?? 0n) > 0n) summary.done++;
      else summary.skipped++;
    } catch (error) {
      if (!(error instanceof GoCardlessApiError)) throw error;
      // 404: this account holds no such payment, and asking again changes nothing. It may be
      // another account's (an access token changed) and still be collected, so it ends where
      // such payments end, with GoCardless's answer on the attempt; anything else is asked again.
      const final = error.status === 404;
      console.error(`cancel ${providerPaymentId}: ${error.code}, ${final ? "not asked again" : "asked again later"}`);
      await write
        .set(final ? { providerCancel: "cancellation_failed", failureMessage: storableText(`cancel: ${error.code}: ${error.message}`, L.failureMessageLength, "cancel: 404"), updatedAt: at } : { updatedAt: at })
        .execute();
      summary.failed++;
    }
  }
  return summary;
}
