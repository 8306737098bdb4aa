/**
 * Replaces each `?` placeholder with its value as a SQLite literal, so a
 * captured statement can be saved to a `.sql` file and run by
 * `wrangler d1 execute --file` or `sqlite3`.
 *
 * @example
 * ```ts
 * inlineParameters('insert into "t" ("a") values (?)', ["it's"]) // insert into "t" ("a") values ('it''s')
 * ```
 */
export function inlineParameters(sql: string, parameters: readonly unknown[]): string {
  let result = "";
  let next = 0;
  let quote: string | undefined;
  for (const char of sql) {
    if (quote) {
      // A doubled quote inside a literal closes and reopens it: same state either way.
      if (char === quote) quote = undefined;
      result += char;
    } else if (char === "'" || char === '"' || char === "`") {
      quote = char;
      result += char;
    } else if (char === "?") {
      if (next >= parameters.length) throw new Error(`statement has more placeholders than parameters: ${sql}`);
      result += toSqlLiteral(parameters[next++]);
    } else {
      result += char;
    }
  }
  if (next !== parameters.length) throw new Error(`statement has fewer placeholders than parameters: ${sql}`);
  return result;
}

/** One value as a SQLite literal. */
export function toSqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "boolean") return value ? "1" : "0";
  if (typeof value === "string") return `'${value.replaceAll("'", "''")}'`;
  if (value instanceof Date) return `'${value.toISOString()}'`;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return `X'${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}'`;
  }
  throw new Error(`cannot write a ${typeof value} as a SQL literal`);
}
