/**
 * A `payment_attempts` row as zod checks it: the column rules of src/db/column-schemas.ts
 * over the Drizzle table `paymentAttempts`'s columns, nullability and defaults
 * (test/unit/row-schemas-derived.test.ts proves it equals drizzle-zod's
 * schema of that table). Nullable columns are `.nullish()`, columns with a
 * default `.optional()`. Routes `.pick()` request bodies from it.
 *
 * @example
 * ```ts
 * const body = paymentAttemptFields.pick({ id: true }).parse(input)
 * ```
 */
import * as z from "zod";
import { PAYMENT_ATTEMPT_STATUSES, PAYMENT_REVERSALS, PROVIDER_CANCEL_STATES } from "../billing-enums";
import { BILLING_LIMITS as L } from "../billing-limits";
import { amountMinor, billingIdSchema, chars, currencySchema, idempotencyKeySchema, isoTimestampSchema, providerSchema, sha256HexSchema, userIdSchema, zeroOrOneSchema } from "../column-schemas";

export const paymentAttemptFields = z.strictObject({
  id: billingIdSchema,
  userId: userIdSchema,
  subscriptionId: billingIdSchema.nullish(),
  directDebitTokenId: billingIdSchema.nullish(),
  amountMinor: amountMinor(1),
  currency: currencySchema,
  status: z.enum(PAYMENT_ATTEMPT_STATUSES),
  attemptNumber: z.int().min(1).max(L.maxAttemptNumber),
  idempotencyKey: idempotencyKeySchema,
  requestFingerprint: sha256HexSchema,
  provider: providerSchema,
  providerPaymentId: chars(1, L.providerIdLength).nullish(),
  failureCode: chars(1, L.failureCodeLength).nullish(),
  failureMessage: chars(1, L.failureMessageLength).nullish(),
  nextRetryAt: isoTimestampSchema.nullish(),
  createdAt: isoTimestampSchema,
  updatedAt: isoTimestampSchema,
  // NOT NULL DEFAULT 0: optional on insert.
  refundDue: zeroOrOneSchema.optional(),
  periodStart: isoTimestampSchema.nullish(),
  reversal: z.enum(PAYMENT_REVERSALS).nullish(),
  providerCancel: z.enum(PROVIDER_CANCEL_STATES).nullish(),
  moneyEventAt: isoTimestampSchema.nullish(),
  firstTriedAt: isoTimestampSchema.nullish(),
});
