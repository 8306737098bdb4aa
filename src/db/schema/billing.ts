/**
 * The billing tables for Drizzle, exactly as the billing migrations
 * (migrations/20261124130000_billing_tables.ts and later) create them. Their
 * Kysely row types are in src/db/billing-rows.ts. The migrations are the
 * source of truth; a test
 * compares these definitions (columns, foreign keys, indexes, checks) with
 * the migrated database and fails on any difference.
 *
 * Booleans are 0/1 and dates ISO-8601 strings, as stored, so Drizzle and
 * Kysely return the same row shapes.
 *
 * @example
 * ```ts
 * const db = drizzle(env.DB, { schema })
 * const plans = await db.select().from(subscriptionPlans).where(eq(subscriptionPlans.active, 1))
 * ```
 */
import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { BILLING_LIMITS as L } from "../billing-limits";
import {
  BILLING_INTERVALS,
  DIRECT_DEBIT_TOKEN_STATUSES,
  ENDED_SUBSCRIPTION_STATUSES,
  OPEN_ATTEMPT_STATUSES,
  PAYMENT_ATTEMPT_STATUSES,
  PAYMENT_REVERSALS,
  SUBSCRIPTION_STATUSES,
  WEBHOOK_EVENT_OUTCOMES,
  PROVIDER_CANCEL_STATES,
} from "../billing-enums";
import { user } from "./auth";
import {
  integerBetween,
  iso4217,
  isoTimestamp,
  lengthBetween,
  noneOf,
  oneOf,
  providerName,
  sha256Hex,
} from "./check-expressions";

export const subscriptionPlans = sqliteTable(
  "subscription_plans",
  {
    id: text("id").primaryKey().notNull(),
    code: text("code").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    amountMinor: integer("amountMinor").notNull(),
    currency: text("currency").notNull(),
    interval: text("interval", { enum: BILLING_INTERVALS }).notNull(),
    intervalCount: integer("intervalCount").notNull(),
    trialDays: integer("trialDays").notNull(),
    active: integer("active").$type<0 | 1>().notNull(),
    createdBy: text("createdBy").references(() => user.id, { onDelete: "set null" }),
    createdAt: text("createdAt").notNull(),
    updatedAt: text("updatedAt").notNull(),
  },
  (t) => [
    uniqueIndex("subscription_plans_code_unique").on(t.code),
    index("subscription_plans_createdBy_idx").on(t.createdBy),
    index("subscription_plans_active_amountMinor_code_idx").on(t.active, t.amountMinor, t.code),
    check("subscription_plans_id_length", lengthBetween(t.id, 1, L.idLength)),
    check(
      "subscription_plans_code_format",
      sql`length(${t.code}) between 1 and ${sql.raw(String(L.planCodeLength))} and ${t.code} glob '[a-z0-9]*' and ${t.code} not glob '*[^a-z0-9-]*'`,
    ),
    check("subscription_plans_name_length", lengthBetween(t.name, 1, L.planNameLength)),
    check("subscription_plans_description_length", lengthBetween(t.description, 1, L.planDescriptionLength)),
    check("subscription_plans_amountMinor_range", integerBetween(t.amountMinor, 0, L.maxAmountMinor)),
    check("subscription_plans_currency_iso4217", iso4217(t.currency)),
    check("subscription_plans_interval_enum", oneOf(t.interval, BILLING_INTERVALS)),
    check("subscription_plans_intervalCount_range", integerBetween(t.intervalCount, 1, L.maxIntervalCount)),
    check("subscription_plans_trialDays_range", integerBetween(t.trialDays, 0, L.maxTrialDays)),
    check("subscription_plans_active_boolean", oneOf(t.active, [0, 1])),
    check("subscription_plans_createdAt_iso8601", isoTimestamp(t.createdAt)),
    check("subscription_plans_updatedAt_iso8601", isoTimestamp(t.updatedAt)),
  ],
);

export const userSubscriptions = sqliteTable(
  "user_subscriptions",
  {
    id: text("id").primaryKey().notNull(),
    userId: text("userId")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    planId: text("planId")
      .notNull()
      .references(() => subscriptionPlans.id, { onDelete: "restrict" }),
    status: text("status", { enum: SUBSCRIPTION_STATUSES }).notNull(),
    currentPeriodStart: text("currentPeriodStart").notNull(),
    currentPeriodEnd: text("currentPeriodEnd").notNull(),
    trialEndsAt: text("trialEndsAt"),
    cancelAtPeriodEnd: integer("cancelAtPeriodEnd").$type<0 | 1>().notNull(),
    canceledAt: text("canceledAt"),
    endedAt: text("endedAt"),
    provider: text("provider"),
    providerSubscriptionId: text("providerSubscriptionId"),
    createdAt: text("createdAt").notNull(),
    updatedAt: text("updatedAt").notNull(),
    // Added by 20261201110000_billing_cycle_anchor (always written; NULL only in SQLite's ALTER TABLE rules).
    billingCycleAnchor: text("billingCycleAnchor"),
  },
  (t) => [
    index("user_subscriptions_userId_createdAt_id_idx").on(t.userId, t.createdAt, t.id),
    index("user_subscriptions_planId_idx").on(t.planId),
    index("user_subscriptions_live_planId_idx").on(t.planId).where(noneOf(t.status, ENDED_SUBSCRIPTION_STATUSES)),
    // The scheduled engine's sweeps of due periods, oldest first.
    index("user_subscriptions_status_currentPeriodEnd_idx").on(t.status, t.currentPeriodEnd),
    uniqueIndex("user_subscriptions_live_unique")
      .on(t.userId, t.planId)
      .where(noneOf(t.status, ENDED_SUBSCRIPTION_STATUSES)),
    uniqueIndex("user_subscriptions_providerSubscriptionId_unique")
      .on(t.provider, t.providerSubscriptionId)
      .where(sql`${t.providerSubscriptionId} is not null`),
    check("user_subscriptions_id_length", lengthBetween(t.id, 1, L.idLength)),
    check("user_subscriptions_status_enum", oneOf(t.status, SUBSCRIPTION_STATUSES)),
    check("user_subscriptions_currentPeriodStart_iso8601", isoTimestamp(t.currentPeriodStart)),
    check("user_subscriptions_currentPeriodEnd_iso8601", isoTimestamp(t.currentPeriodEnd)),
    check("user_subscriptions_period_order", sql`${t.currentPeriodEnd} > ${t.currentPeriodStart}`),
    check("user_subscriptions_trialEndsAt_iso8601", isoTimestamp(t.trialEndsAt)),
    check("user_subscriptions_cancelAtPeriodEnd_boolean", oneOf(t.cancelAtPeriodEnd, [0, 1])),
    check("user_subscriptions_canceledAt_iso8601", isoTimestamp(t.canceledAt)),
    check("user_subscriptions_endedAt_iso8601", isoTimestamp(t.endedAt)),
    check("user_subscriptions_provider_format", providerName(t.provider)),
    check(
      "user_subscriptions_providerSubscriptionId_length",
      lengthBetween(t.providerSubscriptionId, 1, L.providerIdLength),
    ),
    check(
      "user_subscriptions_providerSubscriptionId_needs_provider",
      sql`${t.providerSubscriptionId} is null or ${t.provider} is not null`,
    ),
    check("user_subscriptions_createdAt_iso8601", isoTimestamp(t.createdAt)),
    check("user_subscriptions_updatedAt_iso8601", isoTimestamp(t.updatedAt)),
    check("user_subscriptions_billingCycleAnchor_iso8601", isoTimestamp(t.billingCycleAnchor)),
  ],
);

export const directDebitTokens = sqliteTable(
  "direct_debit_tokens",
  {
    id: text("id").primaryKey().notNull(),
    userId: text("userId")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    provider: text("provider").notNull(),
    tokenCiphertext: text("tokenCiphertext").notNull(),
    tokenKeyId: text("tokenKeyId").notNull(),
    tokenFingerprint: text("tokenFingerprint").notNull(),
    mandateReference: text("mandateReference"),
    accountLast4: text("accountLast4"),
    bankName: text("bankName"),
    status: text("status", { enum: DIRECT_DEBIT_TOKEN_STATUSES }).notNull(),
    isDefault: integer("isDefault").$type<0 | 1>().notNull(),
    createdAt: text("createdAt").notNull(),
    updatedAt: text("updatedAt").notNull(),
    revokedAt: text("revokedAt"),
    mandateEventAt: text("mandateEventAt"),
  },
  (t) => [
    index("direct_debit_tokens_userId_createdAt_id_idx").on(t.userId, t.createdAt, t.id),
    uniqueIndex("direct_debit_tokens_tokenFingerprint_live_unique")
      .on(t.provider, t.tokenFingerprint)
      .where(sql`${t.status} <> 'revoked'`),
    uniqueIndex("direct_debit_tokens_default_unique")
      .on(t.userId)
      .where(sql`${t.isDefault} = 1 and ${t.status} = 'active'`),
    check("direct_debit_tokens_id_length", lengthBetween(t.id, 1, L.idLength)),
    check("direct_debit_tokens_provider_format", providerName(t.provider)),
    check("direct_debit_tokens_tokenCiphertext_length", lengthBetween(t.tokenCiphertext, 1, L.tokenCiphertextLength)),
    check("direct_debit_tokens_tokenKeyId_length", lengthBetween(t.tokenKeyId, 1, L.tokenKeyIdLength)),
    check("direct_debit_tokens_tokenFingerprint_hex", sha256Hex(t.tokenFingerprint)),
    check("direct_debit_tokens_mandateReference_length", lengthBetween(t.mandateReference, 1, L.providerIdLength)),
    check("direct_debit_tokens_accountLast4_digits", sql`${t.accountLast4} glob '[0-9][0-9][0-9][0-9]'`),
    check("direct_debit_tokens_bankName_length", lengthBetween(t.bankName, 1, L.bankNameLength)),
    check("direct_debit_tokens_status_enum", oneOf(t.status, DIRECT_DEBIT_TOKEN_STATUSES)),
    check("direct_debit_tokens_isDefault_boolean", oneOf(t.isDefault, [0, 1])),
    check("direct_debit_tokens_createdAt_iso8601", isoTimestamp(t.createdAt)),
    check("direct_debit_tokens_updatedAt_iso8601", isoTimestamp(t.updatedAt)),
    check("direct_debit_tokens_revokedAt_iso8601", isoTimestamp(t.revokedAt)),
    check("direct_debit_tokens_revokedAt_when_revoked", sql`(${t.status} = 'revoked') = (${t.revokedAt} is not null)`),
    check("direct_debit_tokens_mandateEventAt_iso8601", isoTimestamp(t.mandateEventAt)),
  ],
);

export const paymentAttempts = sqliteTable(
  "payment_attempts",
  {
    id: text("id").primaryKey().notNull(),
    userId: text("userId")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    subscriptionId: text("subscriptionId").references(() => userSubscriptions.id, { onDelete: "cascade" }),
    directDebitTokenId: text("directDebitTokenId").references(() => directDebitTokens.id, { onDelete: "set null" }),
    amountMinor: integer("amountMinor").notNull(),
    currency: text("currency").notNull(),
    status: text("status", { enum: PAYMENT_ATTEMPT_STATUSES }).notNull(),
    attemptNumber: integer("attemptNumber").notNull(),
    idempotencyKey: text("idempotencyKey").notNull(),
    requestFingerprint: text("requestFingerprint").notNull(),
    provider: text("provider").notNull(),
    providerPaymentId: text("providerPaymentId"),
    failureCode: text("failureCode"),
    failureMessage: text("failureMessage"),
    nextRetryAt: text("nextRetryAt"),
    createdAt: text("createdAt").notNull(),
    updatedAt: text("updatedAt").notNull(),
    // 1: money arrived for a subscription that no longer collects, owed back (20261201110000_billing_cycle_anchor).
    refundDue: integer("refundDue").notNull().default(0),
    // Start of the period the attempt pays for: the subscription's currentPeriodEnd when it was created (20261202100000_payment_attempt_periods).
    periodStart: text("periodStart"),
    // The provider reported this attempt's money taken back, or that reversal cancelled (20261203100000_payment_attempt_reversals).
    reversal: text("reversal", { enum: PAYMENT_REVERSALS }),
    // Asking the provider to cancel a payment we set aside: due, then its answer (20261203110000_payment_attempt_provider_cancel).
    providerCancel: text("providerCancel", { enum: PROVIDER_CANCEL_STATES }),
    // When the provider says its newest money event about the payment happened (20261204100000_payment_attempt_money_event_at).
    moneyEventAt: text("moneyEventAt"),
    firstTriedAt: text("firstTriedAt"),
  },
  (t) => [
    uniqueIndex("payment_attempts_idempotencyKey_unique").on(t.userId, t.idempotencyKey),
    index("payment_attempts_userId_createdAt_idx").on(t.userId, t.createdAt, t.id),
    index("payment_attempts_subscriptionId_status_createdAt_idx").on(t.subscriptionId, t.status, t.createdAt),
    index("payment_attempts_directDebitTokenId_idx").on(t.directDebitTokenId),
    uniqueIndex("payment_attempts_providerPaymentId_unique")
      .on(t.provider, t.providerPaymentId)
      .where(sql`${t.providerPaymentId} is not null`),
    index("payment_attempts_nextRetryAt_idx").on(t.nextRetryAt).where(sql`${t.nextRetryAt} is not null`),
    check("payment_attempts_id_length", lengthBetween(t.id, 1, L.idLength)),
    check("payment_attempts_amountMinor_range", integerBetween(t.amountMinor, 1, L.maxAmountMinor)),
    check("payment_attempts_currency_iso4217", iso4217(t.currency)),
    check("payment_attempts_status_enum", oneOf(t.status, PAYMENT_ATTEMPT_STATUSES)),
    check("payment_attempts_attemptNumber_range", integerBetween(t.attemptNumber, 1, L.maxAttemptNumber)),
    check(
      "payment_attempts_idempotencyKey_format",
      sql`length(${t.idempotencyKey}) between 1 and ${sql.raw(String(L.idempotencyKeyLength))} and ${t.idempotencyKey} not glob '*[^!-~]*'`,
    ),
    check("payment_attempts_requestFingerprint_hex", sha256Hex(t.requestFingerprint)),
    check("payment_attempts_provider_format", providerName(t.provider)),
    check("payment_attempts_providerPaymentId_length", lengthBetween(t.providerPaymentId, 1, L.providerIdLength)),
    check("payment_attempts_failureCode_length", lengthBetween(t.failureCode, 1, L.failureCodeLength)),
    check("payment_attempts_failureMessage_length", lengthBetween(t.failureMessage, 1, L.failureMessageLength)),
    check("payment_attempts_nextRetryAt_iso8601", isoTimestamp(t.nextRetryAt)),
    check("payment_attempts_createdAt_iso8601", isoTimestamp(t.createdAt)),
    check("payment_attempts_updatedAt_iso8601", isoTimestamp(t.updatedAt)),
    check("payment_attempts_refundDue_boolean", oneOf(t.refundDue, [0, 1])),
    index("payment_attempts_refundDue_idx").on(t.createdAt).where(sql`${t.refundDue} = 1`),
    check("payment_attempts_periodStart_iso8601", isoTimestamp(t.periodStart)),
    // Exactly once per period and attempt number (a canceled attempt frees its number), at most one open attempt: the scheduled engine's guarantees.
    uniqueIndex("payment_attempts_subscriptionId_periodStart_attemptNumber_unique").on(t.subscriptionId, t.periodStart, t.attemptNumber).where(sql`${t.status} <> 'canceled'`),
    uniqueIndex("payment_attempts_open_subscriptionId_unique").on(t.subscriptionId).where(oneOf(t.status, OPEN_ATTEMPT_STATUSES)),
    // The period's highest attempt number, canceled ones included: numbers are never reused.
    index("payment_attempts_subscriptionId_periodStart_attemptNumber_idx").on(t.subscriptionId, t.periodStart, t.attemptNumber),
    check("payment_attempts_reversal_enum", oneOf(t.reversal, PAYMENT_REVERSALS)),
    check("payment_attempts_providerCancel_enum", oneOf(t.providerCancel, PROVIDER_CANCEL_STATES)),
    index("payment_attempts_providerCancel_due_idx").on(t.updatedAt).where(sql`${t.providerCancel} = 'due'`),
    check("payment_attempts_moneyEventAt_iso8601", isoTimestamp(t.moneyEventAt)),
    check("payment_attempts_firstTriedAt_iso8601", isoTimestamp(t.firstTriedAt)),
    // The engine's collection sweep: subscriptions that may owe an older, reversed period (20261204110000).
    index("payment_attempts_reversed_subscriptionId_periodStart_idx").on(t.subscriptionId, t.periodStart).where(sql`${t.reversal} = 'reversed'`),
  ],
);

/**
 * Processed provider webhook events (migrations/20261124140000_billing_webhook_events.ts,
 * owned by the billing API): one row per (provider, event id).
 */
export const billingWebhookEvents = sqliteTable(
  "billing_webhook_events",
  {
    id: text("id").primaryKey().notNull(),
    provider: text("provider").notNull(),
    eventId: text("eventId").notNull(),
    eventType: text("eventType").notNull(),
    outcome: text("outcome", { enum: WEBHOOK_EVENT_OUTCOMES }).notNull(),
    processedAt: text("processedAt").notNull(),
  },
  (t) => [
    uniqueIndex("billing_webhook_events_provider_eventId_unique").on(t.provider, t.eventId),
    check("billing_webhook_events_id_length", lengthBetween(t.id, 1, L.idLength)),
    check("billing_webhook_events_provider_format", providerName(t.provider)),
    check("billing_webhook_events_eventId_length", lengthBetween(t.eventId, 1, L.providerIdLength)),
    check("billing_webhook_events_eventType_length", lengthBetween(t.eventType, 1, L.webhookEventTypeLength)),
    check("billing_webhook_events_outcome_enum", oneOf(t.outcome, WEBHOOK_EVENT_OUTCOMES)),
    check("billing_webhook_events_processedAt_iso8601", isoTimestamp(t.processedAt)),
  ],
);

/** The customer the app created for a user at a provider (GoCardless `CU…`); mandates must belong to it. */
export const providerCustomers = sqliteTable(
  "provider_customers",
  {
    userId: text("userId")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    provider: text("provider").notNull(),
    customerId: text("customerId").notNull(),
    createdAt: text("createdAt").notNull(),
  },
  (t) => [
    primaryKey({ name: "provider_customers_pk", columns: [t.userId, t.provider] }),
    uniqueIndex("provider_customers_customerId_unique").on(t.provider, t.customerId),
    check("provider_customers_provider_format", providerName(t.provider)),
    check("provider_customers_customerId_length", lengthBetween(t.customerId, 1, L.providerIdLength)),
    check("provider_customers_createdAt_iso8601", isoTimestamp(t.createdAt)),
  ],
);
