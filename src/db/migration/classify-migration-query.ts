import type { CompiledQuery } from "kysely";
import type { AnalysisSession } from "./run-analyser";

/**
 * Reads run at once (a migration may inspect the database); anything else is
 * buffered (as `data` or `index` when the builder's node says it changes no
 * table). A builder query is classified by its Kysely node; raw SQL by what
 * SQLite says about it (read = writes nothing and returns rows). Refuses what
 * one batch cannot honour: several statements in one query (D1's `prepare()`
 * runs them all, while the guards would see only the first), and a write that
 * returns rows (`RETURNING`: its rows do not exist until the batch).
 *
 * @example
 * ```ts
 * if ((await classifyMigrationQuery(compiledQuery, session)) !== "read") buffer.push(compiledQuery) // else run it now
 * ```
 */
export async function classifyMigrationQuery(compiledQuery: CompiledQuery, session: AnalysisSession): Promise<"read" | "write" | "data" | "index"> {
  const node = compiledQuery.query;
  if (node.kind === "SelectQueryNode") return "read";
  if (node.kind !== "RawNode") {
    if ("returning" in node && node.returning) throw returningError(compiledQuery.sql);
    return DATA_WRITES.has(node.kind) ? "data" : INDEX_WRITES.has(node.kind) ? "index" : "write";
  }
  const facts = await session.inspect(compiledQuery.sql, compiledQuery.parameters);
  if (facts.statements > 1) {
    throw new Error(
      `a migration sent several SQL statements in one query; D1 would run them all but the runner checks one: send each with its own query (${excerpt(compiledQuery.sql)})`,
    );
  }
  if (facts.error) return "write"; // the batch reports SQLite's error
  if (facts.returnsRows && facts.readonly) return "read";
  if (facts.returnsRows) throw returningError(compiledQuery.sql);
  return "write";
}

// Builder nodes that write rows and never change the schema.
const DATA_WRITES = new Set(["InsertQueryNode", "UpdateQueryNode", "DeleteQueryNode", "MergeQueryNode"]);
// Builder nodes that change the schema but no table.
const INDEX_WRITES = new Set(["CreateIndexNode", "DropIndexNode"]);

function returningError(sql: string): Error {
  return new Error(`a migration's write returns rows (RETURNING), but writes are buffered until the run's batch, so it would return none (${excerpt(sql)})`);
}

function excerpt(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}
