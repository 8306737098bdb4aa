/**
 * Quotes a SQLite identifier (table or column name) with double quotes.
 *
 * @example
 * ```ts
 * quoteIdentifier('my "table"') // "my ""table"""
 * ```
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A text value as a SQLite string literal.
 *
 * @example
 * ```ts
 * quoteText("it's") // 'it''s'
 * ```
 */
export function quoteText(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * Whether two names denote the same SQLite object (SQLite folds ASCII case).
 *
 * @example
 * ```ts
 * sameName("User", "user") // true
 * ```
 */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * The name a SQLite identifier token stands for: strips `"…"`, `` `…` `` or
 * `[…]` quoting and undoes doubled quotes.
 *
 * @example
 * ```ts
 * unquoteIdentifier('"user"') // user
 * ```
 */
export function unquoteIdentifier(token: string): string {
  const first = token[0];
  const last = token[token.length - 1];
  if ((first === '"' && last === '"') || (first === "`" && last === "`")) {
    return token.slice(1, -1).replaceAll(`${first}${first}`, first);
  }
  if (first === "[" && last === "]") return token.slice(1, -1);
  return token;
}
