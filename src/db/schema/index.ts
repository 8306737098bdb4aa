/**
 * Every table for Drizzle (auth and billing), in
 * one import (their Kysely row types: src/db/billing-rows.ts). The migrations
 * are the source of truth; these mirror them.
 *
 * @example
 * ```ts
 * import { drizzle } from "drizzle-orm/d1"
 * import * as schema from "./db/schema"
 * const db = drizzle(env.DB, { schema })
 * const rows = await db.select().from(schema.userSubscriptions).where(eq(schema.userSubscriptions.userId, id))
 * ```
 */
export * from "./auth";
export * from "./billing";
