import { detached } from "./detached-target";

/** How long a call keeps retrying while another process holds the local D1 file. */
const WAIT_MS = 20_000;

/**
 * The local D1 binding, retrying each call that finds the database locked by
 * another process (`SQLITE_BUSY`; D1 reports it as "Failed to get session
 * commit token" or "database is locked").
 *
 * Two CLI runs (or a run and `wrangler dev`) against the same `--persist-to`
 * are two workerd processes on one SQLite file, and workerd does not wait for
 * a lock. A locked call did nothing (a batch is one transaction), so sending
 * it again is safe; the run that then finds the ledger moved reports "applied
 * by another run". Remote D1 serialises writes itself and never needs this.
 *
 * @example
 * ```ts
 * const db = target.remote ? proxy.env.DB : retryWhenBusy(proxy.env.DB)
 * ```
 */
export function retryWhenBusy(database: D1Database, waitMs = WAIT_MS): D1Database {
  const unwrapped = new WeakMap<object, D1PreparedStatement>();
  const retry = <T>(call: () => Promise<T>) => retrying(call, waitMs);
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const target = statement;
    const wrapped = new Proxy(detached<D1PreparedStatement>(), {
      has: (_, key) => key in target,
      get(_, key) {
        if (key === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        if (key === "run" || key === "all" || key === "first" || key === "raw") {
          return (...args: unknown[]) => retry(() => (target[key] as (...args: unknown[]) => Promise<unknown>).apply(target, args));
        }
        const value: unknown = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    unwrapped.set(wrapped, statement);
    return wrapped;
  };
  const target = database;
  return new Proxy(detached<D1Database>(), {
    // `in` too: Better Auth recognises a D1 binding by `"batch" in db`.
    has: (_, key) => key in target,
    get(_, key) {
      if (key === "prepare") return (sql: string) => wrap(target.prepare(sql));
      if (key === "batch") return (statements: D1PreparedStatement[]) => retry(() => target.batch(statements.map((statement) => unwrapped.get(statement) ?? statement)));
      if (key === "exec") return (sql: string) => retry(() => target.exec(sql));
      const value: unknown = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * Runs `call` again (with backoff, for up to 20 s) while it fails because
 * another process holds the local D1 file: also workerd's own start-up, which
 * opens the file and fails with SQLITE_BUSY when a second run starts while the
 * first one's batch holds it.
 *
 * @example
 * ```ts
 * const proxy = await whileBusy(() => wrangler.getPlatformProxy(options))
 * ```
 */
export function whileBusy<T>(call: () => Promise<T>, waitMs = WAIT_MS): Promise<T> {
  return retrying(call, waitMs);
}

async function retrying<T>(call: () => Promise<T>, waitMs: number): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
    try {
      return await call();
    } catch (error) {
      if (!isBusy(error) || Date.now() + delay > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
    }
  }
}

function isBusy(error: unknown): boolean {
  return /SQLITE_BUSY|database is locked|Failed to get session commit token/.test(error instanceof Error ? error.message : String(error));
}
