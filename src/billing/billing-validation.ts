/**
 * zod schemas for billing columns, stating the same rules as the migration's
 * `CHECK`s, so input is refused with a readable message before it reaches the
 * database. The routes derive their request bodies from the `…Fields` objects
 * with `.pick()` / `.omit()`; the whole-row insert and update schemas are in
 * billing-row-schemas.ts, which the Worker does not import (every schema
 * built at module load ships in the bundle, used or not).
 *
 * @example
 * ```ts
 * const body = subscriptionPlanFields.pick({ code: true }).parse(await c.req.json())
 * ```
 */
import * as z from "zod";
import {
  BILLING_INTERVALS,
  DIRECT_DEBIT_TOKEN_STATUSES,
  PAYMENT_ATTEMPT_STATUSES,
  SUBSCRIPTION_STATUSES,
} from "../db/billing-enums";
import { BILLING_LIMITS as L } from "../db/billing-limits";
import { isStorableText } from "../db/storable-text";

/**
 * Text of `min`–`max` characters without NUL, exactly as the database's
 * length CHECKs count it (see isStorableText), so a value accepted here is
 * never refused by D1 as a 500.
 */
export function chars(min: number, max: number) {
  return z.string().refine((value) => isStorableText(value, min, max), { message: `must be ${min}–${max} characters, without NUL` });
}

/** An id of a billing row. */
export const billingIdSchema = chars(1, L.idLength);
/** A reference to a Better Auth `user.id` (the foreign key checks that it exists). */
export const userIdSchema = z.string().min(1);

/**
 * A UTC instant exactly as `Date#toISOString()` writes it
 * (`2026-11-24T08:21:38.594Z`), on a real calendar day.
 */
export const isoTimestampSchema = z.iso
  .datetime({ precision: 3 })
  .refine(
    (value) => {
      const date = new Date(value);
      return !Number.isNaN(date.getTime()) && date.toISOString() === value;
    },
    { message: "must be a real calendar instant" },
  );

/** An ISO-4217 currency code: three upper-case letters, e.g. `EUR`. */
export const currencySchema = z.string().regex(/^[A-Z]{3}$/, "must be an ISO-4217 code such as EUR");
/** A plan's stable code: lower-case letters, digits and hyphens, e.g. `pro-monthly`. */
export const planCodeSchema = z
  .string()
  .max(L.planCodeLength)
  .regex(/^[a-z0-9][a-z0-9-]*$/, "must be lower-case letters, digits and hyphens, e.g. pro-monthly");
/** A payment provider's name: a lower-case slug, e.g. `stripe`. */
export const providerSchema = z
  .string()
  .max(L.providerLength)
  .regex(/^[a-z][a-z0-9_-]*$/, "must be a lower-case name such as stripe");
/** A lower-case hex SHA-256 digest (request fingerprints, keyed token fingerprints). */
export const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, "must be a lower-case hex SHA-256 digest");
/** 1–255 printable ASCII characters without spaces, e.g. a UUID. */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[!-~]{1,255}$/, "must be 1–255 printable ASCII characters without spaces");
/** The last four digits of the debited account. */
export const accountLast4Schema = z.string().regex(/^[0-9]{4}$/, "must be four digits");
/** A boolean as SQLite stores it. */
export const zeroOrOneSchema = z.literal([0, 1]);

/** An amount in minor units (cents): a safe integer, at least `min`. */
export function amountMinor(min: number) {
  return z.int().min(min).max(L.maxAmountMinor);
}

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
});
