/**
 * The allowed values of the billing tables' enum-like columns, in one place.
 *
 * The migration keeps its own frozen copy of these lists in its `CHECK`s, and
 * `.kysely-codegenrc.json` types the columns with the same unions; the
 * billing tests fail when any of the three drift apart.
 *
 * @example
 * ```ts
 * if (!SUBSCRIPTION_STATUSES.includes(input)) throw new Error("unknown status")
 * const over = ENDED_SUBSCRIPTION_STATUSES // any other status is live: at most one per user and plan
 * ```
 */

/** `subscription_plans.interval`: the unit of a billing period (`intervalCount` of them make one). */
export const BILLING_INTERVALS = ["day", "week", "month", "year"] as const;
export type BillingInterval = (typeof BILLING_INTERVALS)[number];

/** `user_subscriptions.status`: Stripe's subscription lifecycle. */
export const SUBSCRIPTION_STATUSES = [
  "incomplete",
  "incomplete_expired",
  "trialing",
  "active",
  "past_due",
  "unpaid",
  "paused",
  "canceled",
] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** Statuses after which a subscription is over for good; any other status is live. */
export const ENDED_SUBSCRIPTION_STATUSES = ["canceled", "incomplete_expired"] as const satisfies readonly SubscriptionStatus[];

/** `payment_attempts.status`. */
export const PAYMENT_ATTEMPT_STATUSES = ["pending", "processing", "succeeded", "failed", "canceled"] as const;
export type PaymentAttemptStatus = (typeof PAYMENT_ATTEMPT_STATUSES)[number];

/** Attempts whose outcome is still open: a subscription has at most one (a partial unique index). */
export const OPEN_ATTEMPT_STATUSES = ["pending", "processing"] as const satisfies readonly PaymentAttemptStatus[];

/**
 * `payment_attempts.reversal`: the provider reported the attempt's money taken back
 * (chargeback, late failure), or that chargeback cancelled; null when neither.
 */
export const PAYMENT_REVERSALS = ["reversed", "reinstated"] as const;
export type PaymentReversal = (typeof PAYMENT_REVERSALS)[number];

/**
 * `payment_attempts.providerCancel`: `due` while the provider must still be
 * asked to cancel a payment we set aside, then its answer.
 */
export const PROVIDER_CANCEL_STATES = ["due", "cancelled", "cancellation_failed"] as const;

/** `direct_debit_tokens.status`: the mandate's state at the provider. */
export const DIRECT_DEBIT_TOKEN_STATUSES = ["pending", "active", "revoked", "failed", "expired"] as const;
export type DirectDebitTokenStatus = (typeof DIRECT_DEBIT_TOKEN_STATUSES)[number];

/** `billing_webhook_events.outcome`: whether a processed event changed anything. */
export const WEBHOOK_EVENT_OUTCOMES = ["applied", "ignored"] as const;
export type WebhookEventOutcome = (typeof WEBHOOK_EVENT_OUTCOMES)[number];
