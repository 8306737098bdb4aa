import type { PaymentEvent } from "../webhooks/billing-event";
import type { GoCardlessPayment } from "./gocardless-client";

/** GoCardless payment statuses that say an event happened, as the event it stands for. */
const STATUS_EVENTS = {
  confirmed: "payment_succeeded",
  paid_out: "payment_succeeded",
  failed: "payment_failed",
  cancelled: "payment_canceled",
  charged_back: "payment_reversed",
} as const satisfies Record<string, PaymentEvent["kind"]>;

/**
 * The event a payment's status stands for, when the engine learns a payment
 * only from GoCardless's API (a `POST /payments` answer lost, found again by a
 * 409 or by listing the mandate's payments) and its own webhook events may
 * have named no attempt: e.g. `confirmed` → `payment_succeeded`. Its id is
 * `api:<payment>:<status>`, so applying it twice records it once. Undefined
 * while the payment is still on its way (`pending_submission`, `submitted`, …).
 *
 * @example
 * ```ts
 * paymentStatusEvent({ id: "PM1", status: "confirmed", metadata: { payment_attempt_id: "a1" }, … }) // { kind: "payment_succeeded", eventId: "api:PM1:confirmed", … }
 * ```
 */
export function paymentStatusEvent(payment: Pick<GoCardlessPayment, "id" | "status" | "metadata">): PaymentEvent | undefined {
  if (!Object.hasOwn(STATUS_EVENTS, payment.status)) return undefined;
  const kind = STATUS_EVENTS[payment.status as keyof typeof STATUS_EVENTS];
  const { id, status } = payment;
  const ref = { eventId: `api:${id}:${status}`, eventType: `payments.${status}`, paymentAttemptId: payment.metadata?.payment_attempt_id, providerPaymentId: id };
  return kind === "payment_succeeded" ? { kind, ...ref } : { kind, ...ref, failureCode: status, failureMessage: `GoCardless: ${status}` };
}
