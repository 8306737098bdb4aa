import type { DatabaseIntrospector, Kysely } from "kysely";
import { D1Dialect } from "kysely-d1";
import { D1Introspector } from "./d1-introspector";

/**
 * kysely-d1's dialect with an introspector that skips D1's internal tables,
 * so `db.introspection` (and everything built on it) works on real D1.
 *
 * This is the request-path dialect: every query runs immediately.
 *
 * @example
 * ```ts
 * const db = new Kysely<DB>({ dialect: new ProjectD1Dialect({ database: env.DB }) })
 * ```
 */
export class ProjectD1Dialect extends D1Dialect {
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new D1Introspector(db);
  }
}
