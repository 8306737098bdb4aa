import type { Kysely } from "kysely";
import type { DB } from "../../db/generated";
import type { PaymentAttemptRow } from "../../db/schema/billing";
import { OPEN_ATTEMPT_STATUSES, type AttemptForEvent } from "../payment-attempts.repository";
import type { PaymentEvent } from "./billing-event";
import { mustChange, type Effect } from "./event-effect";

/**
 * The effects of the payment events beyond "succeeded" and "failed while
 * open" (those are in applyBillingEvent), on the attempt row only.
 *
 * PROVISIONAL: these are the minimal attempt-level rules; what a reversed
 * payment (late failure, chargeback) or a cancelled one does to the
 * subscription's status and period is the lifecycle module's to decide
 * (issue 10). TODO: move these into that module's table once it exists; until
 * then a reversal leaves the subscription as it is and logs a warning, so no
 * money moves silently.
 *
 * - submitted: pending → processing (the provider's payment id is stored);
 * - canceled: pending/processing → canceled (no money was taken);
 * - resubmission_requested: failed → processing, with no retry of our own
 *   scheduled (the provider collects it again itself);
 * - charged_back (and a late failure): succeeded → failed with the cause,
 *   also from pending/processing when it overtook `confirmed`;
 * - chargeback_cancelled: failed → succeeded again;
 * - reversal_settled: nothing (the reversal was recorded when it happened).
 *
 * @example
 * ```ts
 * const effects = providerPaymentEffects({ db, now }, attempt, event)
 * ```
 */
export function providerPaymentEffects({ db, now }: { db: Kysely<DB>; now: Date }, attempt: AttemptForEvent, event: PaymentEvent): Effect[] {
  const at = now.toISOString();
  const open = (OPEN_ATTEMPT_STATUSES as readonly string[]).includes(attempt.status);
  const move = (set: Partial<PaymentAttemptRow>) =>
    [mustChange(db.updateTable("payment_attempts").set({ ...set, updatedAt: at }).where("id", "=", attempt.id).where("status", "=", attempt.status))];

  switch (event.kind) {
    case "payment_submitted":
      return attempt.status === "pending" ? move({ status: "processing", providerPaymentId: event.providerPaymentId }) : [];
    case "payment_canceled":
      return open
        ? move({ status: "canceled", providerPaymentId: event.providerPaymentId, failureCode: event.failureCode, failureMessage: event.failureMessage, nextRetryAt: null })
        : [];
    case "payment_resubmission_requested":
      return attempt.status === "failed" ? move({ status: "processing", failureCode: null, failureMessage: null, nextRetryAt: null }) : [];
    case "payment_charged_back":
      if (attempt.status !== "succeeded" && !open) return [];
      console.warn(`payment attempt ${attempt.id}: ${event.eventType} (${event.failureCode}); its subscription is left as it is`);
      return move({ status: "failed", providerPaymentId: event.providerPaymentId, failureCode: event.failureCode, failureMessage: event.failureMessage, nextRetryAt: null });
    case "payment_chargeback_cancelled":
      return attempt.status === "failed" ? move({ status: "succeeded", failureCode: null, failureMessage: null, nextRetryAt: null }) : [];
    case "payment_reversal_settled":
    case "payment_succeeded":
    case "payment_failed":
      return [];
  }
}
