/** One call the Worker made on the D1 binding, with what D1 reported. */
export interface D1Call {
  sql: string;
  params: unknown[];
  /** `batch()` calls carry one entry per statement; `rowsRead` is their sum. */
  statements: number;
  rowsRead: number;
  rowsReturned: number;
}

/**
 * The real D1 binding, wrapped so every call on it is recorded: each
 * `prepare(…).all()/first()/run()/raw()` and each `batch()` is one round
 * trip to D1, with D1's own `meta.rows_read`. Nothing is mocked: every call
 * goes to the real local database.
 *
 * @example
 * ```ts
 * const { database, calls } = recordingD1(env.DB)
 * await listActivePlans(createDb(database))
 * expect(calls[0]!.rowsRead).toBeLessThanOrEqual(calls[0]!.rowsReturned + 1)
 * ```
 */
export function recordingD1(real: D1Database): { database: D1Database; calls: D1Call[] } {
  const calls: D1Call[] = [];
  const record = (sql: string, params: unknown[], result: D1Result | D1Result[]) => {
    const results = Array.isArray(result) ? result : [result];
    calls.push({
      sql,
      params,
      statements: results.length,
      rowsRead: results.reduce((sum, one) => sum + (one.meta?.rows_read ?? 0), 0),
      rowsReturned: results.reduce((sum, one) => sum + (one.results?.length ?? 0), 0),
    });
  };
  // The real statement behind each wrapper, for batch() (which accepts only real ones).
  const realStatement = new WeakMap<D1PreparedStatement, D1PreparedStatement>();
  const wrap = (statement: D1PreparedStatement, sql: string, params: unknown[]): D1PreparedStatement => {
    const wrapper = new Proxy(statement, {
      get(target, property) {
        if (property === "bind") return (...values: unknown[]) => wrap(target.bind(...values), sql, values);
        if (property === "all" || property === "run") {
          return async () => {
            const result = await target[property]();
            record(sql, params, result);
            return result;
          };
        }
        if (property === "first") {
          return async (column?: string) => {
            const result = await target.all<Record<string, unknown>>();
            record(sql, params, result);
            const row = result.results[0];
            return row === undefined ? null : column === undefined ? row : row[column];
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    realStatement.set(wrapper, statement);
    return wrapper;
  };
  const database = new Proxy(real, {
    get(target, property) {
      if (property === "prepare") return (sql: string) => wrap(target.prepare(sql), sql, []);
      if (property === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const results = await target.batch(statements.map((statement) => realStatement.get(statement) ?? statement));
          record("batch", [], results);
          return results;
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { database, calls };
}
