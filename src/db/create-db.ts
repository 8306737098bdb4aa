import { Kysely } from "kysely";
import { ProjectD1Dialect } from "./d1-dialect";
import type { DB } from "./generated";

/**
 * A typed Kysely instance over a D1 binding, for request handlers.
 *
 * @example
 * ```ts
 * const db = createDb(env.DB)
 * const user = await db.selectFrom("user").selectAll().where("id", "=", id).executeTakeFirst()
 * ```
 */
export function createDb(database: D1Database): Kysely<DB> {
  return new Kysely<DB>({ dialect: new ProjectD1Dialect({ database }) });
}
