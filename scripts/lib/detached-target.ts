/**
 * An empty target for a Proxy that wraps getPlatformProxy's bindings.
 * JavaScript checks every value a `get` trap returns against the target's own
 * property of that name; when the target is itself getPlatformProxy's proxy,
 * that check is a synchronous round trip to workerd, repeated on every access
 * (it caches only properties it finds, and `prepare`, `batch`… live on the
 * prototype): a third of a checksum replay's CPU. An empty object answers it
 * at no cost. The Proxy then needs a `has` trap too (`in` asks the target).
 *
 * @example
 * ```ts
 * new Proxy(detached<D1Database>(), { get: (_, key) => Reflect.get(database, key), has: (_, key) => key in database })
 * ```
 */
export function detached<T extends object>(): T {
  return Object.create(null) as T;
}
