import type { Kysely } from "kysely";
import { createDb } from "./create-db";
import type { DB } from "./generated";

// One instance per binding: an isolate serves many requests with the same
// `env.DB`, and a Kysely costs a dialect, a driver, a compiler and plugins to
// build. Sharing it is safe because its adapter takes no lock (D1Adapter).
const dbByBinding = new WeakMap<D1Database, Kysely<DB>>();

/**
 * The request path's typed Kysely over a D1 binding, created once per isolate.
 * Scripts and tests that want a fresh instance use {@link createDb}.
 *
 * @example
 * ```ts
 * const plans = await listActivePlans(getDb(c.env.DB))
 * ```
 */
export function getDb(database: D1Database): Kysely<DB> {
  let db = dbByBinding.get(database);
  if (!db) {
    db = createDb(database);
    dbByBinding.set(database, db);
  }
  return db;
}
