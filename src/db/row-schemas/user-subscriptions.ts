/**
 * A `user_subscriptions` row as zod checks it: the column rules of src/db/column-schemas.ts
 * over the Drizzle table `userSubscriptions`'s columns, nullability and defaults
 * (test/unit/row-schemas-derived.test.ts proves it equals drizzle-zod's
 * schema of that table). Nullable columns are `.nullish()`, columns with a
 * default `.optional()`. Routes `.pick()` request bodies from it.
 *
 * @example
 * ```ts
 * const body = userSubscriptionFields.pick({ id: true }).parse(input)
 * ```
 */
import * as z from "zod";
import { SUBSCRIPTION_STATUSES } from "../billing-enums";
import { BILLING_LIMITS as L } from "../billing-limits";
import { billingIdSchema, chars, isoTimestampSchema, providerSchema, userIdSchema, zeroOrOneSchema } from "../column-schemas";

export const userSubscriptionFields = z.strictObject({
  id: billingIdSchema,
  userId: userIdSchema,
  planId: billingIdSchema,
  status: z.enum(SUBSCRIPTION_STATUSES),
  currentPeriodStart: isoTimestampSchema,
  currentPeriodEnd: isoTimestampSchema,
  trialEndsAt: isoTimestampSchema.nullish(),
  cancelAtPeriodEnd: zeroOrOneSchema,
  canceledAt: isoTimestampSchema.nullish(),
  endedAt: isoTimestampSchema.nullish(),
  provider: providerSchema.nullish(),
  providerSubscriptionId: chars(1, L.providerIdLength).nullish(),
  createdAt: isoTimestampSchema,
  updatedAt: isoTimestampSchema,
  billingCycleAnchor: isoTimestampSchema.nullish(),
});
