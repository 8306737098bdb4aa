import { customType } from "drizzle-orm/sqlite-core";

/**
 * A column declared `date`, as Better Auth declares its timestamps, holding
 * ISO-8601 text. Drizzle's own column types cannot declare `date`, and the
 * declared type must match the migrated table exactly.
 *
 * @example
 * ```ts
 * createdAt: isoDate("createdAt").notNull()
 * ```
 */
export const isoDate = customType<{ data: string; driverData: string }>({
  dataType: () => "date",
});

/**
 * A column declared `bigint` (Better Auth's `rateLimit.lastRequest`, epoch
 * milliseconds), read as a JavaScript number like kysely-codegen types it.
 *
 * @example
 * ```ts
 * lastRequest: bigintNumber("lastRequest").notNull()
 * ```
 */
export const bigintNumber = customType<{ data: number; driverData: number }>({
  dataType: () => "bigint",
});
