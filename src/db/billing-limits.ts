/**
 * The billing tables' numeric rules (ranges and text lengths, in characters),
 * shared by the Drizzle `CHECK`s and the zod schemas. The migration keeps its
 * own frozen copy; the schema test fails when the two differ.
 *
 * @example
 * ```ts
 * z.int().min(1).max(BILLING_LIMITS.maxAttemptNumber)
 * ```
 */
export const BILLING_LIMITS = {
  /** Ids of billing rows (the application makes them, e.g. `crypto.randomUUID()`). */
  idLength: 64,
  planCodeLength: 64,
  planNameLength: 200,
  planDescriptionLength: 2000,
  /** Number.MAX_SAFE_INTEGER: larger amounts would lose precision in JavaScript. */
  maxAmountMinor: 9007199254740991,
  maxIntervalCount: 365,
  maxTrialDays: 365,
  maxAttemptNumber: 100,
  providerLength: 32,
  /** Provider-side ids: subscription, payment, mandate reference. */
  providerIdLength: 255,
  idempotencyKeyLength: 255,
  failureCodeLength: 64,
  failureMessageLength: 1000,
  /** A processed webhook event's `<resource>.<action>`. */
  webhookEventTypeLength: 100,
  tokenCiphertextLength: 4096,
  tokenKeyIdLength: 64,
  bankNameLength: 200,
} as const;
