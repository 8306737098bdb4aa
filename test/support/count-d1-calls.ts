import { env } from "cloudflare:workers";
import { afterAll, beforeAll } from "vitest";

/**
 * A profiling aid, not a test: with `COUNT_D1_CALLS=1` (see vitest.config.ts)
 * every worker test file prints one line with its D1 round trips, e.g.
 * `d1-calls test/worker/x.test.ts calls=120 statements=410`. Each call costs
 * workerd about a millisecond of CPU before the query itself, so the files
 * with the most calls are where a batch or one statement saves the most.
 *
 * @example
 * ```sh
 * COUNT_D1_CALLS=1 corepack pnpm exec vitest run --project worker | grep d1-calls
 * ```
 */
interface Counter {
  calls: number;
  statements: number;
  /** Nesting depth: a method that calls another (first() → all()) counts once. */
  depth: number;
}

const COUNTER = Symbol.for("count-d1-calls");
const holder = globalThis as { [COUNTER]?: Counter };

// The setup file runs before every file of one isolate: patch the prototypes once.
if (!holder[COUNTER]) {
  const counter: Counter = (holder[COUNTER] = { calls: 0, statements: 0, depth: 0 });
  const database = (env as unknown as { DB: D1Database }).DB;
  const count = (prototype: Record<string, unknown>, method: string, statements: (args: unknown[]) => number) => {
    const original = prototype[method] as (...args: unknown[]) => Promise<unknown>;
    prototype[method] = async function (this: unknown, ...args: unknown[]) {
      if (counter.depth > 0) return original.apply(this, args);
      counter.depth++;
      try {
        return await original.apply(this, args);
      } finally {
        counter.depth--;
        counter.calls++;
        counter.statements += statements(args);
      }
    };
  };
  const statementPrototype = Object.getPrototypeOf(database.prepare("select 1"));
  for (const method of ["first", "all", "run", "raw"]) count(statementPrototype, method, () => 1);
  const databasePrototype = Object.getPrototypeOf(database);
  count(databasePrototype, "batch", (args) => (args[0] as unknown[]).length);
  count(databasePrototype, "exec", () => 1);
}

let file = "";
// Vitest reads the first parameter as fixtures: it must be a destructuring pattern.
beforeAll(({}, suite) => {
  holder[COUNTER]!.calls = 0;
  holder[COUNTER]!.statements = 0;
  file = suite.file.name;
});
afterAll(() => {
  const { calls, statements } = holder[COUNTER]!;
  console.log(`d1-calls ${file} calls=${calls} statements=${statements}`);
});
