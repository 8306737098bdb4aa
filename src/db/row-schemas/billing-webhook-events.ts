/**
 * A `billing_webhook_events` row as zod checks it: the column rules of src/db/column-schemas.ts
 * over the Drizzle table `billingWebhookEvents`'s columns, nullability and defaults
 * (test/unit/row-schemas-derived.test.ts proves it equals drizzle-zod's
 * schema of that table). Nullable columns are `.nullish()`, columns with a
 * default `.optional()`. Routes `.pick()` request bodies from it.
 *
 * @example
 * ```ts
 * const body = billingWebhookEventFields.pick({ id: true }).parse(input)
 * ```
 */
import * as z from "zod";
import { WEBHOOK_EVENT_OUTCOMES } from "../billing-enums";
import { BILLING_LIMITS as L } from "../billing-limits";
import { billingIdSchema, chars, isoTimestampSchema, providerSchema } from "../column-schemas";

export const billingWebhookEventFields = z.strictObject({
  id: billingIdSchema,
  provider: providerSchema,
  eventId: chars(1, L.providerIdLength),
  eventType: chars(1, L.webhookEventTypeLength),
  outcome: z.enum(WEBHOOK_EVENT_OUTCOMES),
  processedAt: isoTimestampSchema,
});
