import type { CompiledQuery } from "kysely";
import { splitStatements, tokenizeSql, type SqlToken } from "./sql-tokens";

/**
 * Reads run at once (a migration may inspect the database); anything else is
 * buffered. Refuses what one batch cannot honour: several statements in one
 * query (D1's `prepare()` runs them all, even after a `select`, while the
 * guards and error reports would see only the first), and a write with
 * `RETURNING` (its rows do not exist until the batch: it would return none).
 *
 * @example
 * ```ts
 * if (buffering && !isRead(compiledQuery)) buffer.push(compiledQuery) // else run it now
 * ```
 */
export function isRead(compiledQuery: CompiledQuery): boolean {
  const statements = splitStatements(tokenizeSql(compiledQuery.sql));
  if (statements.length > 1) {
    throw new Error(
      `a migration sent ${statements.length} SQL statements in one query; D1 would run them all but the runner checks one: send each with its own query (${excerpt(compiledQuery.sql)})`,
    );
  }
  const tokens = statements[0] ?? [];
  const verb = statementVerb(tokens);
  if (WRITE_VERBS.includes(verb) && tokens.some((token) => token.depth === 0 && token.text === "returning")) {
    throw new Error(
      `a migration's write uses RETURNING, but writes are buffered until the run's batch, so it would return no rows (${excerpt(compiledQuery.sql)})`,
    );
  }
  if (compiledQuery.query.kind === "SelectQueryNode") return true;
  if (compiledQuery.query.kind !== "RawNode") return false;
  return verb === "select" || verb === "values" || verb === "explain" || (verb === "pragma" && isReadingPragma(tokens));
}

const WRITE_VERBS = ["insert", "replace", "update", "delete"];

// Pragmas whose parenthesised argument names what to read about; for any
// other pragma `name(value)` sets it, like `name = value`.
const QUERY_PRAGMAS = new Set([
  "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
  "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check",
]);
// Pragmas that act even without an argument.
const ACTING_PRAGMAS = new Set(["optimize", "incremental_vacuum", "wal_checkpoint"]);

/** The statement's verb, lower-cased; for `WITH …` the verb of the statement the CTEs serve. */
function statementVerb(tokens: readonly SqlToken[]): string {
  const first = tokens[0]?.kind === "word" ? tokens[0].text : "";
  if (first !== "with") return first;
  const main = tokens.find((token) => token.depth === 0 && ["select", "values", ...WRITE_VERBS].includes(token.text));
  return main?.text ?? first;
}

/** `pragma [schema.]name`, or `pragma [schema.]name(table)` for a query pragma; not `= value`. */
function isReadingPragma(tokens: readonly SqlToken[]): boolean {
  const nameAt = tokens[2]?.text === "." ? 3 : 1;
  const name = tokens[nameAt]?.text ?? "";
  const next = tokens[nameAt + 1]?.text;
  if (next === undefined) return !ACTING_PRAGMAS.has(name);
  return next === "(" && QUERY_PRAGMAS.has(name);
}

function excerpt(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}
