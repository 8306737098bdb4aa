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
