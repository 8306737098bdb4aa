import { createQueryId, type Compilable, type CompiledQuery, type Kysely } from "kysely";

/**
 * A typed query whose SQL is compiled once per Kysely instance (so once per
 * isolate for `getDb`) and then run with each call's values: what Kysely's
 * "splitting query building and execution" recipe does (`.compile()`, then
 * `db.executeQuery(compiled)`), with the values swapped in by position.
 *
 * `build` receives a stand-in for each argument and must use every argument
 * as a plain value (`where(col, "=", arg)`), never to choose the query's
 * shape: the stand-ins are found again in the compiled parameters, and a
 * build that does not pass each one through as given (an argument unused,
 * transformed, or inlined into the SQL) is refused when it is first compiled
 * (a transform that happens to leave the stand-in unchanged cannot be seen:
 * keep builds to plain `where`/`limit` values). Types stay Kysely's: the rows are `build`'s result type.
 *
 * Why: building and compiling a query costs tens of microseconds of CPU per
 * call (more than the D1 round trip of a small indexed read locally); a hot
 * query with a fixed shape need not pay it again (docs/performance.md).
 *
 * @example
 * ```ts
 * const byUser = precompile((db: Kysely<DB>, userId: string) => db.selectFrom("user").selectAll().where("id", "=", userId))
 * const rows = await byUser(db, user.id)
 * ```
 */
export function precompile<DB, Args extends readonly unknown[], Row>(
  build: (db: Kysely<DB>, ...args: Args) => Compilable<Row>,
): (db: Kysely<DB>, ...args: Args) => Promise<Row[]> {
  const byDb = new WeakMap<Kysely<DB>, { compiled: CompiledQuery<Row>; sources: readonly number[] }>();
  return async (db, ...args) => {
    let entry = byDb.get(db);
    if (!entry) {
      entry = compileWithStandIns(db, build, args.length);
      byDb.set(db, entry);
    }
    const { compiled, sources } = entry;
    // A fresh query id per call, as `.compile()` would give: plugins key their state on it.
    const parameters = sources.map((source, index) => (source < 0 ? compiled.parameters[index] : args[source]));
    const { rows } = await db.executeQuery<Row>({ ...compiled, queryId: createQueryId(), parameters });
    return rows;
  };
}

/** Compiles `build` with a unique stand-in per argument; `sources[i]` = the argument of parameter i, or -1 for a constant. */
function compileWithStandIns<DB, Args extends readonly unknown[], Row>(
  db: Kysely<DB>,
  build: (db: Kysely<DB>, ...args: Args) => Compilable<Row>,
  arity: number,
): { compiled: CompiledQuery<Row>; sources: readonly number[] } {
  const tag = crypto.randomUUID();
  // Mixed case and edge spaces, so the usual transforms (case, trim, slice, + 1) change a stand-in and are caught.
  const standIns = Array.from({ length: arity }, (_, i) => ` \u0000Precompile:${tag}:${i} `);
  const compiled = build(db, ...(standIns as unknown as Args)).compile();
  const sources = compiled.parameters.map((value) => standIns.indexOf(value as string));
  for (let i = 0; i < arity; i++) {
    if (!sources.includes(i)) throw new Error(`precompile: argument ${i} is not a value of the compiled query; an argument may not shape the query`);
  }
  if (standIns.some((standIn) => compiled.sql.includes(standIn))) throw new Error("precompile: an argument was inlined into the SQL; pass it as a value");
  return { compiled, sources };
}
