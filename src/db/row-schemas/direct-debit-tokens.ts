/**
 * A `direct_debit_tokens` row as zod checks it: the column rules of src/db/column-schemas.ts
 * over the Drizzle table `directDebitTokens`'s columns, nullability and defaults
 * (test/unit/row-schemas-derived.test.ts proves it equals drizzle-zod's
 * schema of that table). Nullable columns are `.nullish()`, columns with a
 * default `.optional()`. Routes `.pick()` request bodies from it.
 *
 * @example
 * ```ts
 * const body = directDebitTokenFields.pick({ id: true }).parse(input)
 * ```
 */
import * as z from "zod";
import { DIRECT_DEBIT_TOKEN_STATUSES } from "../billing-enums";
import { BILLING_LIMITS as L } from "../billing-limits";
import { accountLast4Schema, billingIdSchema, chars, isoTimestampSchema, providerSchema, sha256HexSchema, userIdSchema, zeroOrOneSchema } from "../column-schemas";

export const directDebitTokenFields = z.strictObject({
  id: billingIdSchema,
  userId: userIdSchema,
  provider: providerSchema,
  tokenCiphertext: chars(1, L.tokenCiphertextLength),
  tokenKeyId: chars(1, L.tokenKeyIdLength),
  tokenFingerprint: sha256HexSchema,
  mandateReference: chars(1, L.providerIdLength).nullish(),
  accountLast4: accountLast4Schema.nullish(),
  bankName: chars(1, L.bankNameLength).nullish(),
  status: z.enum(DIRECT_DEBIT_TOKEN_STATUSES),
  isDefault: zeroOrOneSchema,
  createdAt: isoTimestampSchema,
  updatedAt: isoTimestampSchema,
  revokedAt: isoTimestampSchema.nullish(),
  mandateEventAt: isoTimestampSchema.nullish(),
});
