import sqlite3InitModule from "@sqlite.org/sqlite-wasm";

let loaded: ReturnType<typeof sqlite3InitModule> | undefined;

/**
 * Splits a SQL file into its statements the way the sqlite3 shell does: a
 * statement ends at the first `;` where SQLite's `sqlite3_complete()` says the
 * text so far is complete (so `;` inside strings, comments and trigger bodies
 * never split). Leading comments and the final `;` are dropped; statements of
 * only comments (drizzle-kit's `--> statement-breakpoint`) are skipped.
 *
 * @example
 * ```ts
 * await splitSql("create table t (a text default ';'); -- done") // ["create table t (a text default ';')"]
 * ```
 */
export async function splitSql(text: string): Promise<string[]> {
  const { capi } = await (loaded ??= sqlite3InitModule());
  const statements: string[] = [];
  let start = 0;
  for (let at = text.indexOf(";"); at !== -1; at = text.indexOf(";", at + 1)) {
    const candidate = text.slice(start, at + 1);
    if (!capi.sqlite3_complete(candidate)) continue;
    const statement = withoutLeadingComments(candidate.slice(0, -1));
    if (statement !== "") statements.push(statement);
    start = at + 1;
  }
  const rest = withoutLeadingComments(text.slice(start));
  if (rest !== "") statements.push(rest);
  return statements;
}

function withoutLeadingComments(text: string): string {
  let rest = text.trim();
  for (let previous = ""; previous !== rest; ) {
    previous = rest;
    rest = rest.replace(/^--[^\n]*(\n|$)/, "").replace(/^\/\*[\s\S]*?\*\//, "").trim();
  }
  return rest.trimEnd();
}
