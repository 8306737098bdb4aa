/**
 * zod schemas for whole billing rows: what may be inserted into, or changed
 * in, each billing table. They state the same rules as the migration's
 * `CHECK`s (a test runs every constraint case through both). Not imported by
 * the Worker, so they add nothing to its bundle.
 *
 * - `…InsertSchema`: a whole new row (the application supplies `id` and the
 *   ISO timestamps).
 * - `…UpdateSchema`: a patch; `updatedAt` is required, the row's identity
 *   (`id`, owner, `createdAt`) cannot change. Rules that span columns are
 *   checked when the patch holds them; the database checks the merged row.
 *
 * @example
 * ```ts
 * const now = new Date().toISOString()
 * const plan = subscriptionPlanInsertSchema.parse({ id: crypto.randomUUID(), ...body, createdAt: now, updatedAt: now })
 * await db.insertInto("subscription_plans").values(plan).execute()
 * ```
 */
import * as z from "zod";
import { PAYMENT_ATTEMPT_STATUSES, SUBSCRIPTION_STATUSES } from "../db/billing-enums";
import { BILLING_LIMITS as L } from "../db/billing-limits";
import {
  amountMinor,
  billingIdSchema,
  chars,
  currencySchema,
  directDebitTokenFields,
  idempotencyKeySchema,
  isoTimestampSchema,
  providerSchema,
  sha256HexSchema,
  subscriptionPlanFields,
  userIdSchema,
  zeroOrOneSchema,
} from "./billing-validation";

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
