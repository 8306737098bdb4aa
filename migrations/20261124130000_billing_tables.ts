import { sql, type Kysely, type RawBuilder } from "kysely";

/**
 * Billing on top of Better Auth's `user`: a plan catalog, users'
 * subscriptions, direct-debit mandates (tokens) and payment attempts.
 *
 * Conventions follow Better Auth's tables: text ids, camelCase columns, 0/1
 * booleans, dates as ISO-8601 UTC text exactly as `Date#toISOString()` writes
 * them (`2026-11-24T08:21:38.594Z`, so they sort and compare as text). Money
 * is an integer amount in minor units next to an ISO-4217 currency. No SQL
 * defaults: the application states every value.
 *
 * Every enum, range and format is a named `CHECK`, so a bad row is refused
 * (with the rule's name in the error) even when application code is bypassed.
 * The enum lists below are a frozen copy on purpose: a migration must not
 * change meaning when application code changes later.
 */

const BILLING_INTERVALS = ["day", "week", "month", "year"];
const SUBSCRIPTION_STATUSES = [
  "incomplete",
  "incomplete_expired",
  "trialing",
  "active",
  "past_due",
  "unpaid",
  "paused",
  "canceled",
];
const PAYMENT_ATTEMPT_STATUSES = ["pending", "processing", "succeeded", "failed", "canceled"];
const DIRECT_DEBIT_TOKEN_STATUSES = ["pending", "active", "revoked", "failed", "expired"];

/** Number.MAX_SAFE_INTEGER: larger amounts would lose precision in JavaScript. */
const MAX_AMOUNT_MINOR = 9007199254740991;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("subscription_plans")
    .addColumn("id", "text", (col) => col.notNull().primaryKey())
    .addColumn("code", "text", (col) => col.notNull())
    .addColumn("name", "text", (col) => col.notNull())
    .addColumn("description", "text")
    .addColumn("amountMinor", "integer", (col) => col.notNull())
    .addColumn("currency", "text", (col) => col.notNull())
    .addColumn("interval", "text", (col) => col.notNull())
    .addColumn("intervalCount", "integer", (col) => col.notNull())
    .addColumn("trialDays", "integer", (col) => col.notNull())
    .addColumn("active", "integer", (col) => col.notNull())
    // A catalog row outlives the admin who created it.
    .addColumn("createdBy", "text", (col) => col.references("user.id").onDelete("set null"))
    .addColumn("createdAt", "text", (col) => col.notNull())
    .addColumn("updatedAt", "text", (col) => col.notNull())
    .addCheckConstraint("subscription_plans_id_length", lengthBetween("id", 1, 64))
    .addCheckConstraint(
      "subscription_plans_code_format",
      sql`length("code") between 1 and 64 and "code" glob '[a-z0-9]*' and "code" not glob '*[^a-z0-9-]*'`,
    )
    .addCheckConstraint("subscription_plans_name_length", lengthBetween("name", 1, 200))
    .addCheckConstraint("subscription_plans_description_length", lengthBetween("description", 1, 2000))
    .addCheckConstraint("subscription_plans_amountMinor_range", integerBetween("amountMinor", 0, MAX_AMOUNT_MINOR))
    .addCheckConstraint("subscription_plans_currency_iso4217", iso4217("currency"))
    .addCheckConstraint("subscription_plans_interval_enum", oneOf("interval", BILLING_INTERVALS))
    .addCheckConstraint("subscription_plans_intervalCount_range", integerBetween("intervalCount", 1, 365))
    .addCheckConstraint("subscription_plans_trialDays_range", integerBetween("trialDays", 0, 365))
    .addCheckConstraint("subscription_plans_active_boolean", oneOf("active", [0, 1]))
    .addCheckConstraint("subscription_plans_createdAt_iso8601", isoTimestamp("createdAt"))
    .addCheckConstraint("subscription_plans_updatedAt_iso8601", isoTimestamp("updatedAt"))
    .execute();
  // Checkout and seed scripts find a plan by its stable code; one plan per code.
  await db.schema.createIndex("subscription_plans_code_unique").unique().on("subscription_plans").column("code").execute();
  // Deleting a user sets createdBy to NULL on their plans: without this index
  // SQLite would scan the catalog on every user deletion.
  await db.schema.createIndex("subscription_plans_createdBy_idx").on("subscription_plans").column("createdBy").execute();

  await db.schema
    .createTable("user_subscriptions")
    .addColumn("id", "text", (col) => col.notNull().primaryKey())
    .addColumn("userId", "text", (col) => col.notNull().references("user.id").onDelete("cascade"))
    // A plan with subscribers must not vanish from under them.
    .addColumn("planId", "text", (col) => col.notNull().references("subscription_plans.id").onDelete("restrict"))
    .addColumn("status", "text", (col) => col.notNull())
    .addColumn("currentPeriodStart", "text", (col) => col.notNull())
    .addColumn("currentPeriodEnd", "text", (col) => col.notNull())
    .addColumn("trialEndsAt", "text")
    .addColumn("cancelAtPeriodEnd", "integer", (col) => col.notNull())
    .addColumn("canceledAt", "text")
    .addColumn("endedAt", "text")
    .addColumn("provider", "text")
    .addColumn("providerSubscriptionId", "text")
    .addColumn("createdAt", "text", (col) => col.notNull())
    .addColumn("updatedAt", "text", (col) => col.notNull())
    .addCheckConstraint("user_subscriptions_id_length", lengthBetween("id", 1, 64))
    .addCheckConstraint("user_subscriptions_status_enum", oneOf("status", SUBSCRIPTION_STATUSES))
    .addCheckConstraint("user_subscriptions_currentPeriodStart_iso8601", isoTimestamp("currentPeriodStart"))
    .addCheckConstraint("user_subscriptions_currentPeriodEnd_iso8601", isoTimestamp("currentPeriodEnd"))
    .addCheckConstraint("user_subscriptions_period_order", sql`"currentPeriodEnd" > "currentPeriodStart"`)
    .addCheckConstraint("user_subscriptions_trialEndsAt_iso8601", isoTimestamp("trialEndsAt"))
    .addCheckConstraint("user_subscriptions_cancelAtPeriodEnd_boolean", oneOf("cancelAtPeriodEnd", [0, 1]))
    .addCheckConstraint("user_subscriptions_canceledAt_iso8601", isoTimestamp("canceledAt"))
    .addCheckConstraint("user_subscriptions_endedAt_iso8601", isoTimestamp("endedAt"))
    .addCheckConstraint("user_subscriptions_provider_format", providerName("provider"))
    .addCheckConstraint("user_subscriptions_providerSubscriptionId_length", lengthBetween("providerSubscriptionId", 1, 255))
    .addCheckConstraint(
      "user_subscriptions_providerSubscriptionId_needs_provider",
      sql`"providerSubscriptionId" is null or "provider" is not null`,
    )
    .addCheckConstraint("user_subscriptions_createdAt_iso8601", isoTimestamp("createdAt"))
    .addCheckConstraint("user_subscriptions_updatedAt_iso8601", isoTimestamp("updatedAt"))
    .execute();
  // A user's subscriptions, newest first; also the CASCADE lookup when a user is deleted.
  await db.schema
    .createIndex("user_subscriptions_userId_createdAt_idx")
    .on("user_subscriptions")
    .columns(["userId", "createdAt"])
    .execute();
  // A plan's subscribers; also the RESTRICT check when a plan is deleted.
  await db.schema.createIndex("user_subscriptions_planId_idx").on("user_subscriptions").column("planId").execute();
  // At most one live (not ended) subscription per user and plan; answers "is
  // this user subscribed to this plan?". Ended ones are kept as history.
  await db.schema
    .createIndex("user_subscriptions_live_unique")
    .unique()
    .on("user_subscriptions")
    .columns(["userId", "planId"])
    .where(sql<boolean>`"status" not in ('canceled', 'incomplete_expired')`)
    .execute();
  // Provider webhooks find the subscription by the provider's id.
  await db.schema
    .createIndex("user_subscriptions_providerSubscriptionId_unique")
    .unique()
    .on("user_subscriptions")
    .columns(["provider", "providerSubscriptionId"])
    .where(sql<boolean>`"providerSubscriptionId" is not null`)
    .execute();

  await db.schema
    .createTable("direct_debit_tokens")
    .addColumn("id", "text", (col) => col.notNull().primaryKey())
    .addColumn("userId", "text", (col) => col.notNull().references("user.id").onDelete("cascade"))
    .addColumn("provider", "text", (col) => col.notNull())
    // Encrypted by the application; the plain token never reaches the database.
    .addColumn("tokenCiphertext", "text", (col) => col.notNull())
    .addColumn("tokenKeyId", "text", (col) => col.notNull())
    .addColumn("tokenFingerprint", "text", (col) => col.notNull())
    .addColumn("mandateReference", "text")
    .addColumn("accountLast4", "text")
    .addColumn("bankName", "text")
    .addColumn("status", "text", (col) => col.notNull())
    .addColumn("isDefault", "integer", (col) => col.notNull())
    .addColumn("createdAt", "text", (col) => col.notNull())
    .addColumn("updatedAt", "text", (col) => col.notNull())
    .addColumn("revokedAt", "text")
    .addCheckConstraint("direct_debit_tokens_id_length", lengthBetween("id", 1, 64))
    .addCheckConstraint("direct_debit_tokens_provider_format", providerName("provider"))
    .addCheckConstraint("direct_debit_tokens_tokenCiphertext_length", lengthBetween("tokenCiphertext", 1, 4096))
    .addCheckConstraint("direct_debit_tokens_tokenKeyId_length", lengthBetween("tokenKeyId", 1, 64))
    .addCheckConstraint("direct_debit_tokens_tokenFingerprint_hex", sha256Hex("tokenFingerprint"))
    .addCheckConstraint("direct_debit_tokens_mandateReference_length", lengthBetween("mandateReference", 1, 255))
    .addCheckConstraint("direct_debit_tokens_accountLast4_digits", sql`"accountLast4" glob '[0-9][0-9][0-9][0-9]'`)
    .addCheckConstraint("direct_debit_tokens_bankName_length", lengthBetween("bankName", 1, 200))
    .addCheckConstraint("direct_debit_tokens_status_enum", oneOf("status", DIRECT_DEBIT_TOKEN_STATUSES))
    .addCheckConstraint("direct_debit_tokens_isDefault_boolean", oneOf("isDefault", [0, 1]))
    .addCheckConstraint("direct_debit_tokens_createdAt_iso8601", isoTimestamp("createdAt"))
    .addCheckConstraint("direct_debit_tokens_updatedAt_iso8601", isoTimestamp("updatedAt"))
    .addCheckConstraint("direct_debit_tokens_revokedAt_iso8601", isoTimestamp("revokedAt"))
    .addCheckConstraint(
      "direct_debit_tokens_revokedAt_when_revoked",
      sql`("status" = 'revoked') = ("revokedAt" is not null)`,
    )
    .execute();
  // A user's mandates; also the CASCADE lookup when a user is deleted.
  await db.schema.createIndex("direct_debit_tokens_userId_idx").on("direct_debit_tokens").column("userId").execute();
  // The same mandate cannot be stored twice (the fingerprint is a keyed hash
  // of the plain token); also finds a token when the provider reports on it.
  await db.schema
    .createIndex("direct_debit_tokens_tokenFingerprint_unique")
    .unique()
    .on("direct_debit_tokens")
    .columns(["provider", "tokenFingerprint"])
    .execute();
  // At most one active default mandate per user; finds the one to charge.
  await db.schema
    .createIndex("direct_debit_tokens_default_unique")
    .unique()
    .on("direct_debit_tokens")
    .column("userId")
    .where(sql<boolean>`"isDefault" = 1 and "status" = 'active'`)
    .execute();

  await db.schema
    .createTable("payment_attempts")
    .addColumn("id", "text", (col) => col.notNull().primaryKey())
    .addColumn("userId", "text", (col) => col.notNull().references("user.id").onDelete("cascade"))
    // NULL for a one-off payment outside any subscription.
    .addColumn("subscriptionId", "text", (col) => col.references("user_subscriptions.id").onDelete("cascade"))
    // Revoking (deleting) a mandate keeps the payment history.
    .addColumn("directDebitTokenId", "text", (col) => col.references("direct_debit_tokens.id").onDelete("set null"))
    .addColumn("amountMinor", "integer", (col) => col.notNull())
    .addColumn("currency", "text", (col) => col.notNull())
    .addColumn("status", "text", (col) => col.notNull())
    .addColumn("attemptNumber", "integer", (col) => col.notNull())
    .addColumn("idempotencyKey", "text", (col) => col.notNull())
    .addColumn("requestFingerprint", "text", (col) => col.notNull())
    .addColumn("provider", "text", (col) => col.notNull())
    .addColumn("providerPaymentId", "text")
    .addColumn("failureCode", "text")
    .addColumn("failureMessage", "text")
    .addColumn("nextRetryAt", "text")
    .addColumn("createdAt", "text", (col) => col.notNull())
    .addColumn("updatedAt", "text", (col) => col.notNull())
    .addCheckConstraint("payment_attempts_id_length", lengthBetween("id", 1, 64))
    .addCheckConstraint("payment_attempts_amountMinor_range", integerBetween("amountMinor", 1, MAX_AMOUNT_MINOR))
    .addCheckConstraint("payment_attempts_currency_iso4217", iso4217("currency"))
    .addCheckConstraint("payment_attempts_status_enum", oneOf("status", PAYMENT_ATTEMPT_STATUSES))
    .addCheckConstraint("payment_attempts_attemptNumber_range", integerBetween("attemptNumber", 1, 100))
    // Printable ASCII without spaces, so "1–255 characters" means the same to every client.
    .addCheckConstraint(
      "payment_attempts_idempotencyKey_format",
      sql`length("idempotencyKey") between 1 and 255 and "idempotencyKey" not glob '*[^!-~]*'`,
    )
    .addCheckConstraint("payment_attempts_requestFingerprint_hex", sha256Hex("requestFingerprint"))
    .addCheckConstraint("payment_attempts_provider_format", providerName("provider"))
    .addCheckConstraint("payment_attempts_providerPaymentId_length", lengthBetween("providerPaymentId", 1, 255))
    .addCheckConstraint("payment_attempts_failureCode_length", lengthBetween("failureCode", 1, 64))
    .addCheckConstraint("payment_attempts_failureMessage_length", lengthBetween("failureMessage", 1, 1000))
    .addCheckConstraint("payment_attempts_nextRetryAt_iso8601", isoTimestamp("nextRetryAt"))
    .addCheckConstraint("payment_attempts_createdAt_iso8601", isoTimestamp("createdAt"))
    .addCheckConstraint("payment_attempts_updatedAt_iso8601", isoTimestamp("updatedAt"))
    .execute();
  // A retried request finds its earlier attempt by (user, key); one attempt
  // per key and user. Leads with userId, so it also serves the CASCADE lookup
  // when a user is deleted.
  await db.schema
    .createIndex("payment_attempts_idempotencyKey_unique")
    .unique()
    .on("payment_attempts")
    .columns(["userId", "idempotencyKey"])
    .execute();
  // A user's attempts, newest first (GET /api/billing/payment-attempts): one
  // search in index order, with the keyset cursor on (createdAt, id), no sort.
  await db.schema
    .createIndex("payment_attempts_userId_createdAt_idx")
    .on("payment_attempts")
    .columns(["userId", "createdAt", "id"])
    .execute();
  // A subscription's attempts in order; also the CASCADE lookup when a subscription is deleted.
  await db.schema
    .createIndex("payment_attempts_subscriptionId_attemptNumber_idx")
    .on("payment_attempts")
    .columns(["subscriptionId", "attemptNumber"])
    .execute();
  // The SET NULL lookup when a mandate is deleted; also "payments made with this mandate".
  await db.schema
    .createIndex("payment_attempts_directDebitTokenId_idx")
    .on("payment_attempts")
    .column("directDebitTokenId")
    .execute();
  // Provider webhooks find the attempt by the provider's payment id.
  await db.schema
    .createIndex("payment_attempts_providerPaymentId_unique")
    .unique()
    .on("payment_attempts")
    .columns(["provider", "providerPaymentId"])
    .where(sql<boolean>`"providerPaymentId" is not null`)
    .execute();
  // The retry scheduler: attempts whose next retry is due, earliest first.
  await db.schema
    .createIndex("payment_attempts_nextRetryAt_idx")
    .on("payment_attempts")
    .column("nextRetryAt")
    .where(sql<boolean>`"nextRetryAt" is not null`)
    .execute();
}

/**
 * Drops the billing tables, children first. Their rows go with them; the
 * migration runner refuses to drop non-empty tables unless forced.
 */
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("payment_attempts").execute();
  await db.schema.dropTable("direct_debit_tokens").execute();
  await db.schema.dropTable("user_subscriptions").execute();
  await db.schema.dropTable("subscription_plans").execute();
}

/** `column` is one of `values` (NULL passes: nullability is NOT NULL's job). */
function oneOf(column: string, values: readonly (string | number)[]): RawBuilder<unknown> {
  return sql`${sql.ref(column)} in (${sql.join(values.map((value) => sql.lit(value)))})`;
}

/** Text of `min`–`max` characters. */
function lengthBetween(column: string, min: number, max: number): RawBuilder<unknown> {
  return sql`length(${sql.ref(column)}) between ${sql.lit(min)} and ${sql.lit(max)}`;
}

/** A true integer (INTEGER affinity would keep 1.5 as a real) within bounds. */
function integerBetween(column: string, min: number, max: number): RawBuilder<unknown> {
  return sql`typeof(${sql.ref(column)}) = 'integer' and ${sql.ref(column)} between ${sql.lit(min)} and ${sql.lit(max)}`;
}

/** An ISO-4217 code: three upper-case ASCII letters. */
function iso4217(column: string): RawBuilder<unknown> {
  return sql`${sql.ref(column)} glob '[A-Z][A-Z][A-Z]' and length(${sql.ref(column)}) = 3`;
}

/** A lower-case slug naming a payment provider, e.g. `stripe`, `gocardless`. */
function providerName(column: string): RawBuilder<unknown> {
  const ref = sql.ref(column);
  return sql`length(${ref}) between 1 and 32 and ${ref} glob '[a-z]*' and ${ref} not glob '*[^a-z0-9_-]*'`;
}

/** A SHA-256 digest in lower-case hex. */
function sha256Hex(column: string): RawBuilder<unknown> {
  return sql`length(${sql.ref(column)}) = 64 and ${sql.ref(column)} not glob '*[^0-9a-f]*'`;
}

/**
 * Exactly `Date#toISOString()`'s shape and a real calendar instant:
 * re-formatting the value must give it back unchanged (so `2026-02-31…`,
 * `2026-11-24 08:21:38` or `now` are refused). `is` rather than `=` because
 * strftime of garbage is NULL, and a NULL check result would let the row pass.
 */
function isoTimestamp(column: string): RawBuilder<unknown> {
  return sql`strftime('%Y-%m-%dT%H:%M:%fZ', ${sql.ref(column)}) is ${sql.ref(column)}`;
}
