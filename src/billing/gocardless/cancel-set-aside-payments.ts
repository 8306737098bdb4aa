import { BILLING_LIMITS as L } from "../../db/billing-limits";
import { OPEN_ATTEMPT_STATUSES } from "../../db/billing-enums";
import { storableText } from "../../db/storable-text";
import { wroteRows } from "../../db/wrote-rows";
import type { WorkCounts } from "../engine/engine-summary";
import type { PaymentEvent } from "../webhooks/billing-event";
import { attemptMandateId } from "./attempt-mandate-id";
import { findAttemptPayment } from "./find-attempt-payment";
import { GoCardlessApiError } from "./gocardless-api-error";
import type { GoCardlessClient } from "./gocardless-client";
import type { ProviderSweepDeps } from "./provider-sweep-deps";
import { paymentStatusEvent } from "./payment-status-event";
import { realTime } from "../engine/engine-clocks";

/**
 * Asks GoCardless to cancel up to `limit` payments we set aside (an attempt
 * `canceled` by a webhook — `superseded_by_resubmission` and the other
 * set-aside reasons — that GoCardless holds or may hold: `providerCancel = 'due'`),
 * oldest first, once each: `POST /payments/:id/actions/cancel`, and the answer
 * is recorded so it is never asked twice — `cancelled`, or
 * `cancellation_failed` when GoCardless says it is past `pending_submission`
 * (it may still be collected; its `confirmed` is then recorded on the attempt
 * and owed back, docs/billing-lifecycle.md ⁹). A 422 `cancellation_failed` is
 * also what a second cancel of a cancelled payment gets (our first request's
 * answer lost), so the payment is read (`GET /payments/:id`) to tell the two
 * apart. A cancel GoCardless accepted also ends a resume's reopening of the
 * attempt meanwhile (docs/billing-lifecycle.md ¹¹; `pending` when found by the lookup
 * below): set aside again, with the payment's id. A 404 (GoCardless holds no such payment) ends it as
 * `cancellation_failed` with the error in `failureMessage`, never asked again;
 * any other error leaves it `due` at the back of the queue for a later run.
 *
 * An attempt set aside after a send whose answer was lost has no payment id:
 * once its `nextRetryAt` (the claim's lease, or the backoff after a failed
 * send, kept when it was set aside) passed in real time (engine-clocks.ts:
 * no send of it can still be in flight, whatever the run's date), GoCardless is asked for it (findAttemptPayment); the payment found is
 * stored, cancelled as above, and what its status says happened is applied
 * (`applyEvent`: a `confirmed` one is recorded as collected); none found
 * means nothing to cancel (`providerCancel` back to null).
 * One D1 read, then one write and at most three provider calls each.
 *
 * @example
 * ```ts
 * const summary = await cancelSetAsidePayments({ db, client, keyring, now, limit: 8 })
 * ```
 */
export async function cancelSetAsidePayments(
  deps: ProviderSweepDeps<Pick<GoCardlessClient, "cancelPayment" | "getPayment" | "listPayments">>,
): Promise<WorkCounts> {
  const { db, client } = deps;
  const at = deps.now.toISOString();
  const due = await db
    .selectFrom("payment_attempts as attempt")
    .leftJoin("direct_debit_tokens as token", "token.id", "attempt.directDebitTokenId")
    .select(["attempt.id", "attempt.failureCode", "attempt.providerPaymentId", "attempt.createdAt", "token.id as tokenId", "token.tokenCiphertext", "token.tokenKeyId"])
    .where("attempt.providerCancel", "=", "due")
    .where("attempt.provider", "=", "gocardless")
    // Its lease (nextRetryAt, kept when set aside) ended in real time: a send whose answer was lost has landed.
    .where((eb) => eb.or([eb("attempt.providerPaymentId", "is not", null), eb("attempt.nextRetryAt", "<=", realTime().toISOString())]))
    .orderBy("attempt.updatedAt")
    .limit(deps.limit)
    .execute();
  const summary = { due: due.length, done: 0, skipped: 0, failed: 0 };
  for (const row of due) {
    if (deps.outOfTime?.()) {
      summary.skipped++;
      continue;
    }
    const write = db.updateTable("payment_attempts").where("id", "=", row.id).where("providerCancel", "=", "due");
    let paymentId = row.providerPaymentId;
    try {
      let happened: PaymentEvent | undefined;
      if (!paymentId) {
        const found = await findAttemptPayment(client, row.id, await attemptMandateId(deps.keyring, row), row.createdAt);
        if (!found) {
          // GoCardless holds no payment for it: nothing to cancel.
          await write.set({ providerCancel: null, updatedAt: at }).execute();
          summary.done++;
          continue;
        }
        paymentId = found.id;
        happened = paymentStatusEvent(found);
      }
      let answer: "cancelled" | "cancellation_failed" = "cancelled";
      try {
        await client.cancelPayment(paymentId);
      } catch (error) {
        if (!(error instanceof GoCardlessApiError) || error.code !== "cancellation_failed") throw error;
        if ((await client.getPayment(paymentId)).status !== "cancelled") answer = "cancellation_failed";
      }
      // Guarded: an overlapping run that recorded the answer first keeps it.
      let wrote = wroteRows(await write.set({ providerCancel: answer, providerPaymentId: paymentId, updatedAt: at }).executeTakeFirst());
      // A cancel GoCardless accepted is a fact: a resume that reopened the attempt meanwhile (open again,
      // providerCancel cleared; pending when its payment id was not known, and this is its payment: one
      // attempt, one Idempotency-Key) loses to it, the attempt set aside again as read, with the payment's id.
      if (!wrote && answer === "cancelled") {
        const reopened = db.updateTable("payment_attempts").where("id", "=", row.id).where("status", "in", OPEN_ATTEMPT_STATUSES).where("providerCancel", "is", null);
        wrote = wroteRows(await reopened.set({ status: "canceled", failureCode: row.failureCode, providerPaymentId: paymentId, providerCancel: answer, updatedAt: at }).executeTakeFirst());
      }
      summary[wrote ? "done" : "skipped"]++;
      // Learnt from the API, the payment may have been collected already: recorded as a webhook would.
      if (happened) await deps.applyEvent?.(happened);
    } catch (error) {
      if (!(error instanceof GoCardlessApiError)) throw error;
      // 404: this account holds no such payment, and asking again changes nothing. It may be
      // another account's (an access token changed) and still be collected, so it ends where
      // such payments end, with GoCardless's answer on the attempt; anything else is asked again.
      const final = error.status === 404;
      console.error(`cancel ${paymentId ?? row.id}: ${error.code}`);
      await write.set(final ? { providerCancel: "cancellation_failed", failureMessage: storableText(`cancel: ${error.code}: ${error.message}`, L.failureMessageLength, "unknown"), updatedAt: at } : { updatedAt: at }).execute();
      summary.failed++;
    }
  }
  return summary;
}
