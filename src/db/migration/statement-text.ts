import type { BufferedStatement } from "./batched-d1-dialect";

/**
 * A buffered statement as text to show or save: with its parameters inlined
 * by SQLite (`quote()`, placed by `sqlite3_expanded_sql`) when the run's
 * analyser rendered them, else the SQL followed by its parameters in a comment.
 *
 * @example
 * ```ts
 * console.log(`${statementText(statement)};`)
 * ```
 */
export function statementText(statement: BufferedStatement): string {
  if (statement.parameters.length === 0) return statement.sql;
  if (statement.inlined !== undefined) return statement.inlined;
  const shown = statement.parameters.map((value) => (typeof value === "bigint" ? value.toString() : value));
  return `${statement.sql}\n-- parameters: ${JSON.stringify(shown)}`;
}
