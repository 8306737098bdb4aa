/**
 * A provider's webhook event in the provider-neutral shape the billing
 * effects understand. Adapters translate their provider's payload into these.
 */
export type BillingEvent =
  | {
      kind: "payment_succeeded";
      eventId: string;
      eventType: string;
      /** Our `payment_attempts.id`, which we gave the provider as the payment's metadata. */
      paymentAttemptId: string | undefined;
      providerPaymentId: string;
    }
  | {
      kind: "payment_failed";
      eventId: string;
      eventType: string;
      paymentAttemptId: string | undefined;
      providerPaymentId: string;
      failureCode: string;
      failureMessage: string;
    }
  | {
      /** The provider cancelled a payment before collecting it: no money moved. */
      kind: "payment_canceled";
      eventId: string;
      eventType: string;
      paymentAttemptId: string | undefined;
      providerPaymentId: string;
    }
  | {
      /** Collected money was taken back (chargeback, late failure); `reason` says why. */
      kind: "payment_reversed";
      eventId: string;
      eventType: string;
      paymentAttemptId: string | undefined;
      providerPaymentId: string;
      reason: string;
      message: string;
    }
  | {
      /** A reversal was itself reversed (e.g. a chargeback cancelled): the money is ours again. */
      kind: "payment_reinstated";
      eventId: string;
      eventType: string;
      paymentAttemptId: string | undefined;
      providerPaymentId: string;
    }
  | {
      kind: "mandate_changed";
      eventId: string;
      eventType: string;
      /** The provider's mandate id: the plain text of a stored direct-debit token. */
      mandateId: string;
      status: "active" | "revoked" | "failed" | "expired";
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
