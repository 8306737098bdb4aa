import * as z from "zod";
import { BILLING_INTERVALS } from "../db/billing-enums";
import { BILLING_LIMITS as L } from "../db/billing-limits";
import { amountMinor, chars, currencySchema, planCodeSchema } from "../db/column-schemas";

// The stored columns' rules (src/db/row-schemas/subscription-plans.ts), built from the same
// column schemas rather than picked from the row schema, so the Worker does not bundle the
// rules of columns no request sends; test/unit/input-schemas-follow-rows.test.ts proves
// they agree.
const rowFields = z.strictObject({
  code: planCodeSchema,
  name: chars(1, L.planNameLength),
  description: chars(1, L.planDescriptionLength).nullish(),
  amountMinor: amountMinor(0),
  currency: currencySchema,
  interval: z.enum(BILLING_INTERVALS),
  intervalCount: z.int().min(1).max(L.maxIntervalCount),
  trialDays: z.int().min(0).max(L.maxTrialDays),
});

// Text an operator types is trimmed before the row's rules apply, so "   " is
// refused as empty instead of stored as a name nobody can see.
const planFields = rowFields.extend({
  name: z.string().trim().pipe(rowFields.shape.name),
  description: z.string().trim().pipe(rowFields.shape.description.unwrap().unwrap()).nullish(),
});

/**
 * A plan as an operator describes it (API body of `POST /plans`, one entry of
 * `billing/plans.json`): the table's rules, `intervalCount` defaulting to 1,
 * `trialDays` to 0 and `active` (a boolean here) to true; `name` and
 * `description` are trimmed, and must not be blank. Unknown fields are refused.
 *
 * @example
 * ```ts
 * planInputSchema.parse({ code: "pro-monthly", name: "Pro", amountMinor: 1500, currency: "EUR", interval: "month" })
 * ```
 */
export const planInputSchema = planFields.extend({
  intervalCount: planFields.shape.intervalCount.default(1),
  trialDays: planFields.shape.trialDays.default(0),
  active: z.boolean().default(true),
});
export type PlanInput = z.output<typeof planInputSchema>;

/** `PATCH /plans/:code` body: any field of {@link planInputSchema} but the code, at least one. */
export const planPatchSchema = planFields
  .omit({ code: true })
  .extend({ active: z.boolean() })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, { message: "send at least one field to change" });
