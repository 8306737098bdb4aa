/**
 * zod schemas for billing rows: what may be inserted into, or changed in,
 * each billing table. They state the same rules as the migration's `CHECK`s
 * (a test runs every constraint case through both), so input is refused with
 * a readable message before it reaches the database.
 *
 * - `…InsertSchema`: a whole new row (the application supplies `id` and the
 *   ISO timestamps).
 * - `…UpdateSchema`: a patch; `updatedAt` is required, the row's identity
 *   (`id`, owner, `createdAt`) cannot change. Rules that span columns are
 *   checked when the patch holds them; the database checks the merged row.
 * - `…Fields`: the bare column schemas without cross-column rules, for
 *   deriving request bodies with `.pick()` / `.omit()`.
 *
 * @example
 * ```ts
 * const now = new Date().toISOString()
 * const plan = subscriptionPlanInsertSchema.parse({ id: crypto.randomUUID(), ...body, createdAt: now, updatedAt: now })
 * await db.insertInto("subscription_plans").values(plan).execute()
 * ```
 */
import * as z from "zod";
import {
  BILLING_INTERVALS,
  DIRECT_DEBIT_TOKEN_STATUSES,
  PAYMENT_ATTEMPT_STATUSES,
  SUBSCRIPTION_STATUSES,
} from "./billing-enums";
import { BILLING_LIMITS as L } from "./billing-limits";
import { isStorableText } from "./storable-text";

/**
 * Text of `min`–`max` characters without NUL, exactly as the database's
 * length CHECKs count it (see isStorableText), so a value accepted here is
 * never refused by D1 as a 500.
 */
function chars(min: number, max: number) {
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
function amountMinor(min: number) {
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
  refundDue: zeroOrOneSchema.optional(),
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

// Cross-column rules below are CHECKs in the migration too. (Each refine gets
// its own params object: zod rewrites the one it is given.)

export const subscriptionPlanInsertSchema = subscriptionPlanFields;
export const subscriptionPlanUpdateSchema = subscriptionPlanFields
  .omit({ id: true, createdBy: true, createdAt: true })
  .partial()
  .extend({ updatedAt: isoTimestampSchema });

export const userSubscriptionInsertSchema = userSubscriptionFields
  .refine((row) => row.currentPeriodEnd > row.currentPeriodStart, {
    message: "currentPeriodEnd must be after currentPeriodStart",
    path: ["currentPeriodEnd"],
  })
  .refine((row) => row.providerSubscriptionId == null || row.provider != null, {
    message: "providerSubscriptionId needs a provider",
    path: ["provider"],
  });
export const userSubscriptionUpdateSchema = userSubscriptionFields
  .omit({ id: true, userId: true, createdAt: true })
  .partial()
  .extend({ updatedAt: isoTimestampSchema })
  // Both ends of the period change together, so the order can be checked here.
  .refine(
    (patch) =>
      (patch.currentPeriodStart === undefined) === (patch.currentPeriodEnd === undefined) &&
      (patch.currentPeriodStart === undefined || patch.currentPeriodEnd! > patch.currentPeriodStart),
    { message: "set currentPeriodStart and currentPeriodEnd together, end after start", path: ["currentPeriodEnd"] },
  )
  // So do the provider and its id for the subscription.
  .refine(
    (patch) =>
      (patch.provider === undefined) === (patch.providerSubscriptionId === undefined) &&
      (patch.providerSubscriptionId == null || patch.provider != null),
    { message: "set provider and providerSubscriptionId together; the id needs a provider", path: ["provider"] },
  );

export const paymentAttemptInsertSchema = paymentAttemptFields;
export const paymentAttemptUpdateSchema = paymentAttemptFields
  .omit({ id: true, userId: true, idempotencyKey: true, requestFingerprint: true, createdAt: true })
  .partial()
  .extend({ updatedAt: isoTimestampSchema });

export const directDebitTokenInsertSchema = directDebitTokenFields.refine(
  (row) => (row.status === "revoked") === (row.revokedAt != null),
  { message: "revokedAt is set exactly when status is revoked", path: ["revokedAt"] },
);
export const directDebitTokenUpdateSchema = directDebitTokenFields
  .omit({ id: true, userId: true, provider: true, tokenFingerprint: true, createdAt: true })
  .partial()
  .extend({ updatedAt: isoTimestampSchema })
  // status and revokedAt change together, so their agreement can be checked here.
  .refine(
    (patch) =>
      (patch.status === undefined) === (patch.revokedAt === undefined) &&
      (patch.status === undefined || (patch.status === "revoked") === (patch.revokedAt != null)),
    { message: "set status and revokedAt together; revokedAt exactly when revoked", path: ["revokedAt"] },
  );
