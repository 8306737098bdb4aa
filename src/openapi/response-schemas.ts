/**
 * zod schemas of the billing API's JSON answers (what src/billing/api-views.ts
 * returns), for the OpenAPI document only: the Worker never imports them. A
 * test parses real answers with them, so they cannot drift from the views.
 */
import * as z from "zod";
import { BILLING_INTERVALS, PAYMENT_ATTEMPT_STATUSES, SUBSCRIPTION_STATUSES } from "../db/billing-enums";
import { directDebitTokenFields } from "../db/row-schemas/direct-debit-tokens";
import { subscriptionPlanFields } from "../db/row-schemas/subscription-plans";
import { ERROR_CODES } from "../http/error-codes";

const id = z.string();
const timestamp = z.string().meta({ format: "date-time" });
const nullableTimestamp = timestamp.nullable();

export const planSchema = z
  .strictObject({
    id,
    code: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    amountMinor: subscriptionPlanFields.shape.amountMinor,
    currency: subscriptionPlanFields.shape.currency,
    interval: z.enum(BILLING_INTERVALS),
    intervalCount: z.int(),
    trialDays: z.int(),
    active: z.boolean(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: "Plan" });

/** An operator's view of a plan: who created it too. */
export const operatorPlanSchema = planSchema.extend({ createdBy: z.string().nullable() }).meta({ id: "OperatorPlan" });

export const subscriptionSchema = z
  .strictObject({
    id,
    planId: id,
    planCode: z.string(),
    status: z.enum(SUBSCRIPTION_STATUSES),
    currentPeriodStart: timestamp,
    currentPeriodEnd: timestamp,
    billingCycleAnchor: nullableTimestamp,
    trialEndsAt: nullableTimestamp,
    cancelAtPeriodEnd: z.boolean(),
    canceledAt: nullableTimestamp,
    endedAt: nullableTimestamp,
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: "Subscription" });

export const paymentAttemptSchema = z
  .strictObject({
    id,
    subscriptionId: id.nullable(),
    directDebitTokenId: id.nullable(),
    amountMinor: z.int(),
    currency: z.string(),
    status: z.enum(PAYMENT_ATTEMPT_STATUSES),
    attemptNumber: z.int(),
    provider: z.string().nullable(),
    providerPaymentId: z.string().nullable(),
    failureCode: z.string().nullable(),
    failureMessage: z.string().nullable(),
    nextRetryAt: nullableTimestamp,
    refundDue: z.boolean(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: "PaymentAttempt" });

/** Masked: never the token, its ciphertext, key id or fingerprint. */
export const directDebitTokenSchema = z
  .strictObject({
    id,
    provider: z.string(),
    mandateReference: z.string().nullable(),
    accountLast4: z.string().nullable(),
    bankName: z.string().nullable(),
    status: directDebitTokenFields.shape.status,
    isDefault: z.boolean(),
    createdAt: timestamp,
    updatedAt: timestamp,
    revokedAt: nullableTimestamp,
  })
  .meta({ id: "DirectDebitToken" });

export const providerCustomerSchema = z
  .strictObject({ provider: z.string(), customerId: z.string(), createdAt: timestamp })
  .meta({ id: "ProviderCustomer" });

export const entitlementSchema = z
  .strictObject({
    subscriptionId: id,
    planId: id,
    planCode: z.string(),
    status: z.enum(SUBSCRIPTION_STATUSES),
    until: timestamp.meta({ description: "The end of the paid or trial period (plus the past-due grace)." }),
  })
  .meta({ id: "Entitlement" });

export const webhookDeliverySchema = z
  .strictObject({
    received: z.int(),
    results: z.array(z.strictObject({ eventId: z.string(), outcome: z.enum(["applied", "ignored", "duplicate"]) })),
  })
  .meta({ id: "WebhookDeliveryResult" });

const nextCursor = z.string().nullable().meta({ description: "Pass as `cursor` for the next page; null on the last page." });

/** The one error shape of the API (src/http/handle-error.ts). */
export const errorSchema = z
  .strictObject({
    error: z.strictObject({
      code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]]),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: "Error" });

/** Every success body, by name, as the operation table refers to them. */
export const RESPONSE_BODIES = {
  plans: z.strictObject({ plans: z.array(planSchema) }),
  operatorPlan: z.strictObject({ plan: operatorPlanSchema }),
  subscription: z.strictObject({ subscription: subscriptionSchema }),
  subscriptions: z.strictObject({ subscriptions: z.array(subscriptionSchema) }),
  paymentAttempt: z.strictObject({ paymentAttempt: paymentAttemptSchema }),
  paymentAttempts: z.strictObject({ paymentAttempts: z.array(paymentAttemptSchema), nextCursor }),
  customer: z.strictObject({ customer: providerCustomerSchema }),
  customers: z.strictObject({ customers: z.array(providerCustomerSchema) }),
  token: z.strictObject({ token: directDebitTokenSchema }),
  tokens: z.strictObject({ tokens: z.array(directDebitTokenSchema), nextCursor }),
  entitlements: z.strictObject({ entitlements: z.array(entitlementSchema) }),
  webhookDelivery: webhookDeliverySchema,
} as const;

export type ResponseBodyName = keyof typeof RESPONSE_BODIES;
