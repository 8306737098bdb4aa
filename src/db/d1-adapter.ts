import { SqliteAdapter } from "kysely";

/**
 * SQLite's adapter for D1 on the request path: it tells Kysely that queries
 * may run concurrently.
 *
 * Kysely's `SqliteAdapter` says SQLite has one connection, so Kysely queues
 * every query of an instance behind one lock. A D1 "connection" is a stateless
 * handle over the binding (D1 orders statements itself, and there are no
 * interactive transactions to keep on one connection), so that lock protects
 * nothing. It does harm on Workers: an isolate serves many requests at once
 * through one Kysely, and when the runtime cancels a request mid-query (the
 * client went away), the lock it held is never released, and every later
 * query of the isolate waits forever ("the Worker's code had hung").
 *
 * @example
 * ```ts
 * class ProjectD1Dialect extends D1Dialect {
 *   override createAdapter() { return new D1Adapter() }
 * }
 * ```
 */
export class D1Adapter extends SqliteAdapter {
  override get supportsMultipleConnections(): boolean {
    return true;
  }
}
