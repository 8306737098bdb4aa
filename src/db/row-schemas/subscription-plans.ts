/**
 * A `subscription_plans` row as zod checks it: the column rules of src/db/column-schemas.ts
 * over the Drizzle table `subscriptionPlans`'s columns, nullability and defaults
 * (test/unit/row-schemas-derived.test.ts proves it equals drizzle-zod's
 * schema of that table). Nullable columns are `.nullish()`, columns with a
 * default `.optional()`. Routes `.pick()` request bodies from it.
 *
 * @example
 * ```ts
 * const body = subscriptionPlanFields.pick({ id: true }).parse(input)
 * ```
 */
import * as z from "zod";
import { BILLING_INTERVALS } from "../billing-enums";
import { BILLING_LIMITS as L } from "../billing-limits";
import { amountMinor, billingIdSchema, chars, currencySchema, isoTimestampSchema, planCodeSchema, userIdSchema, zeroOrOneSchema } from "../column-schemas";

export const subscriptionPlanFields = z.strictObject({
  id: billingIdSchema,
  code: planCodeSchema,
  name: chars(1, L.planNameLength),
  description: chars(1, L.planDescriptionLength).nullish(),
  amountMinor: amountMinor(0),
  currency: currencySchema,
  interval: z.enum(BILLING_INTERVALS),
  intervalCount: z.int().min(1).max(L.maxIntervalCount),
  trialDays: z.int().min(0).max(L.maxTrialDays),
  active: zeroOrOneSchema,
  createdBy: userIdSchema.nullish(),
  createdAt: isoTimestampSchema,
  updatedAt: isoTimestampSchema,
});
