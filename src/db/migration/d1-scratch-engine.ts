import { mirroredSession, sharedMirror, type MirrorEngine, type RunAnalyser, type SharedMirror, type StatementFacts } from "./run-analyser";
import { quoteIdentifier } from "./sql-identifier";
import { splitStatements, tokenizeSql } from "./sql-tokens";

// Opcodes that write (besides a write `Transaction`); see sqlite3_stmt_readonly.
const WRITE_OPCODES = new Set(["Vacuum", "JournalMode", "Checkpoint", "IncrVacuum", "VUpdate"]);
const mirrors = new WeakMap<D1Database, SharedMirror>();

/**
 * The run analyser inside workerd: a scratch local D1 (an empty database of
 * its own, never the app's) holds the copy of the schema, and SQLite's
 * `EXPLAIN` of each statement says what it does: a write `Transaction` or
 * writing opcode (read vs write), `SetCookie` (a schema change), `DropTable`
 * with the table SQLite resolved (what it drops).
 *
 * One limit, which the SQLite-WASM analyser of the CLI does not have: D1 runs
 * every statement of a string, even behind `EXPLAIN`, so statements are
 * counted by the scanner in `sql-tokens.ts` before D1 sees the string.
 *
 * @example
 * ```ts
 * await runMigrations(env.DB, { verb: "latest" }, { migrations, analyser: d1ScratchAnalyser(env.MIGRATION_SCRATCH) })
 * ```
 */
export function d1ScratchAnalyser(scratch: D1Database): RunAnalyser {
  let shared = mirrors.get(scratch);
  if (!shared) mirrors.set(scratch, (shared = sharedMirror()));
  const engine = d1ScratchEngine(scratch);
  return { open: async (schema) => mirroredSession(engine, schema, shared) };
}

function d1ScratchEngine(scratch: D1Database): MirrorEngine {
  return {
    async inspect(sql, parameters): Promise<StatementFacts> {
      const statements = splitStatements(tokenizeSql(sql)).length;
      if (statements !== 1) return { statements, readonly: statements === 0, returnsRows: false, changesSchema: false, droppedTables: [] };
      let rows: Record<string, unknown>[];
      try {
        rows = (await scratch.prepare(`explain ${sql}`).bind(...parameters).all<Record<string, unknown>>()).results;
      } catch (error) {
        return { statements: 1, readonly: false, returnsRows: false, changesSchema: false, droppedTables: [], error: messageOf(error) };
      }
      const opcodes = rows.map((row) => ({ opcode: String(row.opcode), p2: Number(row.p2), p4: row.p4 }));
      const changesSchema = opcodes.some((op) => op.opcode === "SetCookie");
      return {
        statements: 1,
        readonly: !opcodes.some((op) => (op.opcode === "Transaction" && op.p2 !== 0) || WRITE_OPCODES.has(op.opcode)),
        // ALTER TABLE programs hold ResultRows of their own checks; a schema change never returns rows.
        returnsRows: !changesSchema && opcodes.some((op) => op.opcode === "ResultRow"),
        changesSchema,
        droppedTables: opcodes.filter((op) => op.opcode === "DropTable").map((op) => String(op.p4)),
      };
    },
    async run(sql, parameters) {
      await scratch.prepare(sql).bind(...parameters).run();
    },
    async runThenAll<T>(sql: string, parameters: readonly unknown[], then: string) {
      const [, read] = await scratch.batch<T>([scratch.prepare(sql).bind(...parameters), scratch.prepare(then)]);
      return read!.results;
    },
    async all<T>(sql: string) {
      return (await scratch.prepare(sql).all<T>()).results;
    },
    // D1 has no sqlite3_expanded_sql; the CLI's analyser renders statements.
    inlines: false,
    async inline() {
      return undefined;
    },
    async load(schema) {
      const { results } = await scratch
        .prepare(
          `select m.type as type, m.name as name,
             (select json_group_array(f."table") from pragma_foreign_key_list(m.name) f where m.type = 'table') as parents
           from sqlite_master m
           where m.type in ('table', 'view', 'trigger') and m.name not like 'sqlite\\_%' escape '\\' and m.name not like '\\_cf\\_%' escape '\\'`,
        )
        .all<{ type: string; name: string; parents: string | null }>();
      // One batch (each D1 call is a round trip): the drops, then the schema.
      const statements = ["pragma defer_foreign_keys = on", ...dropsInOrder(results), ...schema];
      await scratch.batch(statements.map((sql) => scratch.prepare(sql)));
    },
  };
}

/**
 * Drops for every object: triggers and views first (they name tables), then
 * children before their parents. The copy holds no rows, but D1 still
 * resolves a child's parent when dropping the child. `parents`: a JSON array
 * of the table's foreign-key parents.
 *
 * @example
 * ```ts
 * dropsInOrder([{ type: "table", name: "child", parents: '["parent"]' }, { type: "table", name: "parent", parents: "[]" }])
 * ```
 */
export function dropsInOrder(objects: { type: string; name: string; parents: string | null }[]): string[] {
  const drops = objects.filter((object) => object.type !== "table").map(({ type, name }) => `drop ${type} if exists ${quoteIdentifier(name)}`);
  let tables = objects
    .filter((object) => object.type === "table")
    .map(({ name, parents }) => ({ name, parents: (JSON.parse(parents ?? "[]") as string[]).map((parent) => parent.toLowerCase()) }));
  while (tables.length > 0) {
    const referenced = new Set(tables.flatMap((table) => table.parents.filter((parent) => parent !== table.name.toLowerCase())));
    const leaves = tables.filter((table) => !referenced.has(table.name.toLowerCase()));
    // A cycle of foreign keys: the rest in any order (the deferred check allows it).
    const next = leaves.length > 0 ? leaves : tables;
    drops.push(...next.map((table) => `drop table if exists ${quoteIdentifier(table.name)}`));
    tables = tables.filter((table) => !next.includes(table));
  }
  return drops;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
