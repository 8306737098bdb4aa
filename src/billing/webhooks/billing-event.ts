import type { MandateSays } from "../lifecycle/mandate-events";

/** What every payment event names: our attempt (if the provider echoed it) and the provider's payment. */
interface PaymentRef {
  eventId: string;
  eventType: string;
  /** Our `payment_attempts.id`, which we gave the provider as the payment's metadata. */
  paymentAttemptId: string | undefined;
  providerPaymentId: string;
  /** When it happened, as the provider says (ISO 8601); undefined when it does not say. */
  occurredAt?: string;
}

/** Why money did not arrive or was taken back, as the provider says it. */
interface Failure {
  failureCode: string;
  failureMessage: string;
}

/**
 * A provider's webhook event in the provider-neutral shape the billing
 * effects understand. Adapters translate their provider's payload into these;
 * the lifecycle module (src/billing/lifecycle) decides what the money events
 * do to the subscription.
 *
 * Payments: submitted to the bank → succeeded (collected; also when paid out)
 * or failed or canceled (before it was collected: no money moved); a failed
 * payment may be resubmitted by the provider. Collected money may be taken
 * back (`payment_reversed`: a chargeback; a `payment_failed` after success,
 * a late failure, is applied as one too), and that reversal itself reversed
 * (`payment_reinstated`: the chargeback cancelled). `payment_reversal_settled`
 * (a reversal deducted from a payout) is a reversal too, for a collection
 * whose reversal event has not arrived (moneyEvent).
 */
export type BillingEvent =
  | ({ kind: "payment_submitted" } & PaymentRef)
  | ({ kind: "payment_succeeded" } & PaymentRef)
  | ({ kind: "payment_failed" } & PaymentRef & Failure)
  | ({ kind: "payment_canceled" } & PaymentRef & Failure)
  | ({ kind: "payment_resubmission_requested" } & PaymentRef)
  | ({ kind: "payment_reversed" } & PaymentRef & Failure)
  | ({ kind: "payment_reinstated" } & PaymentRef)
  | ({ kind: "payment_reversal_settled" } & PaymentRef & Failure)
  | {
      kind: "mandate_changed";
      eventId: string;
      eventType: string;
      /** The provider's mandate id: the plain text of a stored direct-debit token. */
      mandateId: string;
      /** The status the token takes: what the mandate can still be used for. */
      status: MandateSays;
      /** When it happened, as the provider says (ISO 8601); undefined when it does not say. */
      occurredAt?: string;
      /** The mandate that replaces this one (e.g. the creditor moved scheme identifier): its token is re-pointed at it. */
      newMandateId?: string;
    }
  | {
      /** The mandate now debits another bank account of the same customer: still usable. */
      kind: "mandate_transferred";
      eventId: string;
      eventType: string;
      mandateId: string;
    }
  | {
      /** An event type billing does not act on: recorded and acknowledged. */
      kind: "other";
      eventId: string;
      eventType: string;
    }
  | {
      /**
       * An event whose ids cannot be valid (empty, too long, NUL), so it cannot
       * be matched or stored as sent (see normaliseBillingEvent): recorded as
       * ignored, so the rest of its delivery still applies.
       */
      kind: "unusable";
      eventId: string;
      eventType: string;
      /** What is wrong with it, for the log. */
      reason: string;
    };

/** The kinds of events about one payment. */
export type PaymentEvent = Extract<BillingEvent, PaymentRef>;

/** Whether an event is about a payment (names a provider payment id). */
export function isPaymentEvent(event: BillingEvent): event is PaymentEvent {
  return event.kind.startsWith("payment_");
}
