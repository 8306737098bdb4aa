import type { DatabaseIntrospector, Kysely, SqliteAdapter } from "kysely";
import { D1Dialect } from "kysely-d1";
import { D1Adapter } from "./d1-adapter";
import { D1Introspector } from "./d1-introspector";

/**
 * kysely-d1's dialect with an introspector that skips D1's internal tables,
 * so `db.introspection` (and everything built on it) works on real D1, and
 * with an adapter that lets queries run concurrently (see {@link D1Adapter}).
 *
 * This is the request-path dialect, Better Auth's and ours: every query runs
 * immediately, with no lock between queries. (The migration runner has its
 * own batched dialect.)
 *
 * @example
 * ```ts
 * const db = new Kysely<DB>({ dialect: new ProjectD1Dialect({ database: env.DB }) })
 * ```
 */
export class ProjectD1Dialect extends D1Dialect {
  override createAdapter(): SqliteAdapter {
    return new D1Adapter();
  }

  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new D1Introspector(db);
  }
}
