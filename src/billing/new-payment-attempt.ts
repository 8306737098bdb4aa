import type { Kysely } from "kysely";
import type { DB } from "../db/generated";
import type { NewPaymentAttempt } from "../db/billing-rows";
import { BillingError } from "./billing-error";
import { BILLING_LIMITS } from "../db/billing-limits";
import { findDefaultToken, findToken } from "./direct-debit-tokens.repository";
import { decide } from "./lifecycle/decide";
import { LifecycleError } from "./lifecycle/lifecycle-error";
import { nextAttemptNumber, oldestReversedPeriod } from "./payment-attempts.repository";
import { assertPaymentDue, attemptPeriodStart } from "./payment-due";
import { findPlanById } from "./plans.repository";
import { lifecycleStateOf } from "./subscription-lifecycle.repository";
import type { SubscriptionWithPlan } from "./subscriptions.repository";

/**
 * The pending attempt for the amount due on `subscription`, after checking
 * that a payment can be started now: a status the lifecycle lets take a
 * payment (else 409 SUBSCRIPTION_NOT_PAYABLE), a payment due (PAYMENT_NOT_DUE), a plan that is
 * not free (NOTHING_TO_PAY), and an active token of the user's, named or the
 * default (TOKEN_NOT_FOUND, NO_DEFAULT_TOKEN, TOKEN_NOT_ACTIVE). Writes nothing.
 *
 * @example
 * ```ts
 * const attempt = await newPaymentAttempt(db, user.id, subscription, { directDebitTokenId, idempotencyKey, fingerprint })
 * await insertAttemptIfIdle(db, attempt, subscription)
 * ```
 */
export async function newPaymentAttempt(
  db: Kysely<DB>,
  userId: string,
  subscription: SubscriptionWithPlan,
  request: { directDebitTokenId: string | undefined; idempotencyKey: string; fingerprint: string },
): Promise<NewPaymentAttempt & { subscriptionId: string; periodStart: string }> {
  const now = new Date();
  const plan = (await findPlanById(db, subscription.planId))!;
  // Whether the status can take a payment at all is the lifecycle's rule; whether one is due, payment-due.ts.
  try {
    decide(lifecycleStateOf(subscription), plan, { type: "payment_submitted" }, now);
  } catch (error) {
    if (!(error instanceof LifecycleError)) throw error;
    throw new BillingError("SUBSCRIPTION_NOT_PAYABLE", { details: { status: subscription.status } });
  }
  assertPaymentDue(subscription, now);
  if (plan.amountMinor === 0) throw new BillingError("NOTHING_TO_PAY");

  const { directDebitTokenId } = request;
  // A period whose collection was reversed is paid first, the oldest (docs/billing-lifecycle.md ⁷).
  const periodStart =
    (await db.selectFrom("user_subscriptions as subscription").select(oldestReversedPeriod.as("p")).where("subscription.id", "=", subscription.id).executeTakeFirst())?.p ||
    attemptPeriodStart(subscription);
  const token = directDebitTokenId ? await findToken(db, userId, directDebitTokenId) : await findDefaultToken(db, userId);
  if (!token) throw new BillingError(directDebitTokenId ? "TOKEN_NOT_FOUND" : "NO_DEFAULT_TOKEN");
  if (token.status !== "active") throw new BillingError("TOKEN_NOT_ACTIVE", { details: { status: token.status } });

  return {
    id: crypto.randomUUID(),
    userId,
    subscriptionId: subscription.id,
    directDebitTokenId: token.id,
    // The amount due comes from the plan, never from the request.
    amountMinor: plan.amountMinor,
    currency: plan.currency,
    // Not sent yet: the provider's id, failure and retry columns start NULL, refundDue 0 (column defaults).
    status: "pending",
    attemptNumber: Math.min(await nextAttemptNumber(db, subscription.id, periodStart), BILLING_LIMITS.maxAttemptNumber),
    idempotencyKey: request.idempotencyKey,
    requestFingerprint: request.fingerprint,
    provider: token.provider,
    periodStart,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}
