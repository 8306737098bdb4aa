import { createInsertSchema, createUpdateSchema } from "drizzle-zod";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type * as z from "zod";
import { isoTimestampSchema } from "../../src/db/column-schemas";
import { billingWebhookEventFields } from "../../src/db/row-schemas/billing-webhook-events";
import { directDebitTokenFields } from "../../src/db/row-schemas/direct-debit-tokens";
import { paymentAttemptFields } from "../../src/db/row-schemas/payment-attempts";
import { providerCustomerFields } from "../../src/db/row-schemas/provider-customers";
import { subscriptionPlanFields } from "../../src/db/row-schemas/subscription-plans";
import { userSubscriptionFields } from "../../src/db/row-schemas/user-subscriptions";
import * as schema from "../../src/db/schema";

/**
 * Every billing table: its Drizzle table and the row schema the Worker
 * uses (src/db/row-schemas/), which must equal drizzle-zod's schema of the
 * table refined by the row schema's column rules.
 */
export const BILLING_ROW_SCHEMAS = {
  subscription_plans: { table: schema.subscriptionPlans, fields: subscriptionPlanFields },
  user_subscriptions: { table: schema.userSubscriptions, fields: userSubscriptionFields },
  payment_attempts: { table: schema.paymentAttempts, fields: paymentAttemptFields },
  direct_debit_tokens: { table: schema.directDebitTokens, fields: directDebitTokenFields },
  billing_webhook_events: { table: schema.billingWebhookEvents, fields: billingWebhookEventFields },
  provider_customers: { table: schema.providerCustomers, fields: providerCustomerFields },
} satisfies Record<string, { table: SQLiteTable; fields: z.ZodObject }>;

/** A column's rule without the `.nullish()` / `.optional()` that its row schema adds (drizzle-zod adds its own). */
export function columnRule(schema: z.ZodType): z.ZodType {
  let inner = schema;
  while (inner._zod.def.type === "optional" || inner._zod.def.type === "nullable") {
    inner = (inner._zod.def as unknown as { innerType: z.ZodType }).innerType;
  }
  return inner;
}

/**
 * drizzle-zod's refinements that swap each column's base schema for the row
 * schema's rule for it; nullability and optionality stay drizzle-zod's.
 */
export function refinementsOf(fields: z.ZodObject): Record<string, () => z.ZodType> {
  return Object.fromEntries(Object.entries(fields.shape).map(([column, rule]) => [column, () => columnRule(rule as z.ZodType)]));
}

/**
 * drizzle-zod's insert schema of `table` with the row schema's column rules,
 * strict. Typed as the row schema: the equality test proves the two agree.
 */
function insertSchema<Fields extends z.ZodObject>(table: SQLiteTable, fields: Fields): Fields {
  return createInsertSchema(table, refinementsOf(fields) as never).strict() as unknown as Fields;
}

/** drizzle-zod's update schema of `table`: any column but the row's identity, `updatedAt` always. */
function updateSchema<Fields extends z.ZodObject, Identity extends keyof Fields["shape"] & string>(
  table: SQLiteTable,
  fields: Fields,
  identity: readonly Identity[],
) {
  const derived = createUpdateSchema(table, refinementsOf(fields) as never).strict() as unknown as Fields;
  const mask = Object.fromEntries(identity.map((column) => [column, true])) as { [Column in Identity]: true } & Record<Exclude<Identity, string>, never>;
  return derived.omit(mask).partial().extend({ updatedAt: isoTimestampSchema });
}

// Whole-row schemas for tests and scripts (never the Worker: drizzle-zod pulls
// in all of zod). The refines below are the CHECKs that span columns. Each
// refine gets its own params object: zod rewrites the one it is given.

const t = BILLING_ROW_SCHEMAS;

export const subscriptionPlanInsertSchema = insertSchema(t.subscription_plans.table, t.subscription_plans.fields);
export const subscriptionPlanUpdateSchema = updateSchema(t.subscription_plans.table, t.subscription_plans.fields, ["id", "createdBy", "createdAt"]);

export const userSubscriptionInsertSchema = insertSchema(t.user_subscriptions.table, t.user_subscriptions.fields)
  .refine((row) => row.currentPeriodEnd > row.currentPeriodStart, {
    message: "currentPeriodEnd must be after currentPeriodStart",
    path: ["currentPeriodEnd"],
  })
  .refine((row) => row.providerSubscriptionId == null || row.provider != null, {
    message: "providerSubscriptionId needs a provider",
    path: ["provider"],
  });
export const userSubscriptionUpdateSchema = updateSchema(t.user_subscriptions.table, t.user_subscriptions.fields, ["id", "userId", "createdAt"])
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

export const paymentAttemptInsertSchema = insertSchema(t.payment_attempts.table, t.payment_attempts.fields);
export const paymentAttemptUpdateSchema = updateSchema(t.payment_attempts.table, t.payment_attempts.fields, ["id", "userId", "idempotencyKey", "requestFingerprint", "createdAt"]);

export const directDebitTokenInsertSchema = insertSchema(t.direct_debit_tokens.table, t.direct_debit_tokens.fields).refine(
  (row) => (row.status === "revoked") === (row.revokedAt != null),
  { message: "revokedAt is set exactly when status is revoked", path: ["revokedAt"] },
);
export const directDebitTokenUpdateSchema = updateSchema(t.direct_debit_tokens.table, t.direct_debit_tokens.fields, ["id", "userId", "provider", "tokenFingerprint", "createdAt"])
  // status and revokedAt change together, so their agreement can be checked here.
  .refine(
    (patch) =>
      (patch.status === undefined) === (patch.revokedAt === undefined) &&
      (patch.status === undefined || (patch.status === "revoked") === (patch.revokedAt != null)),
    { message: "set status and revokedAt together; revokedAt exactly when revoked", path: ["revokedAt"] },
  );
