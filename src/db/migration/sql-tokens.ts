// The one SQL scanner left, and only for the scratch-D1 analyser in workerd:
// D1 runs every statement of a string it is given, even behind EXPLAIN (and
// workerd fails internally when a later one changes the schema while the
// EXPLAIN is read), while workerd cannot compile SQLite-WASM to ask
// sqlite3_complete(). So the string is split here before D1 sees it. The CLI's
// analyser asks SQLite (sqlite3_prepare_v3's tail) and never uses this.
// Remove it when workerd can host an embedded SQLite.

/** One significant token of a SQL string (whitespace and comments are dropped). */
export interface SqlToken {
  /** `word`: a bare keyword or name, lower-cased; `literal`: a quoted string, name or blob; `symbol`: anything else. */
  kind: "word" | "literal" | "symbol";
  text: string;
  /** Parenthesis nesting depth (`(` and `)` carry the outer depth). */
  depth: number;
}

// Order matters: comments before the `-` and `/` symbols, quotes before words.
const TOKEN = /\s+|--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)|'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]]*\]?|[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*|[\d.]+(?:e[+-]?\d+)?|[\s\S]/giy;

/**
 * Splits SQL into its significant tokens, the way SQLite's tokenizer would as
 * far as the migration runner cares: string literals, quoted names and
 * comments never yield a keyword, a `;` or a parenthesis.
 *
 * @example
 * ```ts
 * tokenizeSql(`select ';' -- x`).map((token) => token.text) // ["select", "';'"]
 * ```
 */
export function tokenizeSql(sql: string): SqlToken[] {
  const tokens: SqlToken[] = [];
  let depth = 0;
  TOKEN.lastIndex = 0;
  for (let match = TOKEN.exec(sql); match; match = TOKEN.exec(sql)) {
    const text = match[0];
    const first = text[0]!;
    if (/\s/.test(first) || text.startsWith("--") || text.startsWith("/*")) continue;
    if (`'"\`[`.includes(first)) tokens.push({ kind: "literal", text, depth });
    else if (/[A-Za-z_\u0080-\uffff]/.test(first)) tokens.push({ kind: "word", text: text.toLowerCase(), depth });
    else if (text === "(") tokens.push({ kind: "symbol", text, depth: depth++ });
    else if (text === ")") tokens.push({ kind: "symbol", text, depth: (depth = Math.max(0, depth - 1)) });
    else tokens.push({ kind: "symbol", text, depth });
  }
  return tokens;
}

/**
 * Splits tokens into statements at each top-level `;`. A `CREATE TRIGGER`
 * body holds `;`s of its own: like SQLite's `sqlite3_complete()`, the trigger
 * ends only at a `;` that follows `; END` (or at the end of the text).
 *
 * @example
 * ```ts
 * splitStatements(tokenizeSql("select 1; drop table t;")).length // 2
 * ```
 */
export function splitStatements(tokens: readonly SqlToken[]): SqlToken[][] {
  const statements: SqlToken[][] = [];
  let current: SqlToken[] = [];
  for (const token of tokens) {
    const isEnd = token.text === ";" && (!isTrigger(current) || endsTriggerBody(current));
    if (!isEnd) current.push(token);
    else if (current.length > 0) {
      statements.push(current);
      current = [];
    }
  }
  if (current.length > 0) statements.push(current);
  return statements;
}

function isTrigger(statement: readonly SqlToken[]): boolean {
  const words = statement.slice(0, 3).map((token) => token.text);
  return words[0] === "create" && (words[1] === "trigger" || (["temp", "temporary"].includes(words[1]!) && words[2] === "trigger"));
}

function endsTriggerBody(statement: readonly SqlToken[]): boolean {
  return statement.at(-1)?.text === "end" && statement.at(-2)?.text === ";";
}
