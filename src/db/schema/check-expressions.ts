import { sql, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { BILLING_LIMITS } from "../billing-limits";

/**
 * The billing tables' `CHECK` expressions for Drizzle, written like the
 * migration writes them so a test can compare both texts. The migration
 * keeps its own frozen copy; these follow the application's enum lists.
 *
 * @example
 * ```ts
 * check("payment_attempts_currency_iso4217", iso4217(table.currency))
 * ```
 */

/** `column` is one of `values` (NULL passes: nullability is NOT NULL's job). */
export function oneOf(column: SQLiteColumn, values: readonly (string | number)[]): SQL {
  return sql`${column} in (${literalList(values)})`;
}

/** `column` is none of `values`. */
export function noneOf(column: SQLiteColumn, values: readonly (string | number)[]): SQL {
  return sql`${column} not in (${literalList(values)})`;
}

/** Text of `min`–`max` characters. */
export function lengthBetween(column: SQLiteColumn, min: number, max: number): SQL {
  return sql`length(${column}) between ${sql.raw(String(min))} and ${sql.raw(String(max))}`;
}

/** A true integer (INTEGER affinity would keep 1.5 as a real) within bounds. */
export function integerBetween(column: SQLiteColumn, min: number, max: number): SQL {
  return sql`typeof(${column}) = 'integer' and ${column} between ${sql.raw(String(min))} and ${sql.raw(String(max))}`;
}

/** An ISO-4217 code: three upper-case ASCII letters. */
export function iso4217(column: SQLiteColumn): SQL {
  return sql`${column} glob '[A-Z][A-Z][A-Z]' and length(${column}) = 3`;
}

/** A lower-case slug naming a payment provider, e.g. `stripe`, `gocardless`. */
export function providerName(column: SQLiteColumn): SQL {
  return sql`length(${column}) between 1 and ${sql.raw(String(BILLING_LIMITS.providerLength))} and ${column} glob '[a-z]*' and ${column} not glob '*[^a-z0-9_-]*'`;
}

/** A SHA-256 digest in lower-case hex. */
export function sha256Hex(column: SQLiteColumn): SQL {
  return sql`length(${column}) = 64 and ${column} not glob '*[^0-9a-f]*'`;
}

/** Exactly `Date#toISOString()`'s shape and a real calendar instant (see the migration). */
export function isoTimestamp(column: SQLiteColumn): SQL {
  return sql`strftime('%Y-%m-%dT%H:%M:%fZ', ${column}) is ${column}`;
}

function literalList(values: readonly (string | number)[]): SQL {
  const literals = values.map((value) => (typeof value === "number" ? String(value) : `'${value.replaceAll("'", "''")}'`));
  return sql.raw(literals.join(", "));
}
