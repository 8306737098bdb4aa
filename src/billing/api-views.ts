import type { PaymentAttemptRow, SubscriptionPlanRow } from "../db/billing-rows";
import { MASKED_TOKEN_COLUMNS, type MaskedTokenRow } from "./direct-debit-tokens.repository";
import type { SubscriptionWithPlan } from "./subscriptions.repository";

/**
 * How billing rows look in API responses: 0/1 columns become booleans, and
 * internal columns (createdBy of a public plan, a user id, an idempotency
 * fingerprint, anything about a token's secret) are left out. Each view is a
 * list of the fields it shows, in the order it shows them; nothing else of
 * the row gets through.
 *
 * @example
 * ```ts
 * return c.json({ plans: rows.map(planView) })
 * ```
 */
export const planView = viewOf<SubscriptionPlanRow>()(
  ["id", "code", "name", "description", "amountMinor", "currency", "interval", "intervalCount", "trialDays", "active", "createdAt", "updatedAt"],
  ["active"],
);

/** A subscription with its plan's code. */
export const subscriptionView = viewOf<SubscriptionWithPlan>()(
  ["id", "planId", "planCode", "status", "currentPeriodStart", "currentPeriodEnd", "billingCycleAnchor", "trialEndsAt", "cancelAtPeriodEnd", "canceledAt", "endedAt", "createdAt", "updatedAt"],
  ["cancelAtPeriodEnd"],
);

/** A payment attempt; derived from the stored row only, so an idempotent replay answers byte-for-byte the same. */
export const paymentAttemptView = viewOf<PaymentAttemptRow>()(
  ["id", "subscriptionId", "directDebitTokenId", "amountMinor", "currency", "status", "attemptNumber", "provider", "providerPaymentId", "failureCode", "failureMessage", "nextRetryAt", "refundDue", "createdAt", "updatedAt"],
  ["refundDue"],
);

/** A direct-debit token, masked: never the token, its ciphertext, key id or fingerprint. */
export const tokenView = viewOf<MaskedTokenRow>()(MASKED_TOKEN_COLUMNS, ["isDefault"]);

/** `Field`s of `Row` as shown: each `Flag` (a 0/1 column) as a boolean. */
type View<Row, Field extends keyof Row, Flag extends Field> = { [K in Field]: K extends Flag ? boolean : Row[K] };

/** A view of `Row` that shows `fields`, in that order, with each of `flags` as `=== 1`. */
function viewOf<Row>() {
  return <Field extends keyof Row & string, Flag extends Field>(fields: readonly Field[], flags: readonly Flag[]) =>
    (row: Row): View<Row, Field, Flag> =>
      Object.fromEntries(fields.map((field) => [field, (flags as readonly string[]).includes(field) ? row[field] === 1 : row[field]])) as View<Row, Field, Flag>;
}
