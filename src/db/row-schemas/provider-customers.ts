/**
 * A `provider_customers` row as zod checks it: the column rules of src/db/column-schemas.ts
 * over the Drizzle table `providerCustomers`'s columns, nullability and defaults
 * (test/unit/row-schemas-derived.test.ts proves it equals drizzle-zod's
 * schema of that table). Routes `.pick()` request bodies from it.
 *
 * @example
 * ```ts
 * const body = providerCustomerFields.pick({ provider: true }).parse(input)
 * ```
 */
import * as z from "zod";
import { BILLING_LIMITS as L } from "../billing-limits";
import { chars, isoTimestampSchema, providerSchema, userIdSchema } from "../column-schemas";

export const providerCustomerFields = z.strictObject({
  userId: userIdSchema,
  provider: providerSchema,
  customerId: chars(1, L.providerIdLength),
  createdAt: isoTimestampSchema,
});
