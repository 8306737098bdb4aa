/**
 * zod schemas for single billing columns, each stating one of the
 * migrations' column `CHECK`s, so input is refused with a readable message
 * before it reaches the database. The row schemas (src/db/row-schemas/) are
 * built from these; a test proves each row schema equals the one drizzle-zod
 * derives from the Drizzle table, refined by these.
 *
 * Written with `import * as z from "zod"` so only what is used ships in the
 * Worker; each schema is marked `@__PURE__` so that one no Worker code uses
 * (a timestamp, a fingerprint: columns the server writes itself) is dropped
 * from the bundle instead of being built at every isolate start.
 *
 * @example
 * ```ts
 * const when = isoTimestampSchema.parse(new Date().toISOString())
 * ```
 */
import * as z from "zod";
import { BILLING_LIMITS as L } from "./billing-limits";
import { isStorableText } from "./storable-text";

/**
 * Text of `min`–`max` characters without NUL, exactly as the database's
 * length CHECKs count it (see isStorableText), so a value accepted here is
 * never refused by D1 as a 500.
 */
export function chars(min: number, max: number) {
  return z.string().refine((value) => isStorableText(value, min, max), { message: `must be ${min}–${max} characters, without NUL` });
}

/** An id of a billing row. */
export const billingIdSchema = /* @__PURE__ */ chars(1, L.idLength);
/** A reference to a Better Auth `user.id` (the foreign key checks that it exists). */
export const userIdSchema = /* @__PURE__ */ z.string().min(1);

/**
 * A UTC instant exactly as `Date#toISOString()` writes it
 * (`2026-11-24T08:21:38.594Z`), on a real calendar day.
 */
export const isoTimestampSchema = /* @__PURE__ */ z.iso
  .datetime({ precision: 3 })
  .refine(
    (value) => {
      const date = new Date(value);
      return !Number.isNaN(date.getTime()) && date.toISOString() === value;
    },
    { message: "must be a real calendar instant" },
  );

/** An ISO-4217 currency code: three upper-case letters, e.g. `EUR`. */
export const currencySchema = /* @__PURE__ */ z.string().regex(/^[A-Z]{3}$/, "must be an ISO-4217 code such as EUR");
/** A plan's stable code: lower-case letters, digits and hyphens, e.g. `pro-monthly`. */
export const planCodeSchema = /* @__PURE__ */ z
  .string()
  .max(L.planCodeLength)
  .regex(/^[a-z0-9][a-z0-9-]*$/, "must be lower-case letters, digits and hyphens, e.g. pro-monthly");
/** A payment provider's name: a lower-case slug, e.g. `stripe`. */
export const providerSchema = /* @__PURE__ */ z
  .string()
  .max(L.providerLength)
  .regex(/^[a-z][a-z0-9_-]*$/, "must be a lower-case name such as stripe");
/** A lower-case hex SHA-256 digest (request fingerprints, keyed token fingerprints). */
export const sha256HexSchema = /* @__PURE__ */ z.string().regex(/^[0-9a-f]{64}$/, "must be a lower-case hex SHA-256 digest");
/**
 * 1–255 printable ASCII characters without spaces: an idempotency key (e.g. a
 * UUID), and a provider's token as the API accepts it.
 */
export const idempotencyKeySchema = /* @__PURE__ */ z
  .string()
  .max(L.idempotencyKeyLength)
  .regex(/^[!-~]+$/, "must be printable ASCII characters without spaces");
/** The last four digits of the debited account. */
export const accountLast4Schema = /* @__PURE__ */ z.string().regex(/^[0-9]{4}$/, "must be four digits");
/** A boolean as SQLite stores it. */
export const zeroOrOneSchema = /* @__PURE__ */ z.literal([0, 1]);

/** An amount in minor units (cents): a safe integer, at least `min`. */
export function amountMinor(min: number) {
  return z.int().min(min).max(L.maxAmountMinor);
}
