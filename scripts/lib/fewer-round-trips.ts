import { detached } from "./detached-target";

/**
 * The local D1 binding of `getPlatformProxy`, with fewer calls into workerd.
 *
 * Through the proxy, `prepare()` and `bind()` are each a synchronous round
 * trip to workerd (they return objects, not promises), and Kysely calls
 * `bind(...parameters)` even when there are none: a migration run of ~60
 * statements made ~150 of them, most of its CPU. Here a statement is only
 * text and values until it runs; then the remote statement for that text is
 * prepared once per binding (a prepared statement is immutable: `bind`
 * returns a new one), bound only when there are values, and run.
 * Same results and errors: D1 reports a bad statement when it runs, not when
 * it is prepared.
 *
 * @example
 * ```ts
 * const db = retryWhenBusy(fewerRoundTrips(proxy.env.DB))
 * ```
 */
export function fewerRoundTrips(database: D1Database): D1Database {
  const prepared = new Map<string, D1PreparedStatement>();
  const remote = (sql: string, values: unknown[]): D1PreparedStatement => {
    let statement = prepared.get(sql);
    if (!statement) {
      statement = database.prepare(sql);
      prepared.set(sql, statement);
    }
    return values.length > 0 ? statement.bind(...values) : statement;
  };
  const statements = new WeakMap<object, { sql: string; values: unknown[] }>();
  const statement = (sql: string, values: unknown[]): D1PreparedStatement => {
    const local = {
      bind: (...more: unknown[]) => statement(sql, more),
      // async: a value D1 refuses to bind rejects the call, as it would have thrown at bind().
      run: async () => remote(sql, values).run(),
      all: async () => remote(sql, values).all(),
      first: async (column?: string) => (column === undefined ? remote(sql, values).first() : remote(sql, values).first(column)),
      raw: async (options?: { columnNames?: boolean }) => remote(sql, values).raw(options as { columnNames: true }),
    } as unknown as D1PreparedStatement;
    statements.set(local, { sql, values });
    return local;
  };
  const target = database;
  // An empty target: see `detached` (a check per access would undo the savings).
  return new Proxy(detached<D1Database>(), {
    // `in` too: Better Auth recognises a D1 binding by `"batch" in db`.
    has: (_, key) => key in target,
    get(_, key) {
      if (key === "prepare") return (sql: string) => statement(sql, []);
      if (key === "batch") {
        return (batch: D1PreparedStatement[]) =>
          target.batch(
            batch.map((item) => {
              const local = statements.get(item);
              return local ? remote(local.sql, local.values) : item;
            }),
          );
      }
      const value: unknown = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
