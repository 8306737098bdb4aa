import type { PaymentAttemptRow, SubscriptionPlanRow } from "../db/billing-rows";
import type { MaskedTokenRow } from "./direct-debit-tokens.repository";
import type { SubscriptionWithPlan } from "./subscriptions.repository";

/**
 * How billing rows look in API responses: 0/1 columns become booleans, and
 * internal columns (createdBy of a public plan, a user id, an idempotency
 * fingerprint, anything about a token's secret) are left out.
 *
 * @example
 * ```ts
 * return c.json({ plans: rows.map(planView) })
 * ```
 */
export function planView(plan: SubscriptionPlanRow) {
  return {
    id: plan.id,
    code: plan.code,
    name: plan.name,
    description: plan.description,
    amountMinor: plan.amountMinor,
    currency: plan.currency,
    interval: plan.interval,
    intervalCount: plan.intervalCount,
    trialDays: plan.trialDays,
    active: plan.active === 1,
    createdAt: plan.createdAt,
    updatedAt: plan.updatedAt,
  };
}

/** A subscription with its plan's code. */
export function subscriptionView(subscription: SubscriptionWithPlan) {
  return {
    id: subscription.id,
    planId: subscription.planId,
    planCode: subscription.planCode,
    status: subscription.status,
    currentPeriodStart: subscription.currentPeriodStart,
    currentPeriodEnd: subscription.currentPeriodEnd,
    billingCycleAnchor: subscription.billingCycleAnchor,
    trialEndsAt: subscription.trialEndsAt,
    cancelAtPeriodEnd: subscription.cancelAtPeriodEnd === 1,
    canceledAt: subscription.canceledAt,
    endedAt: subscription.endedAt,
    createdAt: subscription.createdAt,
    updatedAt: subscription.updatedAt,
  };
}

/** A payment attempt; derived from the stored row only, so an idempotent replay answers byte-for-byte the same. */
export function paymentAttemptView(attempt: PaymentAttemptRow) {
  return {
    id: attempt.id,
    subscriptionId: attempt.subscriptionId,
    directDebitTokenId: attempt.directDebitTokenId,
    amountMinor: attempt.amountMinor,
    currency: attempt.currency,
    status: attempt.status,
    attemptNumber: attempt.attemptNumber,
    provider: attempt.provider,
    providerPaymentId: attempt.providerPaymentId,
    failureCode: attempt.failureCode,
    failureMessage: attempt.failureMessage,
    nextRetryAt: attempt.nextRetryAt,
    refundDue: attempt.refundDue === 1,
    createdAt: attempt.createdAt,
    updatedAt: attempt.updatedAt,
  };
}

/** A direct-debit token, masked: never the token, its ciphertext, key id or fingerprint. */
export function tokenView(token: MaskedTokenRow) {
  return {
    id: token.id,
    provider: token.provider,
    mandateReference: token.mandateReference,
    accountLast4: token.accountLast4,
    bankName: token.bankName,
    status: token.status,
    isDefault: token.isDefault === 1,
    createdAt: token.createdAt,
    updatedAt: token.updatedAt,
    revokedAt: token.revokedAt,
  };
}
