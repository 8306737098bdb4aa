/**
 * Everything that can happen to a subscription. Payment events come from
 * the provider (through webhooks), user events from routes, time events
 * from reading a subscription (and later from the scheduled engine) when
 * `now` has passed one of its deadlines (see dueTimeEvent).
 */
export type LifecycleEvent =
  /** A user subscribes to a plan (the only event without a subscription). */
  | { type: "subscribe" }
  /** A user starts a payment (an attempt is submitted to the provider). */
  | { type: "payment_submitted" }
  /**
   * The provider collected a payment; `periodStart`: the period it was for, when known (see paysOlderPeriod);
   * `owesOther`: 1 when another period before the current one is owed again (reversed, not collected since).
   */
  | { type: "payment_succeeded"; periodStart?: string | null; served?: number; owesOther?: number }
  /** The provider failed to collect (or cancelled the payment); `retriesLeft` is false once the retry schedule is used up. */
  | { type: "payment_failed"; retriesLeft: boolean }
  /**
   * A collected payment was taken back (chargeback, late failure); `periodStart`: the period it paid, when known;
   * `owesOther`: 1 when another period before it is owed again too (reversed, not collected since).
   */
  | { type: "payment_reversed"; periodStart?: string | null; owesOther?: number }
  /** A reversal was itself reversed: the money is with us again. */
  | { type: "reversal_canceled"; periodStart?: string | null; served?: number; owesOther?: number }
  /** The provider collected money for a period another payment already paid: it is owed back, nothing else changes. */
  | { type: "payment_duplicated"; periodStart?: string | null }
  /** A user cancels now. */
  | { type: "cancel_now" }
  /** A user cancels at the end of the running paid or trial period. */
  | { type: "cancel_at_period_end" }
  /** A user undoes cancel-at-period-end before the period ends; `nextPaid`: the next period's renewal was collected meanwhile (resumedRenewal). */
  | { type: "resume"; nextPaid?: boolean }
  /** Time: the trial's end passed; `collecting`: its first payment is in flight, or a retry of it is still to come. */
  | { type: "trial_ended"; collecting?: boolean }
  /** Time: the paid period's end passed. */
  | { type: "period_end_reached" }
  /** Time or failure: the retry schedule of a past-due subscription is used up. */
  | { type: "retry_schedule_exhausted" }
  /** Time: a never-paid subscription's deadline passed; refused while a payment is in flight. */
  | { type: "incomplete_deadline_reached"; paymentInFlight: boolean };

export type LifecycleEventType = LifecycleEvent["type"];

/** Every event type, for tables and table tests. */
export const LIFECYCLE_EVENT_TYPES = [
  "subscribe",
  "payment_submitted",
  "payment_succeeded",
  "payment_failed",
  "payment_reversed",
  "reversal_canceled",
  "payment_duplicated",
  "cancel_now",
  "cancel_at_period_end",
  "resume",
  "trial_ended",
  "period_end_reached",
  "retry_schedule_exhausted",
  "incomplete_deadline_reached",
] as const satisfies readonly LifecycleEventType[];

/** What the caller must write besides the subscription's new state. */
export type LifecycleEffect =
  /** The payment this event reports on is owed back to the payer (the subscription no longer collects). */
  { type: "refund_due" };
